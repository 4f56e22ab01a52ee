import { Hono } from "hono";
import type { AppEnv } from "./app-env";
import { errorResponse } from "./errors";
import { consumeEvents } from "./events/consumer";
import { consoleHostOnly } from "./middleware/console-host";
import { withDb } from "./middleware/db";
import { retryPendingErasures } from "./privacy/erasure";
import { mountedRequest } from "./rewrite/hosts";
import { adminRoutes } from "./routes/admin";
import { consentRoutes } from "./routes/consent";
import { consoleRoutes } from "./routes/console";
import { decideRoutes } from "./routes/decide";
import { demoRoutes } from "./routes/demo";
import { edgeRoutes } from "./routes/edge";
import { eventRoutes } from "./routes/events";
import { healthRoutes } from "./routes/health";
import { privacyRoutes } from "./routes/privacy";
import { tagRoutes } from "./routes/tag";
import { whyRoutes } from "./routes/why";
import { refreshAllSnapshots } from "./store/catalogue";
import { createDb } from "./store/db";

const app = new Hono<AppEnv>()
  .use(consoleHostOnly)
  .use(withDb)
  .route("/health", healthRoutes)
  .route("/v1", tagRoutes)
  .route("/v1/decide", decideRoutes)
  .route("/v1/events", eventRoutes)
  .route("/v1/consent", consentRoutes)
  .route("/v1/why", whyRoutes)
  .route("/v1/privacy", privacyRoutes)
  .route("/v1/admin", adminRoutes)
  .route("/admin", consoleRoutes)
  .route("/edge", edgeRoutes)
  .route("/demo", demoRoutes)
  .notFound((c) => c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404))
  .onError((err, c) => errorResponse(c, err));

export default {
  fetch: (request, env, ctx) => app.fetch(mountedRequest(request, env), env, ctx),
  queue: (batch, env) => consumeEvents(batch, env),
  /** Keeps the KV catalogue snapshots fresh and finishes erasures that did not complete. */
  scheduled: async (_controller, env) => {
    const db = createDb(env.DB);
    await Promise.allSettled([refreshAllSnapshots(db, env.CONFIG), retryPendingErasures(db, env.PROFILES)]);
  },
} satisfies ExportedHandler<Env>;

export type App = typeof app;
