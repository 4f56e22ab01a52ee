/**
 * The demo site "demo": a fashion shop whose products are the Open Bandit Dataset's items
 * (Saito et al., arXiv:2008.07146; Apache-2.0), so the bundled default model knows them. Item
 * features are the real ones from the data; titles, copy and prices are invented for the demo.
 * Seeding (scripts/seed.ts) and the tests build from this one module.
 */
import demoCatalogue from "../../models/default/demo-catalogue.json";
import demoVisitorsFile from "../../models/default/demo-visitors.json";
import obdItems from "../../models/default/obd-items.json";
import type { CatalogueItem } from "../../worker/site/catalogue";
import type { Database } from "../../worker/store/db";
import { contentItems, sites, slots } from "../../worker/store/schema";
import type { VariantImport } from "../../worker/variants/schema";
import type { StoredProfile } from "../../worker/visitors/features";
import type { ConsentModel } from "../../worker/wire/consent";

export const DEMO_SITE = {
  id: "demo",
  name: "Demo fashion shop",
  allowedOrigins: ["http://localhost:8787", "http://127.0.0.1:8787", "http://localhost:8080"],
  consentModel: "opt-in" as const,
  honorGpc: true,
  tcfVendorId: null,
  timezone: "Asia/Tokyo",
  /** The bundled demo origin that /edge/demo/ rewrites (worker/http/routes/demo.ts). */
  originUrl: "bundled:demo",
};

export const DEMO_SLOTS = [
  { id: "hero", name: "Home page hero", defaultCount: 1, maxCount: 1 },
  { id: "recommendations", name: "Recommended for you", defaultCount: 3, maxCount: 6 },
  { id: "promo", name: "Promotion strip", defaultCount: 1, maxCount: 2 },
];

const MEN = [
  "Merino crew-neck knit",
  "Selvedge denim jacket",
  "Oxford button-down shirt",
  "Wool-blend overcoat",
  "Slim chino trousers",
  "Leather Chelsea boots",
  "Quilted field vest",
  "Heavyweight hoodie",
  "Corduroy overshirt",
  "Canvas low-top sneakers",
  "Cashmere scarf",
  "Tapered cargo pants",
];
const WOMEN = [
  "Ribbed turtleneck sweater",
  "Pleated midi skirt",
  "Wide-leg wool trousers",
  "Belted trench coat",
  "Silk-blend blouse",
  "Chunky knit cardigan",
  "Leather ankle boots",
  "Wrap dress",
  "Cropped denim jacket",
  "Mohair beanie",
  "Pointed ballet flats",
  "Oversized blazer",
];
const CTAS = ["Shop now", "See the look", "Discover", "View details"];

/** French names of the demo products, for the demo's French variants. */
const FRENCH: Record<string, string> = {
  "Merino crew-neck knit": "Pull col rond en mérinos",
  "Selvedge denim jacket": "Veste en denim selvedge",
  "Oxford button-down shirt": "Chemise Oxford à col boutonné",
  "Wool-blend overcoat": "Manteau en laine mélangée",
  "Slim chino trousers": "Chino coupe ajustée",
  "Leather Chelsea boots": "Bottines Chelsea en cuir",
  "Quilted field vest": "Gilet matelassé",
  "Heavyweight hoodie": "Sweat à capuche épais",
  "Corduroy overshirt": "Surchemise en velours côtelé",
  "Canvas low-top sneakers": "Baskets basses en toile",
  "Cashmere scarf": "Écharpe en cachemire",
  "Tapered cargo pants": "Pantalon cargo fuselé",
  "Ribbed turtleneck sweater": "Pull col roulé côtelé",
  "Pleated midi skirt": "Jupe midi plissée",
  "Wide-leg wool trousers": "Pantalon large en laine",
  "Belted trench coat": "Trench ceinturé",
  "Silk-blend blouse": "Blouse en soie mélangée",
  "Chunky knit cardigan": "Gilet en grosse maille",
  "Leather ankle boots": "Bottines en cuir",
  "Wrap dress": "Robe portefeuille",
  "Cropped denim jacket": "Veste en jean courte",
  "Mohair beanie": "Bonnet en mohair",
  "Pointed ballet flats": "Ballerines pointues",
  "Oversized blazer": "Blazer oversize",
};

type ObdItem = { contentId: string; campaign: string; attributes: Record<string, string | number> };

/** The demo catalogue: 24 products; 8 may lead as hero, 6 may show in the promo strip. */
export function demoItems(): CatalogueItem[] {
  const byId = new Map((obdItems as ObdItem[]).map((item) => [item.contentId, item]));
  let men = 0;
  let women = 0;
  return (demoCatalogue.contentIds as string[]).map((contentId, i) => {
    const obd = byId.get(contentId);
    if (!obd) throw new Error(`demo catalogue names ${contentId}, which obd-items.json lacks`);
    const title = obd.campaign === "men" ? MEN[men++ % MEN.length] : WOMEN[women++ % WOMEN.length];
    const slotIds = ["recommendations", ...(i % 3 === 0 ? ["hero"] : []), ...(i % 4 === 1 ? ["promo"] : [])];
    return {
      id: contentId,
      slotIds,
      render: {
        title: title ?? contentId,
        body: `${obd.campaign === "men" ? "Men" : "Women"} · autumn collection · from ¥${(4900 + ((i * 1700) % 21000)).toLocaleString("en-US")}`,
        imageUrl: `/demo/img/${contentId}.svg`,
        href: `/demo/products/${contentId}`,
        cta: CTAS[i % CTAS.length],
      },
      categories: [obd.campaign],
      variants: [],
      attributes: obd.attributes,
      startsAt: null,
      endsAt: null,
      defaultRank: (i + 1) * 10,
    };
  });
}

/**
 * The demo's content variants, in English and French, for the items that may lead as hero:
 * two English headlines (one written by a person, one marked as generated by a named tool, so
 * the synthetic label shows) and one French version, all approved by the seed; and one draft
 * per language left for a reviewer. Cold start and the model then choose among the approved.
 */
export function demoVariants(): { variant: VariantImport; status: "approved" | "draft" }[] {
  const human = { origin: "human" as const, license: "demo content, CC0" };
  const generated = { origin: "generated" as const, tool: "demo copywriter (synthetic example, no real model)", license: "CC0" };
  return demoItems()
    .filter((item) => item.slotIds.includes("hero"))
    .flatMap((item, i) => {
      const title = item.render.title;
      const french = FRENCH[title] ?? title;
      const frenchBody = (item.render.body ?? "")
        .replace(/^Women/, "Femme")
        .replace(/^Men/, "Homme")
        .replace("autumn collection", "collection d'automne")
        .replace("from", "dès");
      const variants: { variant: VariantImport; status: "approved" | "draft" }[] = [
        {
          variant: {
            contentId: item.id,
            id: "en-plain",
            language: "en",
            components: { title, cta: "Shop now" },
            provenance: human,
            synthetic: false,
          },
          status: "approved",
        },
        {
          variant: {
            contentId: item.id,
            id: "en-season",
            language: "en",
            components: { title: `${title}, made for the cold days ahead`, cta: "See the look" },
            provenance: generated,
            synthetic: true,
          },
          status: "approved",
        },
        {
          variant: {
            contentId: item.id,
            id: "fr-plain",
            language: "fr",
            components: { title: french, body: frenchBody, cta: "Découvrir" },
            provenance: human,
            synthetic: false,
          },
          status: "approved",
        },
      ];
      if (i === 0)
        variants.push({
          variant: {
            contentId: item.id,
            id: "fr-draft",
            language: "fr",
            components: { title: `${french}, pour les jours froids`, body: frenchBody, cta: "Voir le look" },
            provenance: generated,
            synthetic: true,
          },
          status: "draft",
        });
      return variants;
    });
}

export type DemoVisitor = {
  id: string;
  description: string;
  /** What the visitor likes, in words: the demo's products whose titles say it rank first for them. */
  theme: string;
  /** The product titles the visitor's history is made of. */
  likes: RegExp;
  profile: Pick<StoredProfile, "attributes" | "itemAffinity">;
};

/**
 * The demo's three shoppers. Their ids are outside the demo site's holdout by construction: each
 * id's holdout bucket on the site "demo" (worker/experiments/assign.ts) is above 0.5, the largest
 * share a policy may hold out, so no holdout setting sends them to the editor's defaults
 * (test/node/demo-visitors.node.ts checks it). The first one is also outside the 5% default
 * holdout of the site the browser tests add ("optin").
 */
const SHOPPERS = [
  { id: "00000000-0000-4000-8000-000000000002", theme: "women's knitwear", likes: /turtleneck|cardigan/i },
  { id: "00000000-0000-4000-8000-000000000012", theme: "coats", likes: /overcoat|trench coat/i },
  { id: "00000000-0000-4000-8000-000000000014", theme: "shoes", likes: /boots|sneakers/i },
] as const;
/** One conversion (or three clicks) on each liked product: what moves the bundled model's ranking visibly. */
const LIKED_AFFINITY = 3;

/**
 * Demo visitors with real OBD user features (those of the model's demo visitors,
 * models/default/demo-visitors.json) and a history made up for the demo: a taste for one theme of
 * the demo's products, so that what each one sees first is plain to a person looking at the page.
 */
export function demoVisitors(): DemoVisitor[] {
  const file = demoVisitorsFile as unknown as { visitors: { profile: DemoVisitor["profile"] }[] };
  const items = demoItems();
  return SHOPPERS.map((shopper, i) => {
    const attributes = file.visitors[i % file.visitors.length]?.profile.attributes ?? {};
    const liked = items.filter((item) => shopper.likes.test(item.render.title));
    return {
      ...shopper,
      description: `A shopper for ${shopper.theme}: real OBD user features, and a made-up history of ${liked
        .map((item) => `${item.render.title} (${item.id})`)
        .join(", ")}`,
      profile: { attributes, itemAffinity: Object.fromEntries(liked.map((item) => [item.id, LIKED_AFFINITY])) },
    };
  });
}

/**
 * Inserts a site with the demo slots and catalogue through drizzle (tests and the benchmark;
 * `npm run seed` writes the same rows through wrangler).
 */
export async function insertDemoSite(
  db: Database,
  site: { id: string; name: string; consentModel: ConsentModel; allowedOrigins: string[]; originUrl?: string | null; policy?: unknown },
): Promise<void> {
  await db.insert(sites).values({ ...site, honorGpc: DEMO_SITE.honorGpc, timezone: DEMO_SITE.timezone });
  await db.insert(slots).values(DEMO_SLOTS.map((slot) => ({ siteId: site.id, ...slot })));
  // One statement per item: D1 binds at most 100 parameters per statement.
  const [first, ...rest] = demoItems().map((item) =>
    db.insert(contentItems).values({
      siteId: site.id,
      id: item.id,
      slotIds: item.slotIds,
      render: item.render,
      categories: item.categories,
      attributes: item.attributes,
      defaultRank: item.defaultRank,
    }),
  );
  if (first) await db.batch([first, ...rest]);
}
