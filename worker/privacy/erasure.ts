import { and, eq, lt } from "drizzle-orm";
import { auditStatement } from "../store/audit";
import type { Database } from "../store/db";
import { profileKey } from "../store/profiles";
import { rememberRevoked } from "../store/revocations";
import { consentLedger, decisions, events, privacyRequests, revocations, sites, type TokenRole } from "../store/schema";
import { subjectHash } from "../store/subject";

/**
 * Revocation and erasure. The revocation (a tombstone under the subject's hash) is written to D1
 * first, so it holds on the very next request; the erasure is an outbox row processed through the
 * queue and retried by the scheduled handler until every store is clean.
 */

export type ErasureMessage = { type: "erasure"; requestId: string };

export async function revokeSubject(
  db: Database,
  queue: Queue,
  input: { subjectId: string; reason?: string | undefined; role: TokenRole },
): Promise<{ requestId: string; created: boolean }> {
  const hash = await subjectHash(input.subjectId);
  const [existing] = await db.select().from(revocations).where(eq(revocations.subjectHash, hash)).limit(1);
  if (existing) return { requestId: existing.requestId, created: false };

  const requestId = crypto.randomUUID();
  await db.batch([
    db
      .insert(revocations)
      .values({ subjectHash: hash, requestId, reason: input.reason ?? null })
      .onConflictDoNothing(),
    db.insert(privacyRequests).values({ id: requestId, kind: "erasure", subjectId: input.subjectId, subjectHash: hash }),
    db.insert(consentLedger).values({ subjectHash: hash, personalization: false, measurement: false, source: "revocation" }),
    auditStatement(db, { role: input.role, action: "privacy.revoke", target: hash }),
  ]);
  rememberRevoked(input.subjectId);
  const message: ErasureMessage = { type: "erasure", requestId };
  try {
    await queue.send(message, { contentType: "json" });
  } catch {
    // The scheduled handler picks up pending requests; the revocation itself already holds.
  }
  return { requestId, created: true };
}

/**
 * Deletes everything stored about the request's subject: KV profiles on every site, consent
 * ledger rows, logged decisions and events. Idempotent, safe to run again. Roll-ups hold no
 * identifier and stay.
 */
export async function runErasure(db: Database, profiles: KVNamespace, requestId: string): Promise<"completed" | "not_found"> {
  const [request] = await db.select().from(privacyRequests).where(eq(privacyRequests.id, requestId)).limit(1);
  if (!request) return "not_found";
  if (request.status === "completed" || !request.subjectId) return "completed";
  const subjectId = request.subjectId;
  try {
    const allSites = await db.select({ id: sites.id }).from(sites);
    await Promise.all(allSites.map((site) => profiles.delete(profileKey(site.id, subjectId))));
    await db.batch([
      db.delete(consentLedger).where(eq(consentLedger.subjectId, subjectId)),
      db.delete(events).where(eq(events.visitorId, subjectId)),
      db.delete(decisions).where(eq(decisions.visitorId, subjectId)),
      db
        .update(privacyRequests)
        .set({ status: "completed", completedAt: new Date(), subjectId: null, lastError: null })
        .where(eq(privacyRequests.id, requestId)),
    ]);
    return "completed";
  } catch (err) {
    await db
      .update(privacyRequests)
      .set({ attempts: request.attempts + 1, lastError: err instanceof Error ? err.message.slice(0, 200) : "unknown" })
      .where(eq(privacyRequests.id, requestId));
    throw err;
  }
}

/** For the scheduled handler: erasures still pending after `olderThanMs` are run again. */
export async function retryPendingErasures(db: Database, profiles: KVNamespace, olderThanMs = 60_000): Promise<number> {
  const pending = await db
    .select({ id: privacyRequests.id })
    .from(privacyRequests)
    .where(and(eq(privacyRequests.status, "pending"), lt(privacyRequests.createdAt, new Date(Date.now() - olderThanMs))));
  let done = 0;
  for (const { id } of pending) {
    try {
      if ((await runErasure(db, profiles, id)) === "completed") done++;
    } catch {
      // Recorded on the row; the next run tries again.
    }
  }
  return done;
}
