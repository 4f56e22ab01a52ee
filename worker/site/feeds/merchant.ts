import { XMLParser } from "fast-xml-parser";
import { checkedRow, FeedError, type FeedRow, MAX_FEED_ROWS } from "./rows";

/**
 * A Google Merchant Center product feed: RSS 2.0 (`<rss><channel><item>`) or Atom 1.0
 * (`<feed><entry>`), with product attributes in the `g:` namespace
 * (http://base.google.com/ns/1.0). Mapped onto the item schema:
 *
 *   g:id → id; title → title; description → body; link → href; g:image_link → imageUrl;
 *   g:availability → availability; g:product_type ("A > B > C") → categories (each level);
 *   g:expiration_date → endsAt; g:price → attributes.price (+ currency); g:brand,
 *   g:google_product_category, g:condition and g:custom_label_0…4 → attributes.
 *
 * Parsed by fast-xml-parser. A document type declaration is refused outright: product feeds have
 * none, and entity declarations are how XML bombs work.
 */

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => name === "item" || name === "entry" || name === "link",
});

type Node = Record<string, unknown>;

/** The text of an element, whether it came as text, as CDATA or with attributes. */
function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string" || typeof value === "number") return String(value).trim() || undefined;
  if (Array.isArray(value)) return text(value[0]);
  if (typeof value === "object") return text((value as Node)["#text"]);
  return undefined;
}

/** `g:field`, or the unprefixed field that some exports use. */
const field = (node: Node, name: string) => text(node[`g:${name}`]) ?? text(node[name]);

/** RSS `<link>text</link>` or Atom `<link href="…" rel="alternate"/>`. */
function linkOf(node: Node): string | undefined {
  const links = (node.link as unknown[] | undefined) ?? [];
  for (const link of links) {
    if (typeof link === "object" && link !== null && "@href" in link) {
      const rel = (link as Node)["@rel"];
      if (rel === undefined || rel === "alternate") return text((link as Node)["@href"]);
    } else if (text(link)) return text(link);
  }
  return field(node, "link");
}

const AVAILABILITY: Record<string, string> = {
  "in stock": "in_stock",
  in_stock: "in_stock",
  "out of stock": "out_of_stock",
  out_of_stock: "out_of_stock",
  preorder: "preorder",
  backorder: "backorder",
};

/** `19.99 EUR` → price 19.99 and currency EUR; anything else is kept as text and refused by nobody. */
function priceAttributes(price: string | undefined): Record<string, string | number> {
  const match = price?.match(/^(\d+(?:\.\d+)?)\s*([A-Z]{3})$/);
  if (!match) return price ? { price } : {};
  return { price: Number(match[1]), currency: match[2] ?? "" };
}

function rawItem(node: Node, defaultSlots: readonly string[]): Record<string, unknown> {
  const attributes: Record<string, string | number> = { ...priceAttributes(field(node, "price")) };
  for (const name of ["brand", "google_product_category", "condition", ...[0, 1, 2, 3, 4].map((i) => `custom_label_${i}`)]) {
    const value = field(node, name);
    if (value !== undefined) attributes[name] = value;
  }
  const availability = field(node, "availability");
  const productType = field(node, "product_type");
  const expires = field(node, "expiration_date");
  const raw: Record<string, unknown> = {
    id: field(node, "id"),
    title: field(node, "title"),
    body: field(node, "description") ?? text(node.summary) ?? text(node.content),
    href: linkOf(node),
    imageUrl: field(node, "image_link"),
    slots: [...defaultSlots],
    categories: productType
      ? productType
          .split(">")
          .map((c) => c.trim())
          .filter(Boolean)
      : [],
    attributes,
    ...(availability ? { availability: AVAILABILITY[availability.toLowerCase()] ?? availability } : {}),
    ...(expires && !Number.isNaN(Date.parse(expires)) ? { endsAt: new Date(Date.parse(expires)).toISOString() } : {}),
  };
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
}

/** The line each `<item>` or `<entry>` starts on, in document order. */
function startLines(xml: string, tag: "item" | "entry"): number[] {
  const lines: number[] = [];
  const pattern = new RegExp(`<${tag}[\\s>/]`, "g");
  let line = 1;
  let from = 0;
  for (let match = pattern.exec(xml); match; match = pattern.exec(xml)) {
    for (let i = from; i < match.index; i++) if (xml.charCodeAt(i) === 10) line++;
    from = match.index;
    lines.push(line);
  }
  return lines;
}

export function rowsFromMerchantFeed(xml: string, defaultSlots: readonly string[]): FeedRow[] {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new FeedError("the feed declares a document type: product feeds have none, and it is refused");
  let doc: Node;
  try {
    doc = parser.parse(xml, true) as Node;
  } catch (err) {
    throw new FeedError(`the feed is not well-formed XML: ${err instanceof Error ? err.message.split("\n")[0] : "unknown error"}`);
  }
  const rss = (doc.rss as Node | undefined)?.channel as Node | undefined;
  const atom = doc.feed as Node | undefined;
  const tag = rss ? "item" : "entry";
  const nodes = ((rss?.item ?? atom?.entry) as Node[] | undefined) ?? null;
  if (!nodes) throw new FeedError("not a product feed: expected RSS 2.0 <rss><channel><item> or Atom <feed><entry>");
  if (nodes.length > MAX_FEED_ROWS) throw new FeedError(`${nodes.length} items: at most ${MAX_FEED_ROWS} per import`);
  const lines = startLines(xml, tag);
  return nodes.map((node, i) => checkedRow(lines[i] ?? 0, rawItem(node, defaultSlots)));
}
