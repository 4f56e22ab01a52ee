import { z } from "zod";
import { withoutPathPrefix } from "./path-prefix";

/**
 * Host-based mounting: the worker on a site's own host, with a Workers route such as
 * `shop.example/*`. `EDGE_HOSTS` (a wrangler var, so that no schema change is needed) maps each
 * such host to its site id. On those hosts, requests under `PATH_PREFIX` reach the worker's own
 * routes (the tag, /v1/decide, /v1/events, /v1/consent: first-party) and every other request is
 * the site's, served by the edge-rewriting route exactly as `/edge/<site><path>` would be.
 */
const edgeHostsSchema = z.record(z.string(), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "values are site ids"));
/** As `URL.hostname` gives it: lower case, no port. */
const HOST_NAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

/** The public path under which the worker's own routes are mounted ("" at the root of a host of its own). */
export const mountPrefix = (prefix: string | undefined): string => (prefix && prefix !== "/" ? prefix : "");

/**
 * Validates `EDGE_HOSTS`; a mistake throws, so that a bad deploy fails loudly instead of serving the
 * wrong site. The console's host is never a site's: it serves the console alone (../middleware/console-host.ts).
 */
export function parseEdgeHosts(raw: string | undefined, prefix: string | undefined, consoleHost = ""): ReadonlyMap<string, string> {
  if (!raw?.trim()) return new Map();
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error('EDGE_HOSTS is not JSON: it maps host names to site ids, e.g. {"shop.example":"demo"}');
  }
  const parsed = edgeHostsSchema.safeParse(json);
  if (!parsed.success) throw new Error(`EDGE_HOSTS: ${z.prettifyError(parsed.error)}`);
  const hosts = new Map(Object.entries(parsed.data));
  const badHost = [...hosts.keys()].find((host) => !HOST_NAME.test(host));
  if (badHost !== undefined) throw new Error(`EDGE_HOSTS: "${badHost}" is not a host name (lower case, without port)`);
  // Without a prefix, the tag and the decision API would be indistinguishable from the site's own pages.
  if (hosts.size > 0 && !mountPrefix(prefix)) throw new Error("EDGE_HOSTS needs PATH_PREFIX: the worker's own routes live under it");
  const consoleName = consoleHost.trim().toLowerCase();
  if (consoleName && hosts.has(consoleName)) throw new Error(`EDGE_HOSTS: "${consoleName}" is CONSOLE_HOST, which serves only the console`);
  return hosts;
}

type MountVars = Pick<Env, "EDGE_HOSTS" | "PATH_PREFIX" | "CONSOLE_HOST">;
let parsed: { vars: MountVars; hosts: ReadonlyMap<string, string> } | undefined;

/** The request as the app routes it: a site host's page becomes `/edge/<site><path>`; the prefix is removed. */
export function mountedRequest(request: Request, env: MountVars): Request {
  // Parsed once per isolate: vars do not change while it lives.
  const { EDGE_HOSTS, PATH_PREFIX, CONSOLE_HOST } = env;
  const known = parsed?.vars;
  if (!parsed || known?.EDGE_HOSTS !== EDGE_HOSTS || known.PATH_PREFIX !== PATH_PREFIX || known.CONSOLE_HOST !== CONSOLE_HOST) {
    parsed = { vars: { EDGE_HOSTS, PATH_PREFIX, CONSOLE_HOST }, hosts: parseEdgeHosts(EDGE_HOSTS, PATH_PREFIX, CONSOLE_HOST) };
  }
  const url = new URL(request.url);
  const site = parsed.hosts.get(url.hostname);
  const prefix = mountPrefix(env.PATH_PREFIX);
  if (!site || url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)) return withoutPathPrefix(request, env.PATH_PREFIX);
  url.pathname = `/edge/${site}${url.pathname}`;
  return new Request(url, request);
}
