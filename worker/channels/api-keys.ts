import { and, count, desc, eq, isNull } from "drizzle-orm";
import { ApiError } from "../lib/errors";
import { toBase64Url } from "../lib/signing";
import { siteRow } from "../site/sites";
import { auditStatement } from "../store/audit";
import type { Database } from "../store/db";
import { type ApiKeyScope, apiKeys } from "../store/schema";

/**
 * Per-site API keys for servers and apps. The secret is 256 random bits, shown once; D1 keeps its
 * SHA-256 only, so a copy of the database holds no usable key, and a key is found by that hash in
 * one indexed read. Verification reads D1 on every call (nothing is cached), so that a revoked
 * key is refused on the very next request.
 */
export const ACTIVE_KEYS_PER_SITE = 20;
const SECRET_PREFIX = "epk_";

export type ApiKeyView = { id: string; site: string; name: string; scopes: ApiKeyScope[]; createdAt: string; revokedAt: string | null };
/** What a verified key allows: the site it belongs to and its scopes. */
export type ApiKeyGrant = { id: string; site: string; scopes: ApiKeyScope[] };

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const view = (row: typeof apiKeys.$inferSelect): ApiKeyView => ({
  id: row.id,
  site: row.siteId,
  name: row.name,
  scopes: row.scopes,
  createdAt: row.createdAt.toISOString(),
  revokedAt: row.revokedAt?.toISOString() ?? null,
});

/** A new key for `site`; the answer is the only place the secret ever appears. */
export async function createApiKey(
  db: Database,
  site: string,
  input: { name: string; scopes: ApiKeyScope[] },
): Promise<ApiKeyView & { secret: string }> {
  await siteRow(db, site);
  const [active] = await db
    .select({ n: count() })
    .from(apiKeys)
    .where(and(eq(apiKeys.siteId, site), isNull(apiKeys.revokedAt)));
  if ((active?.n ?? 0) >= ACTIVE_KEYS_PER_SITE)
    throw new ApiError(409, "too_many_keys", `a site holds at most ${ACTIVE_KEYS_PER_SITE} active keys; revoke one first`);
  const id = crypto.randomUUID();
  const secret = `${SECRET_PREFIX}${toBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
  const scopes = [...new Set(input.scopes)];
  const [, [row]] = await db.batch([
    auditStatement(db, { role: "admin", action: "admin.api_key.create", target: `${site}/${id}` }),
    db
      .insert(apiKeys)
      .values({ id, siteId: site, name: input.name, secretHash: await sha256Hex(secret), scopes })
      .returning(),
  ]);
  if (!row) throw new Error("the key was not stored");
  return { ...view(row), secret };
}

export async function listApiKeys(db: Database, site: string): Promise<ApiKeyView[]> {
  await siteRow(db, site);
  const rows = await db.select().from(apiKeys).where(eq(apiKeys.siteId, site)).orderBy(desc(apiKeys.createdAt));
  return rows.map(view);
}

/** Revokes a key of `site` (idempotent: a revoked key keeps its first revocation time). */
export async function revokeApiKey(db: Database, site: string, id: string): Promise<ApiKeyView> {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.siteId, site), eq(apiKeys.id, id)))
    .limit(1);
  if (!row) throw new ApiError(404, "unknown_key", `site "${site}" has no key "${id}"`, "id");
  if (row.revokedAt) return view(row);
  const [, [updated]] = await db.batch([
    auditStatement(db, { role: "admin", action: "admin.api_key.revoke", target: `${site}/${id}` }),
    db.update(apiKeys).set({ revokedAt: new Date() }).where(eq(apiKeys.id, id)).returning(),
  ]);
  return view(updated ?? row);
}

/** The grant of an active key, or null for a secret that is unknown, malformed or revoked. */
export async function verifyApiKey(db: Database, secret: string): Promise<ApiKeyGrant | null> {
  if (!secret.startsWith(SECRET_PREFIX) || secret.length > 128) return null;
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(eq(apiKeys.secretHash, await sha256Hex(secret)))
    .limit(1);
  if (!row || row.revokedAt) return null;
  return { id: row.id, site: row.siteId, scopes: row.scopes };
}
