import { and, eq, lt } from "drizzle-orm";
import { sweepErasures } from "../log/erasure";
import { auditStatement } from "../store/audit";
import type { Database } from "../store/db";
import { profileKey } from "../store/profiles";
import { rememberRevoked } from "../store/revocations";
import { consentLedger, logErasures, privacyRequests, revocations, sites, type TokenRole } from "../store/schema";
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
 * Deletes everything stored about the request's subject: KV profiles on every site and consent
 * ledger rows at once, and puts the subject on the log's deletion list; the request completes once
 * the scheduled job has rewritten every log file that held the subject (worker/log/erasure.ts).
 * Idempotent, safe to run again. Aggregates hold no identifier and stay.
 */
export async function runErasure(
  db: Database,
  profiles: KVNamespace,
  requestId: string,
): Promise<"completed" | "log_pending" | "not_found"> {
  const [request] = await db.select().from(privacyRequests).where(eq(privacyRequests.id, requestId)).limit(1);
  if (!request) return "not_found";
  if (request.status === "completed" || !request.subjectId) return "completed";
  const subjectId = request.subjectId;
  try {
    const allSites = await db.select({ id: sites.id }).from(sites);
    await Promise.all(allSites.map((site) => profiles.delete(profileKey(site.id, subjectId))));
    const [listed] = await db.select().from(logErasures).where(eq(logErasures.requestId, requestId));
    if (!listed?.doneAt) {
      await db.batch([
        db.delete(consentLedger).where(eq(consentLedger.subjectId, subjectId)),
        db.insert(logErasures).values({ requestId }).onConflictDoNothing(),
      ]);
      return "log_pending";
    }
    await db.batch([
      db.delete(consentLedger).where(eq(consentLedger.subjectId, subjectId)),
      db.delete(logErasures).where(eq(logErasures.requestId, requestId)),
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

/**
 * For the scheduled handler: one run of the log's erasure pass (R2 batch files; a Pipelines log is
 * erased offline, README "Erasure"), then the erasures still pending after `olderThanMs`, or whose
 * subject the pass has just cleared from the log, are run again.
 */
export async function retryPendingErasures(
  db: Database,
  profiles: KVNamespace,
  log: { bucket: R2Bucket; sink: "r2" | "pipelines" },
  now = Date.now(),
  olderThanMs = 60_000,
): Promise<number> {
  if (log.sink === "r2") await sweepErasures(db, log.bucket, now);
  const pending = await db
    .select({ id: privacyRequests.id })
    .from(privacyRequests)
    .where(and(eq(privacyRequests.status, "pending"), lt(privacyRequests.createdAt, new Date(now - olderThanMs))));
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
