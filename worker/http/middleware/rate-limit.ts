import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../../lib/errors";
import type { AppEnv } from "../app-env";
import { readVisitorId } from "../cookies";

type LimiterBinding = "DECIDE_RATE_LIMITER" | "EVENTS_RATE_LIMITER";

/** A server's call counts against its API key (one server speaks for many people); a browser's against its address and visitor id. */
async function limitKeys(c: Context<AppEnv>): Promise<string[]> {
  const apiKey = c.get("apiKey");
  if (apiKey) return [`key:${apiKey.id}`];
  const client = c.req.header("cf-connecting-ip") ?? "local";
  const visitor = await readVisitorId(c);
  return [`client:${client}`, ...(visitor ? [`visitor:${visitor}`] : [])];
}

/**
 * Per-client, per-visitor and per-key limits with the Workers rate-limiting binding (Miniflare runs the
 * same binding locally). The client key is the connecting address, used only as a counter key by
 * the platform and never stored or logged.
 */
export const rateLimit = (binding: LimiterBinding) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const limiter = c.env[binding] as RateLimit | undefined;
    if (limiter) {
      const keys = await limitKeys(c);
      const outcomes = await Promise.all(keys.map((key) => limiter.limit({ key })));
      if (outcomes.some((o) => !o.success)) throw new ApiError(429, "rate_limited", "too many requests; slow down");
    }
    await next();
  });
