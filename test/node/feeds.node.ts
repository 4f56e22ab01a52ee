import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { rowsFromCsv } from "../../worker/site/feeds/csv";
import { rowsFromMerchantFeed } from "../../worker/site/feeds/merchant";
import { type CurrentItem, planImport } from "../../worker/site/feeds/plan";
import { FeedError, type FeedRow } from "../../worker/site/feeds/rows";
import type { ItemInput } from "../../worker/wire/catalogue";

/** Catalogue feeds: CSV and Google Merchant Center rows with their lines, and imports as diffs. */
const fixture = (name: string) => readFileSync(`test/fixtures/feeds/${name}`, "utf8");
const items = (rows: FeedRow[]) => rows.flatMap((r) => ("item" in r ? [r.item] : []));
const refused = (rows: FeedRow[]) => rows.flatMap((r) => ("reason" in r ? [r] : []));

describe("catalogue feeds", () => {
  it("reads a Google Merchant Center RSS feed: fields mapped, bad rows refused with their line", () => {
    const rows = rowsFromMerchantFeed(fixture("merchant-rss.xml"), ["recommendations"]);
    const [cardigan, scarf] = items(rows);
    expect(cardigan).toMatchObject({
      id: "SKU-1",
      title: "Merino cardigan",
      body: "Soft <b>merino</b> wool.",
      href: "https://shop.example/p/sku-1",
      imageUrl: "https://cdn.shop.example/sku-1.jpg",
      availability: "in_stock",
      categories: ["Women", "Knitwear", "Cardigans"],
      slots: ["recommendations"],
      attributes: { price: 89, currency: "EUR", brand: "Lana", google_product_category: "212", custom_label_0: "autumn" },
    });
    expect(scarf).toMatchObject({ id: "SKU-3", availability: "preorder", endsAt: "2027-01-31T00:00:00.000Z" });
    // The jacket's image is not https: refused, with the line its <item> starts on.
    expect(refused(rows)).toEqual([{ line: 20, id: "SKU-2", reason: "imageUrl: must be an https URL" }]);
  });

  it("reads the Atom form of the feed", () => {
    const [shirt] = items(rowsFromMerchantFeed(fixture("merchant-atom.xml"), ["hero"]));
    expect(shirt).toMatchObject({
      id: "A-1",
      href: "https://shop.example/p/a-1",
      body: "Light linen.",
      attributes: { price: 45, currency: "USD" },
    });
  });

  it("refuses a feed with a document type declaration (entity expansion) and one that is not a feed", () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><rss><channel><item><title>&lol;</title></item></channel></rss>`;
    expect(() => rowsFromMerchantFeed(bomb, ["hero"])).toThrow(FeedError);
    expect(() => rowsFromMerchantFeed("<html><body>hi</body></html>", ["hero"])).toThrow(/not a product feed/);
    expect(() => rowsFromMerchantFeed("<rss><channel><item>", ["hero"])).toThrow(FeedError);
  });

  it("reads a CSV with quoted multi-line cells, lists and attributes, naming each bad row's line", () => {
    const csv = [
      "id,title,body,slots,categories,availability,attr:price,attr:brand",
      'c-1,Cardigan,"Soft,\nwarm",hero;recommendations,Women;Knitwear,in_stock,89.5,Lana',
      "c-2,,No title,,,,,",
      "c-3,Scarf,,,,sold_out,,",
      "c-4,Hat,,,,,12,",
    ].join("\n");
    const rows = rowsFromCsv(csv, ["recommendations"]);
    expect(items(rows)).toEqual([
      expect.objectContaining({
        id: "c-1",
        body: "Soft,\nwarm",
        slots: ["hero", "recommendations"],
        attributes: { price: 89.5, brand: "Lana" },
      }),
      expect.objectContaining({ id: "c-4", slots: ["recommendations"], attributes: { price: 12 } }),
    ]);
    expect(refused(rows)).toEqual([
      { line: 4, id: "c-2", reason: expect.stringMatching(/^title: /) },
      { line: 5, id: "c-3", reason: expect.stringMatching(/^availability: /) },
    ]);
    expect(() => rowsFromCsv("id,title,colour\n1,x,red", ["hero"])).toThrow(/unknown columns colour/);
  });

  it("plans an import as a diff: added, changed, unchanged, archived; refused rows and duplicates change nothing", () => {
    const item = (id: string, title = id): ItemInput =>
      ({
        id,
        title,
        slots: ["hero"],
        categories: [],
        attributes: {},
        availability: "in_stock",
        startsAt: null,
        endsAt: null,
        defaultRank: 1000,
      }) as ItemInput;
    const current = new Map<string, CurrentItem>([
      ["keep", { input: item("keep"), active: true }],
      ["edit", { input: item("edit"), active: true }],
      ["gone", { input: item("gone"), active: true }],
      ["bad", { input: item("bad"), active: true }],
    ]);
    const rows: FeedRow[] = [
      { line: 2, item: item("keep") },
      { line: 3, item: item("edit", "Edited") },
      { line: 4, item: item("new") },
      { line: 5, id: "bad", reason: "title: too short" },
      { line: 6, item: item("new", "Again") },
      { line: 7, item: { ...item("nowhere"), slots: ["footer"] } },
    ];
    const plan = planImport(rows, current, { mode: "full", slots: new Set(["hero"]) });
    expect(plan.added.map((i) => i.id)).toEqual(["new"]);
    expect(plan.changed.map((i) => i.id)).toEqual(["edit"]);
    expect(plan.unchanged).toBe(1);
    expect(plan.archived).toEqual(["gone"]);
    expect(plan.refused).toEqual([
      { line: 5, id: "bad", reason: "title: too short" },
      { line: 6, id: "new", reason: 'id: "new" is already listed at line 4' },
      { line: 7, id: "nowhere", reason: 'slots: the site has no slot "footer"' },
    ]);
    expect(planImport(rows, current, { mode: "partial", slots: new Set(["hero"]) }).archived).toEqual([]);
  });
});
