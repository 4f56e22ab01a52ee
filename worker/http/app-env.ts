import type { Catalogue } from "../site/catalogue";
import type { Database } from "../store/db";
import type { TokenRole } from "../store/schema";

/** Hono's environment: bindings from wrangler.toml (worker/env.d.ts) and per-request variables. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    db: Database;
    /** Set once the request's site is known, for CORS. */
    site?: Catalogue["site"];
    /** The verified visitor id of this request, once read (worker/http/cookies.ts). */
    visitorId?: string | null;
    /** The role of an authenticated admin or privacy request (worker/http/middleware/auth.ts). */
    role?: TokenRole;
  };
};

/** A numeric `[vars]` entry, with a default when it is missing or not a number. */
export function numericVar(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(n) ? n : fallback;
}
