import { Hono } from "hono";
import { channelReport } from "../../channels/report";
import { decisionsByDay, performanceQuerySchema, performanceReport } from "../../events/report";
import { modelReport } from "../../models/report";
import { audit } from "../../store/audit";
import type { AppEnv } from "../app-env";
import { requireRole } from "../middleware/auth";
import { adminExperimentRoutes } from "./admin-experiments";
import { adminKeyRoutes } from "./admin-keys";
import { adminModelRoutes } from "./admin-models";
import { adminSiteRoutes } from "./admin-sites";
import { adminVariantRoutes } from "./admin-variants";
import { adminVisitorRoutes } from "./admin-visitors";
import { parseWith } from "./validate";

/** Admin endpoints: bearer `ADMIN_TOKEN` only; every action is audited. */
export const adminRoutes = new Hono<AppEnv>()
  .use(requireRole("admin"))
  .get("/reports/performance", async (c) => {
    const query = parseWith(performanceQuerySchema, c.req.query());
    const [rows, byDay, byChannel] = await Promise.all([
      performanceReport(c.var.db, query),
      decisionsByDay(c.var.db, query),
      channelReport(c.var.db, query),
    ]);
    await audit(c.var.db, { role: "admin", action: "admin.report.performance", target: query.site });
    return c.json({ site: query.site, from: query.from ?? null, to: query.to ?? null, rows, decisionsByDay: byDay, byChannel });
  })
  .get("/reports/models", async (c) => {
    const query = parseWith(performanceQuerySchema, c.req.query());
    const report = await modelReport(c.var.db, query);
    await audit(c.var.db, { role: "admin", action: "admin.report.models", target: query.site });
    return c.json(report);
  })
  .route("/models", adminModelRoutes)
  .route("/visitors", adminVisitorRoutes)
  .route("/", adminExperimentRoutes)
  .route("/", adminVariantRoutes)
  .route("/", adminSiteRoutes)
  .route("/", adminKeyRoutes);
