import { TtlCache } from "../lib/ttl-cache";
import type { ServingConfig } from "./config";

/** This isolate's copy of the serving config (./serving.ts reads it once per `CONFIG_TTL_MS`). */
export const servingConfigCache = new TtlCache<"serving", ServingConfig>("serving config");

/**
 * Drops this isolate's copy after a change it published (as the catalogue's is dropped after an
 * edit): the isolate that answered the admin serves the change at once, the others within the TTL
 * (twice it at most on an idle isolate, worker/lib/ttl-cache.ts).
 */
export function forgetServingConfig(): void {
  servingConfigCache.forget("serving");
}
