import { ApiError } from "../lib/errors";
import { revokeSubject } from "../privacy/erasure";
import { exportSubjectData, type LogLocation } from "../privacy/export";
import { audit } from "../store/audit";
import type { Database } from "../store/db";
import type { TokenRole } from "../store/schema";
import { subjectHash } from "../store/subject";
import { type VisitorStore, visitorStub } from "../visitors/client";

/**
 * Identity linking. A device (a visitor id) that signs in as a customer is linked to the
 * customer's Durable Object: its decisions read the customer's profile and caps from then on, and
 * its events (whose tokens name the customer) update that profile, so every device and channel of
 * the customer shares one history.
 *
 * Merge rule: at link time the device's own history (affinities, recent items, per site) is merged
 * into the customer's profile once per device (a repeated link changes nothing), with
 * `mergeProfiles`: both sides' affinities decay to now and add up, recent items interleave by
 * time, the customer's attributes win. The device keeps its pre-link profile (for the export)
 * but no longer reads or grows it.
 *
 * Revocation and erasure by customer id cover every linked device: the customer's object answers
 * its device list as it becomes a tombstone, and each device is revoked (tombstone, erasure
 * request) like any visitor.
 */
export async function linkDevice(
  visitors: VisitorStore,
  input: { visitorId: string; customer: string; now: number },
): Promise<{ merged: boolean }> {
  const device = await visitorStub(visitors, input.visitorId);
  const linked = await device.linkTo(input.customer, input.now);
  if (linked.revoked)
    throw new ApiError(409, "revoked_visitor", "this visitor id is revoked: it is never linked or personalized again", "visitorToken");
  const customer = await visitorStub(visitors, input.customer);
  const adopted = await customer.adoptDevice(input.visitorId, linked.profiles, input.now);
  // The device now reads the customer's tombstone or full list: it gets no profile, the safe side.
  if (adopted.revoked) throw new ApiError(409, "revoked_customer", "this customer is revoked: no device is linked to them", "customerId");
  if (adopted.full)
    throw new ApiError(409, "too_many_devices", "this customer has the most linked devices a customer may have", "customerId");
  return { merged: adopted.merged };
}

/** Revokes a customer and every device linked to them; erasure of each follows through the outbox. */
export async function revokeCustomer(
  db: Database,
  queue: Queue,
  visitors: VisitorStore,
  input: { customer: string; reason?: string | undefined; role: TokenRole },
): Promise<{ requestId: string; devices: number }> {
  // The devices first: the customer's revocation deletes the list that names them.
  const { linkedDevices } = await (await visitorStub(visitors, input.customer)).export();
  const { requestId } = await revokeSubject(db, queue, visitors, { subjectId: input.customer, reason: input.reason, role: input.role });
  for (const { visitorId } of linkedDevices) {
    await revokeSubject(db, queue, visitors, { subjectId: visitorId, reason: input.reason, role: input.role });
  }
  return { requestId, devices: linkedDevices.length };
}

/** The privacy export of a customer: their object (profiles, caps, linked devices), ledger, log rows, requests. */
export async function exportCustomer(db: Database, visitors: VisitorStore, log: LogLocation, customer: string, role: TokenRole) {
  const hash = await subjectHash(customer);
  await audit(db, { role, action: "privacy.customer.export", target: hash });
  return exportSubjectData(db, visitors, log, customer, hash);
}
