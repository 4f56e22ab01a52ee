import { Hono } from "hono";
import type { z } from "zod";
import { consumeEvents } from "./events/consumer";
import type { AppEnv } from "./http/app-env";
import { consoleRoutes } from "./http/console/app";
import { errorResponse } from "./http/error-response";
import { consoleHostOnly } from "./http/middleware/console-host";
import { withServices } from "./http/middleware/services";
import { mountedRequest } from "./http/mount";
import { adminRoutes } from "./http/routes/admin";
import { consentRoutes } from "./http/routes/consent";
import { decideRoutes } from "./http/routes/decide";
import { demoRoutes } from "./http/routes/demo";
import { edgeRoutes } from "./http/routes/edge";
import { emailRoutes } from "./http/routes/email";
import { eventRoutes } from "./http/routes/events";
import { healthRoutes } from "./http/routes/health";
import { identityRoutes } from "./http/routes/identity";
import { privacyRoutes } from "./http/routes/privacy";
import { tagRoutes } from "./http/routes/tag";
import { whyRoutes } from "./http/routes/why";
import { startSiteSweep } from "./site/maintenance";
import type { logMaintenanceMessageSchema } from "./wire/events";

type LogMaintenance = z.infer<typeof logMaintenanceMessageSchema>;

const app = new Hono<AppEnv>()
  .use(consoleHostOnly)
  .use(withServices)
  .route("/health", healthRoutes)
  .route("/v1", tagRoutes)
  .route("/v1/decide", decideRoutes)
  .route("/v1/events", eventRoutes)
  .route("/v1/consent", consentRoutes)
  .route("/v1/identity", identityRoutes)
  .route("/v1/email", emailRoutes)
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
  /**
   * Keeps the KV catalogue snapshots fresh, and runs the raw log's retention and erasure pass (which
   * then sends pending erasures back on the queue), both through the queue: a handful of
   * subrequests however many sites and files there are (worker/site/maintenance.ts, the consumer).
   */
  scheduled: async (controller, env) => {
    const logMaintenance: LogMaintenance = { type: "log-maintenance", at: controller.scheduledTime };
    await Promise.allSettled([startSiteSweep(env.EVENTS), env.EVENTS.send(logMaintenance, { contentType: "json" })]);
  },
} satisfies ExportedHandler<Env>;

export type App = typeof app;
/** Durable Object classes are exported by the entry module (wrangler.toml binds them by name). */
export { VisitorState } from "./visitors/state";
