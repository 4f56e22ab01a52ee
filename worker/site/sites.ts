import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { z } from "zod";
import { ApiError } from "../lib/errors";
import { audit } from "../store/audit";
import type { Database } from "../store/db";
import { contentItems, type Site, type Slot, sites, slots, type TokenRole } from "../store/schema";
import type { SiteInput, SlotInput, siteUpdateSchema, siteViewSchema, slotUpdateSchema, slotViewSchema } from "../wire/catalogue";
import { forgetCatalogue } from "./catalogue";

/**
 * Sites and slots as resources: create, update, archive and list (paged by id). Every change is
 * audited and drops this isolate's cached catalogue, as a variant review does; other isolates
 * follow within twice CONFIG_TTL_MS (worker/lib/ttl-cache.ts). Archiving keeps the rows (reports and the audit log refer to
 * them); an archived site answers as unknown, an archived slot as an unknown slot.
 */

/** The admin API's shapes (worker/wire/catalogue.ts), which /openapi.json publishes. */
export type SiteView = z.infer<typeof siteViewSchema>;
export type SlotView = z.infer<typeof slotViewSchema>;

const siteView = (row: Site): SiteView => ({
  id: row.id,
  name: row.name,
  allowedOrigins: row.allowedOrigins,
  consentModel: row.consentModel,
  honorGpc: row.honorGpc,
  tcfVendorId: row.tcfVendorId,
  timezone: row.timezone,
  originUrl: row.originUrl,
  feedUrl: row.feedUrl,
  status: row.status,
  createdAt: row.createdAt.toISOString(),
});
const slotView = ({ id, name, defaultCount, maxCount, status }: Slot): SlotView => ({ id, name, defaultCount, maxCount, status });

const unknownSite = (id: string) => new ApiError(404, "unknown_site", `no site "${id}"`, "site");

export async function siteRow(db: Database, id: string): Promise<Site> {
  const [row] = await db.select().from(sites).where(eq(sites.id, id)).limit(1);
  if (!row) throw unknownSite(id);
  return row;
}

/** Sites by id, `limit` at a time after `cursor`; `next` is the cursor of the following page. */
export async function listSites(db: Database, page: { cursor?: string | undefined; limit: number }) {
  const rows = await db
    .select()
    .from(sites)
    .where(page.cursor ? gt(sites.id, page.cursor) : undefined)
    .orderBy(asc(sites.id))
    .limit(page.limit + 1);
  return { sites: rows.slice(0, page.limit).map(siteView), next: rows.length > page.limit ? (rows[page.limit - 1]?.id ?? null) : null };
}

export async function showSite(db: Database, id: string) {
  const site = await siteRow(db, id);
  const [slotRows, [counts]] = await Promise.all([
    db.select().from(slots).where(eq(slots.siteId, id)).orderBy(asc(slots.id)),
    db
      .select({
        items: sql<number>`count(*)`,
        active: sql<number>`sum(case when ${contentItems.status} = 'active' then 1 else 0 end)`,
      })
      .from(contentItems)
      .where(eq(contentItems.siteId, id)),
  ]);
  return { ...siteView(site), slots: slotRows.map(slotView), items: { total: counts?.items ?? 0, active: counts?.active ?? 0 } };
}

export async function createSite(db: Database, input: SiteInput, role: TokenRole): Promise<SiteView> {
  const [row] = await db
    .insert(sites)
    .values({ ...input, status: "active" })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new ApiError(409, "site_exists", `site "${input.id}" exists: update it instead`, "id");
  await audit(db, { role, action: "admin.site.create", target: input.id });
  return siteView(row);
}

export async function updateSite(db: Database, id: string, changes: z.infer<typeof siteUpdateSchema>, role: TokenRole): Promise<SiteView> {
  if (Object.keys(changes).length === 0) throw new ApiError(400, "invalid_request", "body: name at least one field to change");
  const [row] = await db.update(sites).set(changes).where(eq(sites.id, id)).returning();
  if (!row) throw unknownSite(id);
  await audit(db, { role, action: "admin.site.update", target: id });
  forgetCatalogue(id);
  return siteView(row);
}

export async function archiveSite(db: Database, id: string, role: TokenRole): Promise<SiteView> {
  const [row] = await db.update(sites).set({ status: "archived" }).where(eq(sites.id, id)).returning();
  if (!row) throw unknownSite(id);
  await audit(db, { role, action: "admin.site.archive", target: id });
  forgetCatalogue(id);
  return siteView(row);
}

export async function listSlots(db: Database, siteId: string): Promise<SlotView[]> {
  await siteRow(db, siteId);
  return (await db.select().from(slots).where(eq(slots.siteId, siteId)).orderBy(asc(slots.id))).map(slotView);
}

export async function createSlot(db: Database, siteId: string, input: SlotInput, role: TokenRole): Promise<SlotView> {
  await siteRow(db, siteId);
  const [row] = await db
    .insert(slots)
    .values({ siteId, ...input, status: "active" })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new ApiError(409, "slot_exists", `slot "${input.id}" exists on site "${siteId}": update it instead`, "id");
  await audit(db, { role, action: "admin.slot.create", target: `${siteId}:${input.id}` });
  forgetCatalogue(siteId);
  return slotView(row);
}

export async function updateSlot(
  db: Database,
  siteId: string,
  slotId: string,
  changes: z.infer<typeof slotUpdateSchema> & { status?: "active" | "archived" },
  role: TokenRole,
): Promise<SlotView> {
  if (Object.keys(changes).length === 0) throw new ApiError(400, "invalid_request", "body: name at least one field to change");
  const [current] = await db
    .select()
    .from(slots)
    .where(and(eq(slots.siteId, siteId), eq(slots.id, slotId)))
    .limit(1);
  if (!current) throw new ApiError(404, "unknown_slot", `site "${siteId}" has no slot "${slotId}"`, "slot");
  const next = { ...current, ...changes };
  if (next.defaultCount > next.maxCount)
    throw new ApiError(400, "invalid_request", "defaultCount: must not exceed maxCount", "defaultCount");
  const [row] = await db
    .update(slots)
    .set(changes)
    .where(and(eq(slots.siteId, siteId), eq(slots.id, slotId)))
    .returning();
  if (!row) throw new ApiError(404, "unknown_slot", `site "${siteId}" has no slot "${slotId}"`, "slot");
  await audit(db, {
    role,
    action: changes.status === "archived" ? "admin.slot.archive" : "admin.slot.update",
    target: `${siteId}:${slotId}`,
  });
  forgetCatalogue(siteId);
  return slotView(row);
}
