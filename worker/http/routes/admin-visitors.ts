import { Hono } from "hono";
import { audit } from "../../store/audit";
import { visitorStore } from "../../visitors/client";
import { IMPORT_MAX, importVisitors, visitorImportSchema } from "../../visitors/import";
import type { AppEnv } from "../app-env";
import { jsonBody, limitBody, parseWith } from "./validate";

/**
 * Visitors' Durable Objects from outside the request path (bearer `ADMIN_TOKEN`, under
 * /v1/admin): up to 100 tombstones and 100 profiles per call, as the seeding, loading and
 * migration scripts send them (worker/visitors/import.ts). Audited with the counts only.
 */
export const adminVisitorRoutes = new Hono<AppEnv>().post("/import", limitBody(IMPORT_MAX * 64 * 1024), async (c) => {
  const input = parseWith(visitorImportSchema, await jsonBody(c));
  const result = await importVisitors(c.var.db, visitorStore(c.env, c.var.config), input, Date.now());
  await audit(c.var.db, {
    role: "admin",
    action: "admin.visitors.import",
    target: `${result.imported} profiles, ${result.tombstones} tombstones, ${result.refused.length} refused`,
  });
  return c.json(result);
});
