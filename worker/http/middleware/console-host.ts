import { createMiddleware } from "hono/factory";
import { ApiError } from "../../lib/errors";
import type { AppEnv } from "../app-env";

/**
 * The console has a host of its own (`CONSOLE_HOST` in wrangler.toml) and that host serves the
 * console and nothing else: no edge route, no demo pages, no API. Every page the edge route
 * serves is the origin's HTML, with whatever script it holds, on the host it was asked on; were
 * the console on that host too, such a script would share the console's origin and act with a
 * signed-in operator's session (read its pages, post its forms with their CSRF tokens). On a host
 * of its own the browser's same-origin policy keeps such a script out, and a host mapped to a site
 * (EDGE_HOSTS) can never be the console's (worker/rewrite/hosts.ts refuses it). The session cookie
 * is host-only (no Domain), so it never travels to the other hosts either.
 *
 * Compared by host name, without the port: cookies ignore ports, so a port is no boundary. Empty:
 * no console anywhere (the deployments' default until a console host is routed to the worker).
 */
export const isConsolePath = (path: string) => path === "/admin" || path.startsWith("/admin/");

export const consoleHostOnly = createMiddleware<AppEnv>(async (c, next) => {
  const consoleHost = c.env.CONSOLE_HOST?.trim().toLowerCase() ?? "";
  const url = new URL(c.req.url);
  const onConsoleHost = consoleHost !== "" && url.hostname === consoleHost;
  const consolePath = isConsolePath(url.pathname);
  if (onConsoleHost && !consolePath)
    throw new ApiError(404, "console_host", `${url.hostname} serves only the console (/admin); the API and the sites are on other hosts`);
  if (!onConsoleHost && consolePath) throw new ApiError(404, "not_found", "no console on this host");
  await next();
});
