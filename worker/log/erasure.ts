import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Database } from "../store/db";
import { logErasures, logSweeps, privacyRequests } from "../store/schema";
import { decodeRows, encodeRows, LOG_ROOT } from "./files";

/**
 * Erasure in an append-only log. Rows carry only the pseudonymous visitor id; an erasure puts its
 * request on the deletion list (D1 `log_erasures`), and this job, run by the scheduled handler,
 * passes over every batch file in key order, a bounded number per run, rewriting the files that
 * hold a listed subject without that subject's rows (deleting a file left empty). A pass covers the
 * requests queued at least `GRACE_MS` before it started (so that a batch already past the
 * revocation check when the subject was revoked is written before the pass reads its partition);
 * when it reaches the end, their entries are marked done and the erasure can complete
 * (worker/privacy/erasure.ts). Bound: one full pass after the request is queued, that is at most
 * two passes' time (docs/operator.md, "Erasure in the log").
 */
export const GRACE_MS = 60_000;
/**
 * Files read per run: each costs a read and, when rewritten, a write. A run is one queue message,
 * whose invocation has 1,000 subrequests shared with up to 99 other messages of its batch.
 */
export const FILES_PER_RUN = 300;
const SWEEP_ID = "erasure";

type Pending = { requestId: string; subjectId: string; queuedAt: Date };

async function pendingSubjects(db: Database): Promise<Pending[]> {
  const rows = await db
    .select({ requestId: logErasures.requestId, subjectId: privacyRequests.subjectId, queuedAt: logErasures.queuedAt })
    .from(logErasures)
    .innerJoin(privacyRequests, eq(privacyRequests.id, logErasures.requestId))
    .where(isNull(logErasures.doneAt));
  return rows.flatMap((r) => (r.subjectId ? [{ ...r, subjectId: r.subjectId }] : []));
}

/** Rewrites one file without the subjects' rows; true when it held any. */
async function eraseIn(bucket: R2Bucket, key: string, subjects: ReadonlySet<string>): Promise<boolean> {
  const object = await bucket.get(key);
  if (!object) return false;
  const rows = await decodeRows(object.body);
  const kept = rows.filter((row) => !row.visitor_id || !subjects.has(row.visitor_id));
  if (kept.length === rows.length) return false;
  if (kept.length === 0) await bucket.delete(key);
  else await bucket.put(key, await encodeRows(kept), { httpMetadata: object.httpMetadata });
  return true;
}

/**
 * One run of the pass: returns the requests whose subject no file holds any more (the pass ended
 * in this run), and how many files were read and rewritten.
 */
export async function sweepErasures(db: Database, bucket: R2Bucket, now: number, maxFiles = FILES_PER_RUN) {
  const pending = await pendingSubjects(db);
  if (pending.length === 0) {
    await db.delete(logSweeps).where(eq(logSweeps.id, SWEEP_ID));
    return { done: [] as string[], files: 0, rewritten: 0 };
  }
  let [sweep] = await db.select().from(logSweeps).where(eq(logSweeps.id, SWEEP_ID));
  const covers = (p: Pending, startedAt: Date) => p.queuedAt.getTime() <= startedAt.getTime() - GRACE_MS;
  if (!sweep || !pending.some((p) => covers(p, sweep?.startedAt ?? new Date(0)))) {
    sweep = { id: SWEEP_ID, startedAt: new Date(now), cursor: "" };
    await db
      .insert(logSweeps)
      .values(sweep)
      .onConflictDoUpdate({ target: logSweeps.id, set: { startedAt: sweep.startedAt, cursor: "" } });
  }
  const startedAt = sweep.startedAt;
  const covered = pending.filter((p) => covers(p, startedAt));
  const subjects = new Set(pending.map((p) => p.subjectId));

  let cursor = sweep.cursor;
  let files = 0;
  let rewritten = 0;
  for (;;) {
    const page = await bucket.list({
      prefix: LOG_ROOT,
      limit: Math.min(1000, maxFiles - files),
      ...(cursor ? { startAfter: cursor } : {}),
    });
    for (const object of page.objects) {
      if (await eraseIn(bucket, object.key, subjects)) rewritten++;
      cursor = object.key;
      files++;
    }
    if (!page.truncated) break;
    if (files >= maxFiles) {
      await db.update(logSweeps).set({ cursor }).where(eq(logSweeps.id, SWEEP_ID));
      return { done: [] as string[], files, rewritten };
    }
  }
  const done = covered.map((p) => p.requestId);
  await db.batch([
    db.delete(logSweeps).where(eq(logSweeps.id, SWEEP_ID)),
    ...(done.length
      ? [
          db
            .update(logErasures)
            .set({ doneAt: new Date(now) })
            .where(and(inArray(logErasures.requestId, done), isNull(logErasures.doneAt))),
        ]
      : []),
  ]);
  return { done, files, rewritten };
}
