import { eq } from "drizzle-orm";
import type { Database } from "../store/db";
import { profileKey } from "../store/profiles";
import { consentLedger, decisions, events, privacyRequests, revocations, sites } from "../store/schema";
import { subjectHash } from "../store/subject";

/** Everything stored about a subject, from every store, as one JSON document. */
export async function exportSubject(db: Database, profiles: KVNamespace, subjectId: string) {
  const hash = await subjectHash(subjectId);
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
