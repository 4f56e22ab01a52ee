import type { Database } from "./db";
import { auditLog, type TokenRole } from "./schema";

/**
 * The audit log: who (a role, never a person) did what to which target. Every admin and privacy
 * read or change writes one entry through here. Targets are ids or hashes, never personal data.
 */
export type AuditEntry = { role: TokenRole; action: string; target?: string | null };

/** The insert, for callers that write it in a batch with the change it records. */
export const auditStatement = (db: Database, { role, action, target = null }: AuditEntry) =>
  db.insert(auditLog).values({ role, action, target });

export async function audit(db: Database, entry: AuditEntry): Promise<void> {
  await auditStatement(db, entry);
}
