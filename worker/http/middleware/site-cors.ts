import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { TtlCache } from "../../lib/ttl-cache";
import { sites } from "../../store/schema";
import type { AppEnv } from "../app-env";
import { keepAliveOf } from "../keep-alive";

/**
 * CORS limited to each site's allowed origins. The actual response gets
 * `Access-Control-Allow-Origin` only when the route has set `c.var.site` and the origin is one of
 * that site's. Preflights carry no site, so they are answered for origins that some site allows.
 */
const knownOrigins = new TtlCache<"all", Set<string>>("allowed origins");

async function anySiteAllows(c: Context<AppEnv>, origin: string): Promise<boolean> {
  try {
    const all = await knownOrigins.get(
      "all",
      c.var.config.configTtlMs,
      async () => {
        const rows = await c.var.db.select({ origins: sites.allowedOrigins }).from(sites);
        return new Set(rows.flatMap((r) => r.origins));
      },
      keepAliveOf(c),
    );
    return all.has(origin);
  } catch {
    return false;
  }
}

export const siteCors = createMiddleware<AppEnv>(async (c, next) => {
  const origin = c.req.header("origin");
  if (c.req.method === "OPTIONS") {
    c.header("Vary", "Origin");
    if (!origin || !(await anySiteAllows(c, origin))) return c.body(null, 403);
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Access-Control-Allow-Credentials", "true");
    c.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    c.header("Access-Control-Allow-Headers", "Content-Type");
    c.header("Access-Control-Max-Age", "600");
    return c.body(null, 204);
  }
  await next();
  c.res.headers.append("Vary", "Origin");
  const site = c.var.site;
  if (origin && site?.allowedOrigins.includes(origin)) {
    c.res.headers.set("Access-Control-Allow-Origin", origin);
    c.res.headers.set("Access-Control-Allow-Credentials", "true");
  }
});
