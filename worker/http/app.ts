import { Hono } from "hono";
import type { AppEnv } from "./app-env";
import { consoleRoutes } from "./console/app";
import { errorResponse } from "./error-response";
import { consoleHostOnly } from "./middleware/console-host";
import { withServices } from "./middleware/services";
import { adminRoutes } from "./routes/admin";
import { consentRoutes } from "./routes/consent";
import { decideRoutes } from "./routes/decide";
import { demoRoutes } from "./routes/demo";
import { edgeRoutes } from "./routes/edge";
import { emailRoutes } from "./routes/email";
import { eventRoutes } from "./routes/events";
import { healthRoutes } from "./routes/health";
import { identityRoutes } from "./routes/identity";
import { openapiRoutes } from "./routes/openapi";
import { privacyRoutes } from "./routes/privacy";
import { tagRoutes } from "./routes/tag";
import { whyRoutes } from "./routes/why";

/**
 * Every HTTP route of the worker, in one table of contents. The OpenAPI document
 * (./openapi/operations.ts) describes each of them; a test walks `app.routes` against it.
 */
export const app = new Hono<AppEnv>()
  .use(consoleHostOnly)
  .use(withServices)
  .route("/", openapiRoutes)
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

export type App = typeof app;
