import { eq } from "drizzle-orm";
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
