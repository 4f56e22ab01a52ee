import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { ApiError } from "../../lib/errors";
import { revokeSubject } from "../../privacy/erasure";
import { exportSubject } from "../../privacy/export";
import { auditListSchema, consentListSchema, listAudit, listConsent, listRequests, requestListSchema } from "../../privacy/lists";
import { audit } from "../../store/audit";
import { privacyRequests } from "../../store/schema";
import { visitorStore } from "../../visitors/client";
import { revocationRequestSchema } from "../../wire/consent";
import type { AppEnv } from "../app-env";
import { requireRole } from "../middleware/auth";
import { privacyCustomerRoutes } from "./privacy-customers";
import { jsonBody, limitBody, parseWith } from "./validate";

/** The privacy team's endpoints: bearer `PRIVACY_TOKEN` only; every action is audited. */
export const privacyRoutes = new Hono<AppEnv>()
  .use(requireRole("privacy"))
  .post("/revocations", limitBody(4096), async (c) => {
    const { subjectId, reason } = parseWith(revocationRequestSchema, await jsonBody(c));
    const { requestId } = await revokeSubject(c.var.db, c.env.EVENTS, visitorStore(c.env, c.var.config), {
      subjectId,
      reason,
      role: "privacy",
    });
    return c.json({ requestId }, 202);
  })
  .route("/customers", privacyCustomerRoutes)
  // Lists, newest first, with the console's filters (worker/privacy/lists.ts); each read is audited.
  .get("/requests", async (c) => {
    const filter = parseWith(requestListSchema, c.req.query());
    await audit(c.var.db, { role: "privacy", action: "privacy.requests.list", target: null });
    return c.json({ requests: await listRequests(c.var.db, filter) });
  })
  .get("/consent-log", async (c) => {
    const filter = parseWith(consentListSchema, c.req.query());
    await audit(c.var.db, { role: "privacy", action: "privacy.consent_log.list", target: null });
    return c.json({ records: await listConsent(c.var.db, filter) });
  })
  .get("/audit-log", async (c) => {
    const filter = parseWith(auditListSchema, c.req.query());
    await audit(c.var.db, { role: "privacy", action: "privacy.audit_log.list", target: null });
    return c.json({ entries: await listAudit(c.var.db, filter) });
  })
  .get("/requests/:id", async (c) => {
    const id = c.req.param("id");
    const [request] = await c.var.db.select().from(privacyRequests).where(eq(privacyRequests.id, id)).limit(1);
    if (!request) throw new ApiError(404, "unknown_request", `no privacy request "${id}"`, "id");
    await audit(c.var.db, { role: "privacy", action: "privacy.request.read", target: id });
    return c.json({
      requestId: request.id,
      kind: request.kind,
      status: request.status,
      createdAt: request.createdAt.toISOString(),
      completedAt: request.completedAt?.toISOString() ?? null,
    });
  })
  .get("/subjects/:id/export", async (c) => {
    const exported = await exportSubject(
      c.var.db,
      visitorStore(c.env, c.var.config),
      { bucket: c.env.LOG, sink: c.var.config.logSink },
      c.req.param("id"),
      { role: "privacy", field: "id" },
    );
    c.header("Cache-Control", "no-store");
    return c.json(exported);
  });
