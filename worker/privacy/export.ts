import { eq } from "drizzle-orm";
import { ApiError } from "../lib/errors";
import { audit } from "../store/audit";
import type { Database } from "../store/db";
import { profileKey } from "../store/profiles";
import { consentLedger, decisions, events, privacyRequests, revocations, sites, type TokenRole } from "../store/schema";
import { subjectHash } from "../store/subject";
import { VISITOR_ID } from "../wire/consent";

/**
 * Everything stored about a subject, from every store, as one JSON document; audited as
 * `privacy.subject.export` (by the subject's hash). `field` names the input in the 400 for an id
 * that is not a visitor id.
 */
export async function exportSubject(db: Database, profiles: KVNamespace, subjectId: string, request: { role: TokenRole; field: string }) {
  if (!VISITOR_ID.test(subjectId))
    throw new ApiError(400, "invalid_request", `${request.field}: must be a visitor id (UUID v4)`, request.field);
  const hash = await subjectHash(subjectId);
  await audit(db, { role: request.role, action: "privacy.subject.export", target: hash });
  const [allSites, ledger, revocation, requests, decisionRows, eventRows] = await Promise.all([
    db.select({ id: sites.id }).from(sites),
    db.select().from(consentLedger).where(eq(consentLedger.subjectId, subjectId)),
    db.select().from(revocations).where(eq(revocations.subjectHash, hash)),
    db.select().from(privacyRequests).where(eq(privacyRequests.subjectHash, hash)),
    db.select().from(decisions).where(eq(decisions.visitorId, subjectId)),
    db.select().from(events).where(eq(events.visitorId, subjectId)),
  ]);
  const profileEntries = await Promise.all(
    allSites.map(async (site) => [site.id, await profiles.get(profileKey(site.id, subjectId), "json")] as const),
  );
  return {
    subjectId,
    exportedAt: new Date().toISOString(),
    profiles: Object.fromEntries(profileEntries.filter(([, profile]) => profile !== null)),
    consentLedger: ledger.map(({ siteId, personalization, measurement, source, policyVersion, createdAt }) => ({
      siteId,
      personalization,
      measurement,
      source,
      policyVersion,
      at: createdAt.toISOString(),
    })),
    decisions: decisionRows.map(({ id, siteId, ts, mode, modelVersion, context, slots }) => ({
      decisionId: id,
      siteId,
      at: ts.toISOString(),
      mode,
      modelVersion,
      context,
      slots,
    })),
    events: eventRows.map(({ eventId, siteId, decisionId, type, slot, contentId, ts, value, currency }) => ({
      eventId,
      siteId,
      decisionId,
      type,
      slot,
      contentId,
      at: ts.toISOString(),
      value,
      currency,
    })),
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
