import { and, desc, eq, gte, like, lt, sql } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "../store/db";
import { auditLog, consentLedger, consentSources, privacyRequestStatuses, privacyRequests, tokenRoles } from "../store/schema";
import { subjectHash } from "../store/subject";
import { VISITOR_ID } from "../wire/consent";

/**
 * The privacy team's lists: erasure requests, the consent ledger and the audit log, newest first
 * and filterable. Served by `/v1/privacy/*` and the console's privacy page with the same filters.
 * Subjects are shown by hash only: a request's subject id is cleared on completion, and the
 * console never needs the raw id of anyone it lists.
 */

export const LIST_LIMIT = 100;
const limit = z.coerce.number().int().min(1).max(500).default(LIST_LIMIT);
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD");
/** An empty form field means "no filter". */
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === "" ? undefined : v), schema.optional());

export const requestListSchema = z.object({ status: optional(z.enum(privacyRequestStatuses)), limit });
export const consentListSchema = z.object({
  site: optional(z.string().max(64)),
  source: optional(z.enum(consentSources)),
  /** A visitor id (hashed here) or a subject hash. */
  subject: optional(z.string().regex(/^([0-9a-f]{64}|[0-9a-f-]{36})$/, "a visitor id or the 64 hex digits of a subject hash")),
  from: optional(day),
  limit,
});
export const auditListSchema = z.object({
  role: optional(z.enum(tokenRoles)),
  /** Actions starting with this, e.g. `privacy.` or `admin.model`. */
  action: optional(z.string().regex(/^[a-z_.-]{1,64}$/, "lower-case letters, dots, dashes and underscores")),
  from: optional(day),
  limit,
});

const since = (from: string | undefined) => (from ? new Date(`${from}T00:00:00Z`) : undefined);

export async function listRequests(db: Database, filter: z.infer<typeof requestListSchema>) {
  const rows = await db
    .select({
      id: privacyRequests.id,
      kind: privacyRequests.kind,
      status: privacyRequests.status,
      subjectHash: privacyRequests.subjectHash,
      attempts: privacyRequests.attempts,
      createdAt: privacyRequests.createdAt,
      completedAt: privacyRequests.completedAt,
    })
    .from(privacyRequests)
    .where(filter.status ? eq(privacyRequests.status, filter.status) : undefined)
    .orderBy(desc(privacyRequests.createdAt))
    .limit(filter.limit);
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString(), completedAt: r.completedAt?.toISOString() ?? null }));
}

export async function listConsent(db: Database, filter: z.infer<typeof consentListSchema>) {
  const hash = filter.subject ? (VISITOR_ID.test(filter.subject) ? await subjectHash(filter.subject) : filter.subject) : undefined;
  const rows = await db
    .select({
      id: consentLedger.id,
      siteId: consentLedger.siteId,
      subjectHash: consentLedger.subjectHash,
      personalization: consentLedger.personalization,
      measurement: consentLedger.measurement,
      source: consentLedger.source,
      policyVersion: consentLedger.policyVersion,
      createdAt: consentLedger.createdAt,
    })
    .from(consentLedger)
    .where(
      and(
        filter.site ? eq(consentLedger.siteId, filter.site) : undefined,
        filter.source ? eq(consentLedger.source, filter.source) : undefined,
        hash ? eq(consentLedger.subjectHash, hash) : undefined,
        filter.from ? gte(consentLedger.createdAt, since(filter.from) ?? new Date(0)) : undefined,
      ),
    )
    .orderBy(desc(consentLedger.id))
    .limit(filter.limit);
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}

export async function listAudit(db: Database, filter: z.infer<typeof auditListSchema>) {
  const rows = await db
    .select()
    .from(auditLog)
    .where(
      and(
        filter.role ? eq(auditLog.role, filter.role) : undefined,
        // `_` and `%` are LIKE wildcards; the pattern allows `_`, so escape it.
        filter.action ? like(auditLog.action, sql`${`${filter.action.replace(/_/g, "\\_")}%`} ESCAPE '\\'`) : undefined,
        filter.from ? gte(auditLog.createdAt, since(filter.from) ?? new Date(0)) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(filter.limit);
  return rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }));
}

/** Consent records per day and source over the last `days` days (counts only, no subject). */
export async function consentPerDay(db: Database, fromDay: string, toDay: string) {
  const to = new Date(Date.parse(`${toDay}T00:00:00Z`) + 24 * 60 * 60 * 1000);
  return db
    .select({
      day: sql<string>`strftime('%Y-%m-%d', ${consentLedger.createdAt} / 1000, 'unixepoch')`.as("day"),
      source: consentLedger.source,
      granted: sql<number>`sum(${consentLedger.personalization})`,
      records: sql<number>`count(*)`,
    })
    .from(consentLedger)
    .where(and(gte(consentLedger.createdAt, new Date(`${fromDay}T00:00:00Z`)), lt(consentLedger.createdAt, to)))
    .groupBy(sql`day`, consentLedger.source);
}
