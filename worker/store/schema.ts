// Long by design: every D1 table in one file, the one home of the tables (drizzle-kit generates the
// migrations from it).
import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { availabilities } from "../wire/catalogue";
import { consentModels } from "../wire/consent";

/**
 * The D1 schema: the source of row types. Migrations in `migrations/` are generated from it by
 * `npm run db:generate` (drizzle-kit) and applied by `wrangler d1 migrations apply`.
 * Longer than the usual 300 lines on purpose: drizzle-kit reads one schema module, and every
 * table in one file (grouped by area below) is what a contributor looks for when writing a query.
 */

const timestampDefaultNow = (column: string) =>
  integer(column, { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`);

export const resourceStatuses = ["active", "archived"] as const;
export type ResourceStatus = (typeof resourceStatuses)[number];

/** A tenant: one website (or app) whose slots the engine fills. */
export const sites = sqliteTable("sites", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  /** Exact origins (scheme://host[:port]) allowed to call the browser-facing endpoints. */
  allowedOrigins: text("allowed_origins", { mode: "json" }).$type<string[]>().notNull(),
  consentModel: text("consent_model", { enum: consentModels }).notNull().default("opt-in"),
  honorGpc: integer("honor_gpc", { mode: "boolean" }).notNull().default(true),
  /** IAB TCF vendor id whose consent is also required, when the site configures one. */
  tcfVendorId: integer("tcf_vendor_id"),
  /** IANA zone used for the local hour when the request carries none. */
  timezone: text("timezone").notNull().default("UTC"),
  /** Origin that the edge-rewriting route fetches pages from (null: rewriting off). */
  originUrl: text("origin_url"),
  /** Holdout, exploration, business rules, experiments, fairness (worker/site/policy.ts). */
  policy: text("policy", { mode: "json" }).$type<unknown>().notNull().default(sql`'{}'`),
  /** An archived site answers as unknown everywhere; its rows stay for the reports and the audit. */
  status: text("status", { enum: resourceStatuses }).notNull().default("active"),
  /** A product feed (Google Merchant Center XML or CSV) that the scheduled job imports, if any. */
  feedUrl: text("feed_url"),
  createdAt: timestampDefaultNow("created_at"),
});

/** A place on a page that shows content, e.g. `hero` or `recommendations`. */
export const slots = sqliteTable(
  "slots",
  {
    siteId: text("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    name: text("name").notNull(),
    defaultCount: integer("default_count").notNull().default(1),
    maxCount: integer("max_count").notNull().default(10),
    /** An archived slot is no longer decided; requests naming it get the unknown-slot 400. */
    status: text("status", { enum: resourceStatuses }).notNull().default("active"),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.id] })],
);

export const contentStatuses = ["active", "paused", "archived"] as const;

/** Render fields shown by the script tag and the edge rewriter. */
export type RenderFields = {
  title: string;
  body?: string;
  imageUrl?: string;
  href?: string;
  cta?: string;
};

/** One piece of content that can fill a slot. */
export const contentItems = sqliteTable(
  "content_items",
  {
    siteId: text("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    status: text("status", { enum: contentStatuses }).notNull().default("active"),
    /** Slots this item may appear in. */
    slotIds: text("slot_ids", { mode: "json" }).$type<string[]>().notNull(),
    render: text("render", { mode: "json" }).$type<RenderFields>().notNull(),
    categories: text("categories", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    /** Attributes the model reads as item features (see the model manifest's feature spec). */
    attributes: text("attributes", { mode: "json" }).$type<Record<string, string | number>>().notNull().default(sql`'{}'`),
    /** Only `in_stock` and `preorder` items are served (worker/site/catalogue.ts). */
    availability: text("availability", { enum: availabilities }).notNull().default("in_stock"),
    /** Schedule window (null: open-ended). */
    startsAt: integer("starts_at", { mode: "timestamp_ms" }),
    endsAt: integer("ends_at", { mode: "timestamp_ms" }),
    /** The editor's ranking, used whenever the model cannot be (lower comes first). */
    defaultRank: integer("default_rank").notNull().default(1000),
    updatedAt: timestampDefaultNow("updated_at"),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.id] }), index("content_items_site_status").on(t.siteId, t.status)],
);

export const variantStatuses = ["draft", "approved", "rejected"] as const;
export type VariantStatus = (typeof variantStatuses)[number];

/** Where a variant came from, for transparency (worker/variants/schema.ts validates it). */
export type Provenance = { origin: "human" | "generated" | "edited"; tool?: string; license?: string; source?: string };

/**
 * A variant of a content item: one language and one combination of components (headline, body,
 * image, call to action) that override the item's own render fields. Only `approved` variants
 * may ever be served; who reviewed it and when is kept here and in the audit log.
 */
export const contentVariants = sqliteTable(
  "content_variants",
  {
    siteId: text("site_id").notNull(),
    contentId: text("content_id").notNull(),
    id: text("id").notNull(),
    language: text("language").notNull(),
    components: text("components", { mode: "json" }).$type<Partial<RenderFields>>().notNull(),
    provenance: text("provenance", { mode: "json" }).$type<Provenance>().notNull(),
    synthetic: integer("synthetic", { mode: "boolean" }).notNull(),
    status: text("status", { enum: variantStatuses }).notNull().default("draft"),
    reviewedBy: text("reviewed_by"),
    reviewedAt: integer("reviewed_at", { mode: "timestamp_ms" }),
    createdAt: timestampDefaultNow("created_at"),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.contentId, t.id] }), index("content_variants_site_status").on(t.siteId, t.status)],
);

export const modelStatuses = ["shadow", "canary", "live", "retired"] as const;
export type ModelStatus = (typeof modelStatuses)[number];
/** Where a version's bytes are: the bundle, R2 (pushes), or KV (pushed before R2; `npm run model -- move-to-r2` moves them). */
export const modelStorages = ["bundled", "r2", "kv"] as const;
export type ModelStorage = (typeof modelStorages)[number];

/** The model registry. The bytes live in R2 (`models/<version>/`) or in the bundle. */
export const modelVersions = sqliteTable("model_versions", {
  version: text("version").primaryKey(),
  sha256: text("sha256").notNull(),
  /** The manifest as pushed (validated by worker/inference/manifest.ts on push and on load). */
  manifest: text("manifest", { mode: "json" }).$type<unknown>().notNull(),
  status: text("status", { enum: modelStatuses }).notNull(),
  /** Share of traffic for a canary, 0..1. */
  trafficShare: real("traffic_share").notNull().default(0),
  storage: text("storage", { enum: modelStorages }).notNull(),
  /**
   * When this version last became live; kept when it is replaced, so that `rollback` can find the
   * version that was live before. Cleared when a version is rolled back: it is no rollback target.
   */
  promotedAt: integer("promoted_at", { mode: "timestamp_ms" }),
  sizeBytes: integer("size_bytes"),
  createdAt: timestampDefaultNow("created_at"),
  updatedAt: timestampDefaultNow("updated_at"),
});

/** Switches over all model serving; one row (`id` = "serving"). */
export const modelControls = sqliteTable("model_controls", {
  id: text("id").primaryKey(),
  /** Serve editor defaults at once, whatever the registry says. */
  killSwitch: integer("kill_switch", { mode: "boolean" }).notNull().default(false),
  updatedAt: timestampDefaultNow("updated_at"),
});

export type Site = typeof sites.$inferSelect;
export type Slot = typeof slots.$inferSelect;
export type ContentItem = typeof contentItems.$inferSelect;
export type ModelVersion = typeof modelVersions.$inferSelect;

// ---- Consent, privacy and audit -------------------------------------------------------------

export const consentSources = ["banner", "tcf", "gpc", "revocation"] as const;
export type ConsentSource = (typeof consentSources)[number];

/**
 * Proof of consent: what a regulator asks for, and nothing more (no IP address, no user agent).
 * Rows name the pseudonymous subject; erasure deletes them, except the revocation itself, which
 * is kept under the subject's hash only.
 */
export const consentLedger = sqliteTable(
  "consent_ledger",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    siteId: text("site_id"),
    subjectId: text("subject_id"),
    subjectHash: text("subject_hash").notNull(),
    personalization: integer("personalization", { mode: "boolean" }).notNull(),
    measurement: integer("measurement", { mode: "boolean" }).notNull(),
    source: text("source", { enum: consentSources }).notNull(),
    policyVersion: text("policy_version"),
    createdAt: timestampDefaultNow("created_at"),
  },
  (t) => [index("consent_ledger_subject").on(t.subjectId), index("consent_ledger_hash").on(t.subjectHash)],
);

/** The tombstone: a revoked subject, by hash of the pseudonymous id (the id itself is erased). */
export const revocations = sqliteTable("revocations", {
  subjectHash: text("subject_hash").primaryKey(),
  requestId: text("request_id").notNull(),
  reason: text("reason"),
  createdAt: timestampDefaultNow("created_at"),
});

export const privacyRequestStatuses = ["pending", "completed"] as const;

/** The erasure outbox: one row per subject, retried until every store is clean. */
export const privacyRequests = sqliteTable(
  "privacy_requests",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: ["erasure"] }).notNull(),
    /** Needed to find the subject's data; cleared when the erasure completes. */
    subjectId: text("subject_id"),
    subjectHash: text("subject_hash").notNull(),
    status: text("status", { enum: privacyRequestStatuses }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: timestampDefaultNow("created_at"),
    completedAt: integer("completed_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("privacy_requests_status").on(t.status)],
);

export const tokenRoles = ["admin", "privacy"] as const;
export type TokenRole = (typeof tokenRoles)[number];

/** Append-only: every privacy and admin action, by token role (never by token). */
export const auditLog = sqliteTable("audit_log", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  role: text("role", { enum: tokenRoles }).notNull(),
  action: text("action").notNull(),
  target: text("target"),
  createdAt: timestampDefaultNow("created_at"),
});

// ---- The log's aggregates ---------------------------------------------------------------------

/** What a daily aggregate is grouped by; worker/log/metrics.ts documents each metric's key and counters. */
export const aggregateMetrics = [
  "content",
  "decisions",
  "slot",
  "holdout",
  "experiment",
  "segment",
  "explore",
  "model",
  "score",
  "shadow",
  "drift",
  "variant",
  "variant_segment",
  "channel",
] as const;

/**
 * Everything the console and the reports read: one row per site, metric, UTC day and key (the
 * group's values as a JSON array), updated once per key per consumer batch. The raw rows are in
 * the log (R2 or the Iceberg table), never in D1.
 *
 * The table is WITHOUT ROWID (migrations/0015, which drizzle cannot declare) and has no index but
 * its key: D1 bills every b-tree a write touches as a row written, so a rowid table with this
 * primary key and a `day` index made each new key three rows written (measured locally) and stored
 * its key twice; now one. Retention deletes old days by the key's prefix (worker/log/retention.ts).
 */
export const dailyAggregates = sqliteTable(
  "daily_aggregates",
  {
    siteId: text("site_id").notNull(),
    metric: text("metric", { enum: aggregateMetrics }).notNull(),
    day: text("day").notNull(),
    key: text("key").notNull(),
    count: integer("count").notNull().default(0),
    hits: integer("hits").notNull().default(0),
    sum: real("sum").notNull().default(0),
    impressions: integer("impressions").notNull().default(0),
    clicks: integer("clicks").notNull().default(0),
    conversions: integer("conversions").notNull().default(0),
    dismissals: integer("dismissals").notNull().default(0),
    value: real("value").notNull().default(0),
    visitors: integer("visitors").notNull().default(0),
    converters: integer("converters").notNull().default(0),
    conversionsSq: integer("conversions_sq").notNull().default(0),
    valueSq: real("value_sq").notNull().default(0),
    /** A histogram's counts per bin, for the metrics that keep one (worker/log/metrics.ts `histograms`); NULL otherwise. */
    bins: text("bins", { mode: "json" }).$type<Record<string, number>>(),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.metric, t.day, t.key] })],
);

/**
 * What the aggregates have already counted, for the last days (worker/log/plan.ts): an entry per
 * decision and day (`events`: the hashes of its rows already counted, 12 hex digits each;
 * `conversions`: how many of its conversions were counted), and a tally per identified visitor,
 * group and day. The key is the day in its top bits and a hash below, so that old days are deleted
 * by key range. No visitor id is stored.
 */
export const logLedger = sqliteTable("log_ledger", {
  key: integer("key").primaryKey(),
  version: integer("version").notNull(),
  decisions: integer("decisions").notNull().default(0),
  conversions: integer("conversions").notNull().default(0),
  value: real("value").notNull().default(0),
  events: text("events").notNull().default(""),
});

/**
 * The log's deletion list: erasure requests whose subject's rows must still be removed from the
 * raw log. The subject id is read from its privacy request; `doneAt` is set when no partition
 * holds the subject any more.
 */
export const logErasures = sqliteTable("log_erasures", {
  requestId: text("request_id")
    .primaryKey()
    .references(() => privacyRequests.id, { onDelete: "cascade" }),
  queuedAt: timestampDefaultNow("queued_at"),
  doneAt: integer("done_at", { mode: "timestamp_ms" }),
});

/** A pass of the scheduled erasure job over the log's files: where it is, and which requests it covers. */
export const logSweeps = sqliteTable("log_sweeps", {
  id: text("id").primaryKey(),
  startedAt: integer("started_at", { mode: "timestamp_ms" }).notNull(),
  /** The last file key rewritten or checked; the next run goes on after it. */
  cursor: text("cursor").notNull().default(""),
});

// ---- Catalogue imports ---------------------------------------------------------------------------

/** One catalogue import (feed upload, feed URL, CLI): what it changed and which rows it refused. */
export const catalogueImports = sqliteTable(
  "catalogue_imports",
  {
    id: text("id").primaryKey(),
    siteId: text("site_id").notNull(),
    /** `upload:csv`, `upload:merchant`, `url:<feed url>`. */
    source: text("source").notNull(),
    mode: text("mode", { enum: ["full", "partial"] }).notNull(),
    status: text("status", { enum: ["applied", "failed"] }).notNull(),
    added: integer("added").notNull(),
    changed: integer("changed").notNull(),
    archived: integer("archived").notNull(),
    refused: integer("refused").notNull(),
    /** The first refused rows with their lines and reasons (the answer lists them all). */
    refusedSample: text("refused_sample", { mode: "json" }).$type<{ line: number; id?: string; reason: string }[]>().notNull(),
    error: text("error"),
    createdAt: timestampDefaultNow("created_at"),
  },
  (t) => [index("catalogue_imports_site").on(t.siteId, t.createdAt)],
);

// ---- Channels: API keys and customer ids -------------------------------------------------------

export const apiKeyScopes = ["decide", "events"] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/**
 * A site's key for server and app calls to /v1/decide and /v1/events. Only the SHA-256 of the
 * secret is kept (the secret is shown once, at creation); a revoked key stays listed, refused.
 */
export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    siteId: text("site_id")
      .notNull()
      .references(() => sites.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    secretHash: text("secret_hash").notNull().unique(),
    scopes: text("scopes", { mode: "json" }).$type<ApiKeyScope[]>().notNull(),
    createdAt: timestampDefaultNow("created_at"),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("api_keys_site").on(t.siteId)],
);

/**
 * Each site's HMAC key for customer ids: a customer id is kept and compared only as its HMAC under
 * its site's key, never in clear, and the same id on two sites gives two unrelated hashes.
 */
export const customerKeys = sqliteTable("customer_keys", {
  siteId: text("site_id")
    .primaryKey()
    .references(() => sites.id, { onDelete: "cascade" }),
  secret: text("secret").notNull(),
  createdAt: timestampDefaultNow("created_at"),
});
