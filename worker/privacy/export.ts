import { eq } from "drizzle-orm";
import { ApiError } from "../lib/errors";
import { scanLog } from "../log/reader";
import { audit } from "../store/audit";
import type { Database } from "../store/db";
import { consentLedger, privacyRequests, revocations, type TokenRole } from "../store/schema";
import { subjectHash } from "../store/subject";
import { subjectStub, type VisitorStore } from "../visitors/client";
import { VISITOR_ID } from "../wire/consent";

/** Where the raw log is, for the rows that name a subject. */
export type LogLocation = { bucket: R2Bucket; sink: "r2" | "pipelines" };

/** The subject's rows in the log's batch files, up to the scan's limit; none from a Pipelines log, which only offline engines read. */
async function loggedRowsOf(log: LogLocation, subjectId: string) {
  if (log.sink !== "r2") return { rows: [], files: 0, complete: false };
  return scanLog(log.bucket, {}, (row) => row.visitor_id === subjectId);
}

/**
 * Everything stored about a subject, from every store, as one JSON document; audited as
 * `privacy.subject.export` (by the subject's hash). `field` names the input in the 400 for an id
 * that is not a visitor id. The raw log is read as far as one request may (`log.complete` says
 * whether it all was); the whole of it, offline: `npm run export-events -- --visitor <id>`.
 */
export async function exportSubject(
  db: Database,
  visitors: VisitorStore,
  log: LogLocation,
  subjectId: string,
  request: { role: TokenRole; field: string },
) {
  if (!VISITOR_ID.test(subjectId))
    throw new ApiError(400, "invalid_request", `${request.field}: must be a visitor id (UUID v4)`, request.field);
  const hash = await subjectHash(subjectId);
  await audit(db, { role: request.role, action: "privacy.subject.export", target: hash });
  return exportSubjectData(db, visitors, log, subjectId, hash);
}

/** The export of any subject (a visitor, or a customer: worker/channels/links.ts), once the caller has checked and audited the request. */
export async function exportSubjectData(db: Database, visitors: VisitorStore, log: LogLocation, subjectId: string, hash: string) {
  const [state, ledger, revocation, requests, logged] = await Promise.all([
    subjectStub(visitors, hash).export(),
    db.select().from(consentLedger).where(eq(consentLedger.subjectId, subjectId)),
    db.select().from(revocations).where(eq(revocations.subjectHash, hash)),
    db.select().from(privacyRequests).where(eq(privacyRequests.subjectHash, hash)),
    loggedRowsOf(log, subjectId),
  ]);
  return {
    subjectId,
    exportedAt: new Date().toISOString(),
    /** Per site, from the visitor's Durable Object: attributes, affinities, recent items. */
    profiles: state.profiles,
    /** Today's frequency-cap counts per site, from the same object. */
    frequencyCaps: state.caps,
    /** Identity links: the customer a device signed in as, or a customer's linked devices (visitor ids). */
    linkedTo: state.linkedTo,
    linkedDevices: state.linkedDevices.map(({ visitorId, at }) => ({ visitorId, at: new Date(at).toISOString() })),
    /** What each e-mail slot showed when it was first opened, and whether its impression and click were counted. */
    emailOpens: state.emailOpens.map(({ slot, contentId, at, impression, click }) => ({
      slot,
      contentId,
      at: new Date(at).toISOString(),
      impression,
      click,
    })),
    consentLedger: ledger.map(({ siteId, personalization, measurement, source, policyVersion, createdAt }) => ({
      siteId,
      personalization,
      measurement,
      source,
      policyVersion,
      at: createdAt.toISOString(),
    })),
    decisions: logged.rows
      .filter((row) => row.kind === "decision")
      .map((row) => ({
        decisionId: row.id,
        siteId: row.site_id,
        at: new Date(row.ts).toISOString(),
        mode: row.mode,
        modelVersion: row.model_version,
        context: row.context,
        slots: row.slots,
      })),
    events: logged.rows
      .filter((row) => row.kind === "interaction")
      .map((row) => ({
        eventId: row.id,
        siteId: row.site_id,
        decisionId: row.decision_id,
        type: row.event,
        slot: row.slot,
        contentId: row.content_id,
        at: new Date(row.ts).toISOString(),
        value: row.value,
        currency: row.currency,
      })),
    log: { sink: log.sink, filesRead: logged.files, complete: logged.complete },
    revocation: revocation[0] ? { reason: revocation[0].reason, at: revocation[0].createdAt.toISOString() } : null,
    privacyRequests: requests.map((r) => ({
      requestId: r.id,
      kind: r.kind,
      status: r.status,
      createdAt: r.createdAt.toISOString(),
      completedAt: r.completedAt?.toISOString() ?? null,
    })),
  };
}
