import { and, eq, sql } from "drizzle-orm";
import { DependencyError } from "../lib/errors";
import { TtlCache } from "../lib/ttl-cache";
import type { Database } from "../store/db";
import { contentItems, contentVariants, type RenderFields, type Site, type Slot, sites, slots, variantRollups } from "../store/schema";
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

/** KV key of the snapshot that serves when D1 cannot be read. */
export const catalogueSnapshotKey = (siteId: string) => `catalogue:${siteId}`;

export async function readCatalogueFromD1(db: Database, siteId: string): Promise<Catalogue | null> {
  const [site] = await db.select().from(sites).where(eq(sites.id, siteId)).limit(1);
  if (!site) return null;
  const [slotRows, itemRows, variantRows, impressionRows] = await Promise.all([
    db.select().from(slots).where(eq(slots.siteId, siteId)),
    db
      .select()
      .from(contentItems)
      .where(and(eq(contentItems.siteId, siteId), eq(contentItems.status, "active"))),
    db
      .select()
      .from(contentVariants)
      .where(and(eq(contentVariants.siteId, siteId), eq(contentVariants.status, "approved")))
      .orderBy(contentVariants.contentId, contentVariants.id),
    db
      .select({
        contentId: variantRollups.contentId,
        variantId: variantRollups.variantId,
        impressions: sql<number>`sum(${variantRollups.impressions})`,
      })
      .from(variantRollups)
      .where(eq(variantRollups.siteId, siteId))
      .groupBy(variantRollups.contentId, variantRollups.variantId),
  ]);
  const impressions = new Map(impressionRows.map((r) => [`${r.contentId}\u0000${r.variantId}`, r.impressions]));
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

const cache = new TtlCache<string, Catalogue | null>();

/**
 * The site's catalogue, cached in the isolate for `ttlMs`. When D1 fails, the last copy this
 * isolate saw or else the KV snapshot still answers, marked `degraded` so that the decision
 * serves editor defaults and says why; with neither, `catalogue_unavailable`.
 */
export async function loadCatalogue(
  db: Database,
  configKv: KVNamespace,
  siteId: string,
  ttlMs: number,
): Promise<{ catalogue: Catalogue | null; degraded?: "d1_unavailable" }> {
  try {
    return { catalogue: await cache.get(siteId, ttlMs, () => readCatalogueFromD1(db, siteId)) };
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

export async function refreshAllSnapshots(db: Database, configKv: KVNamespace): Promise<number> {
  const all = await db.select({ id: sites.id }).from(sites);
  let written = 0;
  for (const { id } of all) if (await writeCatalogueSnapshot(db, configKv, id)) written++;
  return written;
}
