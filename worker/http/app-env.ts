import type { ApiKeyGrant } from "../channels/api-keys";
import type { Config } from "../lib/config";
import type { Catalogue } from "../site/catalogue";
import type { Database } from "../store/db";
import type { TokenRole } from "../store/schema";
import type { ConsoleSession } from "./console/session-schema";

/** Hono's environment: bindings from wrangler.toml (worker/env.d.ts) and per-request variables. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    db: Database;
    /** The worker's `[vars]`, typed and validated once per isolate (worker/lib/config.ts). */
    config: Config;
    /** Set once the request's site is known, for CORS. */
    site?: Catalogue["site"];
    /** The verified visitor id of this request, once read (worker/http/cookies.ts). */
    visitorId?: string | null;
    /** The console's session of this request, once read (worker/http/console/guard.ts); null without one. */
    session?: ConsoleSession | null;
    /** A console post's form, parsed once and checked for its CSRF token (worker/http/console/guard.ts). */
    form?: Record<string, unknown>;
    /** The role of an authenticated admin or privacy request (worker/http/middleware/auth.ts). */
    role?: TokenRole;
    /** The verified API key of a server or app call (worker/http/middleware/api-key.ts). */
    apiKey?: ApiKeyGrant;
  };
};
