import type { Context } from "hono";
import type { KeepAlive } from "../lib/ttl-cache";

/**
 * The request's `waitUntil`, for work that runs after the answer (an isolate cache's refresh).
 * Without an execution context (Hono's `app.request()` with none) there is none, and the isolate
 * caches read in the request instead.
 */
export function keepAliveOf(c: Context): KeepAlive | undefined {
  let ctx: Context["executionCtx"];
  try {
    ctx = c.executionCtx;
  } catch {
    return undefined;
  }
  return (p) => ctx.waitUntil(p);
}
