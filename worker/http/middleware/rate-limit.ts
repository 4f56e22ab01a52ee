import { createMiddleware } from "hono/factory";
import { ApiError } from "../../lib/errors";
import type { AppEnv } from "../app-env";
import { readVisitorId } from "../cookies";

type LimiterBinding = "DECIDE_RATE_LIMITER" | "EVENTS_RATE_LIMITER";

/**
 * Per-client and per-visitor limits with the Workers rate-limiting binding (Miniflare runs the
 * same binding locally). The client key is the connecting address, used only as a counter key by
 * the platform and never stored or logged.
 */
export const rateLimit = (binding: LimiterBinding) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const limiter = c.env[binding] as RateLimit | undefined;
    if (limiter) {
      const client = c.req.header("cf-connecting-ip") ?? "local";
      const visitor = await readVisitorId(c);
      const keys = [`client:${client}`, ...(visitor ? [`visitor:${visitor}`] : [])];
      const outcomes = await Promise.all(keys.map((key) => limiter.limit({ key })));
      if (outcomes.some((o) => !o.success)) throw new ApiError(429, "rate_limited", "too many requests; slow down");
    }
    await next();
  });
