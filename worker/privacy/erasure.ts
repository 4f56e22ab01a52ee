import { and, eq, lt } from "drizzle-orm";
import { ApiError } from "../lib/errors";
import { sendAll } from "../lib/queue";
import { sweepErasures } from "../log/erasure";
import { auditStatement } from "../store/audit";
import type { Database } from "../store/db";
import { rememberRevoked } from "../store/revocations";
import { consentLedger, logErasures, privacyRequests, revocations, type TokenRole } from "../store/schema";
import { subjectHash } from "../store/subject";
import { subjectStub, type VisitorStore } from "../visitors/client";

/**
 * Revocation and erasure. The tombstone is written first to the subject's Durable Object, which
 * every decision and the queue consumer read, so it holds on the very next request everywhere;
 * the same call deletes everything else the object held. D1 then keeps the revocation record for
 * the privacy team's lists and audit. The erasure of the other stores is an outbox row processed
 * through the queue and queued again by the scheduled handler until every store is clean.
 */

export type ErasureMessage = { type: "erasure"; requestId: string };

export async function revokeSubject(
  db: Database,
  queue: Queue,
  visitors: VisitorStore,
  input: { subjectId: string; reason?: string | undefined; role: TokenRole },
): Promise<{ requestId: string; created: boolean }> {
  const hash = await subjectHash(input.subjectId);
  try {
    await subjectStub(visitors, hash).revoke(Date.now());
  } catch {
    // Nothing is recorded as revoked that does not hold yet: the privacy team sends it again.
    throw new ApiError(503, "visitor_state_unavailable", "the revocation could not be recorded; send it again");
  }
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
 * Deletes everything stored about the request's subject: their Durable Object's profiles, caps
 * and applied events (its tombstone stays) and consent ledger rows at once, and puts the subject on
 * the log's deletion list; the request completes once the scheduled job has rewritten every log
 * file that held the subject (worker/log/erasure.ts). Idempotent, safe to run again. Aggregates
 * hold no identifier and stay.
 */
export async function runErasure(
  db: Database,
  visitors: VisitorStore,
  requestId: string,
): Promise<"completed" | "log_pending" | "not_found"> {
  const [request] = await db.select().from(privacyRequests).where(eq(privacyRequests.id, requestId)).limit(1);
  if (!request) return "not_found";
  if (request.status === "completed" || !request.subjectId) return "completed";
  const subjectId = request.subjectId;
  try {
    await subjectStub(visitors, request.subjectHash).revoke(request.createdAt.getTime());
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

/** Erasures queued per scheduled run: a bound on its subrequests (one per 100), whatever the backlog. */
const ERASURES_PER_RUN = 500;

/**
 * For the scheduled handler: one run of the log's erasure pass (R2 batch files; a Pipelines log is
 * erased offline, docs/operator.md, "Erasure in the log"), then the erasures still pending after `olderThanMs` (those
 * whose subject the pass has just cleared from the log among them) go back on the queue, to be run
 * by the consumer like the first time. Returns how many were queued.
 */
export async function continueErasures(
  db: Database,
  queue: Queue,
  log: { bucket: R2Bucket; sink: "r2" | "pipelines" },
  now = Date.now(),
  olderThanMs = 60_000,
): Promise<number> {
  if (log.sink === "r2") await sweepErasures(db, log.bucket, now);
  const pending = await db
    .select({ id: privacyRequests.id })
    .from(privacyRequests)
    .where(and(eq(privacyRequests.status, "pending"), lt(privacyRequests.createdAt, new Date(now - olderThanMs))))
    .limit(ERASURES_PER_RUN);
  await sendAll(
    queue,
    pending.map(({ id }): ErasureMessage => ({ type: "erasure", requestId: id })),
  );
  return pending.length;
}
