import { z } from "zod";
import { consentModels } from "./consent";

/**
 * The catalogue's contract for onboarding: sites, slots and content items as the admin API, the
 * CLI, the console and the catalogue feeds (CSV, Google Merchant Center) all give them. One
 * schema per resource, so that a feed row and an API body are checked by the same rules.
 */

export const resourceId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only");

/** Content ids come from product feeds: SKUs with dots and colons are common. */
export const itemId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, "letters, digits and _ . : - only");

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** `https://host[:port]` exactly (http only for a local development host); no path, query or credentials. */
export const webOrigin = z
  .string()
  .max(2048)
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    const secure = url.protocol === "https:" || (url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname));
    return secure && !url.username && !url.password && value.replace(/\/$/, "") === url.origin;
  }, "must be an https origin such as https://shop.example (no path, query or credentials)")
  .transform((value) => new URL(value).origin);

/**
 * The edge route's origin: a plain http(s) origin, optionally with a base path, never a path
 * trick (credentials, `..`, a query, a fragment or a backslash are refused).
 */
export const edgeOrigin = z
  .string()
  .max(2048)
  .refine((value) => {
    if (!URL.canParse(value) || /[\\\s]/.test(value)) return false;
    const url = new URL(value);
    // Written as the URL parser writes it back: no dot segments, percent-encoded tricks or case games.
    const normalized = url.href.replace(/\/$/, "") === value.replace(/\/$/, "");
    return /^https?:$/.test(url.protocol) && !url.username && !url.password && !url.search && !url.hash && normalized;
  }, "must be a plain http(s) origin such as https://origin.shop.example, written out in full (an optional base path; no credentials, query, fragment or ..)")
  .transform((value) => new URL(value).href.replace(/\/$/, ""));

export const httpsUrl = z
  .string()
  .max(2048)
  .refine((value) => URL.canParse(value) && new URL(value).protocol === "https:", "must be an https URL");

/** A feed to fetch: https on the default port, with no credentials in it. */
const feedUrl = httpsUrl
  .refine((value) => !URL.canParse(value) || (!new URL(value).username && !new URL(value).password), "must not carry credentials")
  .refine((value) => !URL.canParse(value) || new URL(value).port === "", "must use https's own port (443)");

/** A link on the site: an https URL or a site-relative path. */
export const siteLink = z
  .string()
  .max(2048)
  .refine(
    (value) => /^\/(?!\/)/.test(value) || (URL.canParse(value) && /^https?:$/.test(new URL(value).protocol)),
    "must be an http(s) URL or a path starting with /",
  );

/** An IANA time zone such as Europe/Paris, as the runtime knows them. */
export const timeZone = z
  .string()
  .max(64)
  .refine((value) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: value });
      return true;
    } catch {
      return false;
    }
  }, "must be an IANA time zone such as Europe/Paris");

export const siteInputSchema = z
  .object({
    id: resourceId,
    name: z.string().trim().min(1).max(200),
    allowedOrigins: z.array(webOrigin).min(1).max(20),
    consentModel: z.enum(consentModels).default("opt-in"),
    honorGpc: z.boolean().default(true),
    tcfVendorId: z.number().int().min(1).max(65535).nullable().default(null),
    timezone: timeZone.default("UTC"),
    originUrl: edgeOrigin.nullable().default(null),
    /**
     * A product feed (Google Merchant Center XML or CSV) that the scheduled job imports. Its form is
     * checked here; its host's addresses when it is fetched (worker/site/feeds/remote.ts).
     */
    feedUrl: feedUrl.nullable().default(null),
  })
  .strict();
export type SiteInput = z.infer<typeof siteInputSchema>;

/** An update names only what changes; the id never does. */
export const siteUpdateSchema = siteInputSchema.omit({ id: true }).partial().strict();

export const slotInputSchema = z
  .object({
    id: resourceId,
    name: z.string().trim().min(1).max(200),
    defaultCount: z.number().int().min(1).max(50).default(1),
    maxCount: z.number().int().min(1).max(50).default(10),
  })
  .strict()
  .refine((slot) => slot.defaultCount <= slot.maxCount, { message: "defaultCount must not exceed maxCount", path: ["defaultCount"] });
export type SlotInput = z.infer<typeof slotInputSchema>;

export const slotUpdateSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    defaultCount: z.number().int().min(1).max(50),
    maxCount: z.number().int().min(1).max(50),
  })
  .partial()
  .strict();

/** Whether an item can be sold now: anything but `in_stock` (and `preorder`) is never served. */
export const availabilities = ["in_stock", "out_of_stock", "preorder", "backorder"] as const;
export type Availability = (typeof availabilities)[number];

const isoTime = z.iso.datetime({ offset: true });

export const itemInputSchema = z
  .object({
    id: itemId,
    title: z.string().trim().min(1).max(300),
    body: z.string().max(5000).optional(),
    imageUrl: httpsUrl.optional(),
    href: siteLink.optional(),
    cta: z.string().max(60).optional(),
    /** Slots the item may fill; a feed import gives its default slots to rows that name none. */
    slots: z.array(resourceId).min(1).max(20),
    categories: z.array(z.string().trim().min(1).max(200)).max(20).default([]),
    /** Item features the model may read (price, brand, custom labels...). */
    attributes: z.record(z.string().regex(/^[A-Za-z0-9_]{1,64}$/), z.union([z.string().max(500), z.number()])).default({}),
    availability: z.enum(availabilities).default("in_stock"),
    startsAt: isoTime.nullable().default(null),
    endsAt: isoTime.nullable().default(null),
    defaultRank: z.number().int().min(0).max(1_000_000).default(1000),
  })
  .strict()
  .refine((item) => !item.startsAt || !item.endsAt || Date.parse(item.startsAt) < Date.parse(item.endsAt), {
    message: "endsAt must come after startsAt",
    path: ["endsAt"],
  });
export type ItemInput = z.infer<typeof itemInputSchema>;

/** One page of a list: `cursor` is the last id of the previous page. */
export const pageQuerySchema = z.object({
  cursor: z.string().max(128).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

// ---- What the admin API answers ------------------------------------------------------------------

const viewStatus = z.enum(["active", "archived"]);

/** A site as the admin API shows it: its settings as saved, its status and when it was created. */
export const siteViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  allowedOrigins: z.array(z.string()),
  consentModel: z.enum(consentModels),
  honorGpc: z.boolean(),
  tcfVendorId: z.number().int().nullable(),
  timezone: z.string(),
  originUrl: z.string().nullable(),
  feedUrl: z.string().nullable(),
  status: viewStatus,
  createdAt: z.string(),
});
export const slotViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  defaultCount: z.number().int(),
  maxCount: z.number().int(),
  status: viewStatus,
});
/** An item in the shape it was given in, with its status and last change. */
export const itemViewSchema = z.object(itemInputSchema.shape).extend({ status: z.string(), updatedAt: z.string() });
/** A page of a list; `next` is the cursor of the following page (null on the last). */
const pageOf = <K extends string, S extends z.ZodType>(key: K, schema: S) =>
  z.object({ [key]: z.array(schema), next: z.string().nullable() } as { [P in K]: z.ZodArray<S> } & { next: z.ZodNullable<z.ZodString> });
export const sitePageSchema = pageOf("sites", siteViewSchema);
export const itemPageSchema = pageOf("items", itemViewSchema);
export const siteDetailSchema = siteViewSchema.extend({
  slots: z.array(slotViewSchema),
  items: z.object({ total: z.number().int(), active: z.number().int() }),
});
/** A feed import's diff: ids added, changed and archived, every refused row with its line and reason, what was applied. */
export const importResultSchema = z.object({
  dryRun: z.boolean(),
  added: z.array(z.string()),
  changed: z.array(z.string()),
  unchanged: z.number().int(),
  archived: z.array(z.string()),
  refused: z.array(z.object({ line: z.number().int(), id: z.string().optional(), reason: z.string() })),
  applied: z.object({ importId: z.string(), statements: z.number().int() }).nullable(),
});
/** One past import (upload, CLI, console or feed URL): its counts, or why it failed. */
export const importRecordSchema = z.object({
  id: z.string(),
  source: z.string(),
  mode: z.enum(["full", "partial"]),
  status: z.enum(["applied", "failed"]),
  added: z.number().int(),
  changed: z.number().int(),
  archived: z.number().int(),
  refused: z.number().int(),
  refusedSample: importResultSchema.shape.refused,
  error: z.string().nullable(),
  createdAt: z.string(),
});
export type ImportRecordView = z.infer<typeof importRecordSchema>;
