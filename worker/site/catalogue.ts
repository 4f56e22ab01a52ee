import { and, eq, inArray } from "drizzle-orm";
import { DependencyError } from "../lib/errors";
import { type KeepAlive, TtlCache } from "../lib/ttl-cache";
import { sumAggregates } from "../log/aggregates";
import type { Database } from "../store/db";
import { contentItems, contentVariants, type RenderFields, type Site, type Slot, sites, slots } from "../store/schema";
import type { Availability } from "../wire/catalogue";
import { componentIdsOf } from "./components";
import { readPolicy, type SitePolicy } from "./policy";

/** Everything the decision path needs about one site, as plain JSON-safe data. */
export type Catalogue = {
  site: Pick<Site, "id" | "name" | "allowedOrigins" | "consentModel" | "honorGpc" | "tcfVendorId" | "timezone" | "originUrl"> & {
    policy: SitePolicy;
  };
  slots: Pick<Slot, "id" | "name" | "defaultCount" | "maxCount">[];
  items: CatalogueItem[];
};

export type CatalogueItem = {
  id: string;
  slotIds: string[];
  render: RenderFields;
  categories: string[];
  attributes: Record<string, string | number>;
  startsAt: number | null;
  endsAt: number | null;
  defaultRank: number;
  /** Approved variants only: nothing else is ever a candidate (worker/variants/). */
  variants: CatalogueVariant[];
};

export type CatalogueVariant = {
  id: string;
  language: string;
  /** The fields this variant replaces. */
  render: Partial<RenderFields>;
  componentIds: Record<string, string>;
  synthetic: boolean;
  /** Impressions so far, for cold-start exploration. */
  impressions: number;
};

/** What can be sold now: the rest of a feed is kept but never served. */
const SERVABLE: Availability[] = ["in_stock", "preorder"];

/** KV key of the snapshot that serves when D1 cannot be read. */
export const catalogueSnapshotKey = (siteId: string) => `catalogue:${siteId}`;

export async function readCatalogueFromD1(db: Database, siteId: string): Promise<Catalogue | null> {
  const [site] = await db.select().from(sites).where(eq(sites.id, siteId)).limit(1);
  if (!site || site.status === "archived") return null;
  const [slotRows, itemRows, variantRows, impressionRows] = await Promise.all([
    db
      .select()
      .from(slots)
      .where(and(eq(slots.siteId, siteId), eq(slots.status, "active"))),
    // Out-of-stock and back-ordered items are never candidates; schedules are checked per decision.
    db
      .select()
      .from(contentItems)
      .where(and(eq(contentItems.siteId, siteId), eq(contentItems.status, "active"), inArray(contentItems.availability, SERVABLE))),
    db
      .select()
      .from(contentVariants)
      .where(and(eq(contentVariants.siteId, siteId), eq(contentVariants.status, "approved")))
      .orderBy(contentVariants.contentId, contentVariants.id),
    sumAggregates(db, { site: siteId }, "variant"),
  ]);
  const impressions = new Map(impressionRows.map((r) => [`${r.key[0]}\u0000${r.key[1]}`, r.counters.impressions]));
  return {
    site: {
      id: site.id,
      name: site.name,
      allowedOrigins: site.allowedOrigins,
      consentModel: site.consentModel,
      honorGpc: site.honorGpc,
      tcfVendorId: site.tcfVendorId,
      timezone: site.timezone,
      originUrl: site.originUrl,
      policy: readPolicy(site.policy),
    },
    slots: slotRows.map(({ id, name, defaultCount, maxCount }) => ({ id, name, defaultCount, maxCount })),
    items: itemRows.map((row) => ({
      id: row.id,
      slotIds: row.slotIds,
      render: row.render,
      categories: row.categories,
      attributes: row.attributes,
      startsAt: row.startsAt?.getTime() ?? null,
      endsAt: row.endsAt?.getTime() ?? null,
      defaultRank: row.defaultRank,
      variants: variantRows
        .filter((v) => v.contentId === row.id)
        .map((v) => ({
          id: v.id,
          language: v.language,
          render: v.components,
          componentIds: componentIdsOf(v.components),
          synthetic: v.synthetic,
          impressions: impressions.get(`${v.contentId}\u0000${v.id}`) ?? 0,
        })),
    })),
  };
}

const cache = new TtlCache<string, Catalogue | null>("catalogue");

/**
 * The site's catalogue, cached in the isolate for `ttlMs`; once expired it is answered while
 * `keepAlive` (the request's `waitUntil`) reads it again (worker/lib/ttl-cache.ts). When D1 fails, the last copy this
 * isolate saw or else the KV snapshot still answers, marked `degraded` so that the decision
 * serves editor defaults and says why; with neither, `catalogue_unavailable`.
 */
export async function loadCatalogue(
  db: Database,
  configKv: KVNamespace,
  siteId: string,
  ttlMs: number,
  keepAlive?: KeepAlive,
): Promise<{ catalogue: Catalogue | null; degraded?: "d1_unavailable" }> {
  try {
    return { catalogue: await cache.get(siteId, ttlMs, () => readCatalogueFromD1(db, siteId), keepAlive) };
  } catch (d1Error) {
    const stale = cache.stale(siteId);
    if (stale !== undefined) return { catalogue: stale, degraded: "d1_unavailable" };
    let snapshot: Catalogue | null = null;
    try {
      snapshot = await configKv.get<Catalogue>(catalogueSnapshotKey(siteId), "json");
    } catch {
      // Both stores are down: fall through.
    }
    // Snapshots written by older code (or by hand) may predate the policy and variants fields.
    if (snapshot)
      return {
        catalogue: {
          ...snapshot,
          site: { ...snapshot.site, policy: readPolicy(snapshot.site.policy) },
          items: snapshot.items.map((item) => ({ ...item, variants: item.variants ?? [] })),
        },
        degraded: "d1_unavailable",
      };
    throw new DependencyError("catalogue_unavailable", { cause: d1Error });
  }
}

/** Drops this isolate's cached catalogue of a site after a write to it (a variant review, say). */
export function forgetCatalogue(siteId: string): void {
  cache.forget(siteId);
}

/** Writes the snapshot used when D1 is unreachable (from seeding and the scheduled refresh). */
export async function writeCatalogueSnapshot(db: Database, configKv: KVNamespace, siteId: string): Promise<boolean> {
  const catalogue = await readCatalogueFromD1(db, siteId);
  if (!catalogue) return false;
  await configKv.put(catalogueSnapshotKey(siteId), JSON.stringify(catalogue));
  return true;
}
