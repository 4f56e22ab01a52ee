import { Hono } from "hono";
import { customerSubject } from "../../channels/customers";
import { exportCustomer, revokeCustomer } from "../../channels/links";
import { visitorStore } from "../../visitors/client";
import { customerSubjectRequestSchema } from "../../wire/channels";
import type { AppEnv } from "../app-env";
import { jsonBody, limitBody, parseWith } from "./validate";

/**
 * The privacy team's requests by customer id (mounted under /v1/privacy, bearer `PRIVACY_TOKEN`):
 * the id travels in a POST body, never in a URL, and is hashed with its site's key at once.
 * Revocation covers the customer and every device linked to them; the export lists the links.
 */
export const privacyCustomerRoutes = new Hono<AppEnv>()
  .post("/revocations", limitBody(4096), async (c) => {
    const { site, customerId, reason } = parseWith(customerSubjectRequestSchema, await jsonBody(c));
    const customer = await customerSubject(c.var.db, site, customerId);
    const revoked = await revokeCustomer(c.var.db, c.env.EVENTS, visitorStore(c.env, c.var.config), { customer, reason, role: "privacy" });
    return c.json(revoked, 202);
  })
  .post("/export", limitBody(4096), async (c) => {
    const { site, customerId } = parseWith(customerSubjectRequestSchema, await jsonBody(c));
    const customer = await customerSubject(c.var.db, site, customerId);
    const log = { bucket: c.env.LOG, sink: c.var.config.logSink };
    c.header("Cache-Control", "no-store");
    return c.json(await exportCustomer(c.var.db, visitorStore(c.env, c.var.config), log, customer, "privacy"));
  });
