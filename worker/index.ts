import type { z } from "zod";
import { consumeEvents } from "./events/consumer";
import { app } from "./http/app";
import { mountedRequest } from "./http/mount";
import { startSiteSweep } from "./site/maintenance";
import type { logMaintenanceMessageSchema } from "./wire/events";

type LogMaintenance = z.infer<typeof logMaintenanceMessageSchema>;

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

export type { App } from "./http/app";
/** Durable Object classes are exported by the entry module (wrangler.toml binds them by name). */
export { VisitorState } from "./visitors/state";
