import { eq, sql } from "drizzle-orm";
import type { Database } from "./db";
import { revocations } from "./schema";
import { subjectHash } from "./subject";

/**
 * Revocations are read from D1, the source of truth, on every identified request, so that a
 * revocation holds on the very next request. Only positive answers are remembered in the isolate
 * (a revocation is never undone); when D1 cannot answer, the status is `unknown`, which consent
 * treats as revoked: the restrictive answer.
 */
const known = new Set<string>();

export type RevocationStatus = "revoked" | "clear" | "unknown";

export async function revocationStatus(db: Database, subjectId: string): Promise<RevocationStatus> {
  if (known.has(subjectId)) return "revoked";
  try {
    const hash = await subjectHash(subjectId);
    const rows = await db.select({ hash: revocations.subjectHash }).from(revocations).where(eq(revocations.subjectHash, hash)).limit(1);
    if (rows.length === 0) return "clear";
    known.add(subjectId);
    return "revoked";
  } catch {
    return "unknown";
  }
}

export function rememberRevoked(subjectId: string): void {
  known.add(subjectId);
}

/**
 * Which of these subjects are revoked, by one D1 query for all of them (the queue consumer's check
 * for a batch's visitors whose objects it has no other reason to call). Throws when D1 cannot
 * answer: the caller retries rather than write under an id that may be revoked.
 */
export async function revokedAmong(db: Database, subjectIds: readonly string[]): Promise<Set<string>> {
  const unknown = subjectIds.filter((id) => !known.has(id));
  const hashes = new Map(await Promise.all(unknown.map(async (id) => [await subjectHash(id), id] as const)));
  const rows = hashes.size
    ? await db
        .select({ hash: revocations.subjectHash })
        .from(revocations)
        .where(sql`${revocations.subjectHash} IN (SELECT value FROM json_each(${JSON.stringify([...hashes.keys()])}))`)
    : [];
  for (const { hash } of rows) known.add(hashes.get(hash) as string);
  return new Set(subjectIds.filter((id) => known.has(id)));
}
