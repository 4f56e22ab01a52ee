import { and, asc, desc, eq, gt, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { z } from "zod";
import { ApiError } from "../lib/errors";
import { auditStatement } from "../store/audit";
import type { Database } from "../store/db";
import { type ContentItem, catalogueImports, contentItems, slots, type TokenRole } from "../store/schema";
import type { ImportRecordView, ItemInput, itemViewSchema } from "../wire/catalogue";
import { forgetCatalogue } from "./catalogue";
import type { CurrentItem, ImportMode, ImportPlan } from "./feeds/plan";
import { siteRow } from "./sites";

/**
 * Content items as resources, one at a time (API, console) or many at once (a feed import). An
 * import is applied in one D1 batch, which is one transaction: it lands whole or not at all.
 * Rows travel as JSON in a few large statements (`json_each`) rather than one statement per
 * item, so 10,000 items take a handful of statements.
 */

type ItemView = z.infer<typeof itemViewSchema>;

/** An item as the API shows it: the same shape it was given in. */
export function itemInputOf(row: ContentItem): ItemInput {
  const { title, body, imageUrl, href, cta } = row.render;
  return {
    id: row.id,
    title,
    ...(body !== undefined ? { body } : {}),
    ...(imageUrl !== undefined ? { imageUrl } : {}),
    ...(href !== undefined ? { href } : {}),
    ...(cta !== undefined ? { cta } : {}),
    slots: row.slotIds,
    categories: row.categories,
    attributes: row.attributes,
    availability: row.availability,
    startsAt: row.startsAt?.toISOString() ?? null,
    endsAt: row.endsAt?.toISOString() ?? null,
    defaultRank: row.defaultRank,
  };
}

const itemView = (row: ContentItem): ItemView => ({ ...itemInputOf(row), status: row.status, updatedAt: row.updatedAt.toISOString() });

/** The JSON one row travels as (the statement below reads these names). */
const rowJson = (item: ItemInput) => ({
  id: item.id,
  slots: item.slots,
  render: { title: item.title, body: item.body, imageUrl: item.imageUrl, href: item.href, cta: item.cta },
  categories: item.categories,
  attributes: item.attributes,
  availability: item.availability,
  startsAt: item.startsAt ? Date.parse(item.startsAt) : null,
  endsAt: item.endsAt ? Date.parse(item.endsAt) : null,
  defaultRank: item.defaultRank,
});

/** About 900 KB of JSON per statement: under D1's 2 MB per value, few statements per import. */
const CHUNK_BYTES = 900_000;

function chunks(items: readonly ItemInput[]): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const item of items) {
    const json = JSON.stringify(rowJson(item));
    if (size + json.length > CHUNK_BYTES && current.length) {
      out.push(`[${current.join(",")}]`);
      current = [];
      size = 0;
    }
    current.push(json);
    size += json.length + 1;
  }
  if (current.length) out.push(`[${current.join(",")}]`);
  return out;
}

/**
 * Inserts or replaces many items from one JSON array, active again if they were archived. The
 * select lists every column in the table's order (drizzle's insert-select names them all).
 */
function upsertStatement(db: Database, siteId: string, json: string) {
  return db
    .insert(contentItems)
    .select(
      sql`SELECT ${siteId}, j.value ->> '$.id', 'active', j.value -> '$.slots', j.value -> '$.render', j.value -> '$.categories',
                 j.value -> '$.attributes', j.value ->> '$.availability', j.value ->> '$.startsAt', j.value ->> '$.endsAt',
                 j.value ->> '$.defaultRank', unixepoch('subsec') * 1000
          FROM json_each(${json}) AS j WHERE true`,
    )
    .onConflictDoUpdate({
      target: [contentItems.siteId, contentItems.id],
      set: {
        status: sql`'active'`,
        slotIds: sql`excluded.slot_ids`,
        render: sql`excluded.render`,
        categories: sql`excluded.categories`,
        attributes: sql`excluded.attributes`,
        availability: sql`excluded.availability`,
        startsAt: sql`excluded.starts_at`,
        endsAt: sql`excluded.ends_at`,
        defaultRank: sql`excluded.default_rank`,
        updatedAt: sql`excluded.updated_at`,
      },
    });
}

function archiveStatement(db: Database, siteId: string, ids: readonly string[]) {
  return db
    .update(contentItems)
    .set({ status: "archived", updatedAt: new Date() })
    .where(and(eq(contentItems.siteId, siteId), inArray(contentItems.id, sql`(SELECT value FROM json_each(${JSON.stringify(ids)}))`)));
}

/** The site's items as a feed import compares against them. */
export async function currentItems(db: Database, siteId: string): Promise<Map<string, CurrentItem>> {
  const rows = await db.select().from(contentItems).where(eq(contentItems.siteId, siteId));
  return new Map(rows.map((row) => [row.id, { input: itemInputOf(row), active: row.status === "active" }]));
}

export async function slotIdsOf(db: Database, siteId: string): Promise<Set<string>> {
  const rows = await db
    .select({ id: slots.id })
    .from(slots)
    .where(and(eq(slots.siteId, siteId), eq(slots.status, "active")));
  return new Set(rows.map((r) => r.id));
}

export type AppliedImport = { id: string; statements: number };

/** Applies a planned import in one transaction, with its record and audit entry. */
export async function applyImport(
  db: Database,
  siteId: string,
  plan: ImportPlan,
  source: { source: string; mode: ImportMode; role: TokenRole },
): Promise<AppliedImport> {
  const id = crypto.randomUUID();
  const statements: BatchItem<"sqlite">[] = [
    ...chunks([...plan.added, ...plan.changed]).map((json) => upsertStatement(db, siteId, json)),
    ...(plan.archived.length ? [archiveStatement(db, siteId, plan.archived)] : []),
    db.insert(catalogueImports).values({
      id,
      siteId,
      source: source.source,
      mode: source.mode,
      status: "applied",
      added: plan.added.length,
      changed: plan.changed.length,
      archived: plan.archived.length,
      refused: plan.refused.length,
      refusedSample: plan.refused.slice(0, 100),
    }),
    auditStatement(db, { role: source.role, action: "admin.items.import", target: `${siteId}:${id}` }),
  ];
  await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  forgetCatalogue(siteId);
  return { id, statements: statements.length };
}

export async function listItems(
  db: Database,
  siteId: string,
  page: { cursor?: string | undefined; limit: number; status?: ContentItem["status"] | undefined },
) {
  await siteRow(db, siteId);
  const rows = await db
    .select()
    .from(contentItems)
    .where(
      and(
        eq(contentItems.siteId, siteId),
        page.cursor ? gt(contentItems.id, page.cursor) : undefined,
        page.status ? eq(contentItems.status, page.status) : undefined,
      ),
    )
    .orderBy(asc(contentItems.id))
    .limit(page.limit + 1);
  return { items: rows.slice(0, page.limit).map(itemView), next: rows.length > page.limit ? (rows[page.limit - 1]?.id ?? null) : null };
}

async function itemRow(db: Database, siteId: string, id: string): Promise<ContentItem> {
  const [row] = await db
    .select()
    .from(contentItems)
    .where(and(eq(contentItems.siteId, siteId), eq(contentItems.id, id)))
    .limit(1);
  if (!row) throw new ApiError(404, "unknown_item", `site "${siteId}" has no item "${id}"`, "item");
  return row;
}

/** Creates or replaces one item (PUT semantics: the body is the whole item). */
export async function putItem(db: Database, siteId: string, item: ItemInput, role: TokenRole) {
  const known = await slotIdsOf(db, siteId);
  const unknown = item.slots.find((slot) => !known.has(slot));
  if (unknown) throw new ApiError(400, "unknown_slot", `site "${siteId}" has no slot "${unknown}"`, "slots");
  await db.batch([
    upsertStatement(db, siteId, JSON.stringify([rowJson(item)])),
    auditStatement(db, { role, action: "admin.item.put", target: `${siteId}:${item.id}` }),
  ]);
  forgetCatalogue(siteId);
  return itemView(await itemRow(db, siteId, item.id));
}

export async function archiveItem(db: Database, siteId: string, id: string, role: TokenRole) {
  await itemRow(db, siteId, id);
  await db.batch([
    archiveStatement(db, siteId, [id]),
    auditStatement(db, { role, action: "admin.item.archive", target: `${siteId}:${id}` }),
  ]);
  forgetCatalogue(siteId);
  return itemView(await itemRow(db, siteId, id));
}

export async function showItem(db: Database, siteId: string, id: string) {
  return itemView(await itemRow(db, siteId, id));
}

/** A site's latest imports, newest first: what an operator checks after a scheduled feed fetch. */
export async function recentImports(db: Database, siteId: string, limit = 20): Promise<ImportRecordView[]> {
  await siteRow(db, siteId);
  const rows = await db
    .select()
    .from(catalogueImports)
    .where(eq(catalogueImports.siteId, siteId))
    .orderBy(desc(catalogueImports.createdAt))
    .limit(limit);
  return rows.map(({ siteId: _site, createdAt, ...row }) => ({ ...row, createdAt: createdAt.toISOString() }));
}
