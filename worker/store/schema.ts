import { sql } from "drizzle-orm";
import { index, integer, primaryKey, real, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { interactionTypes } from "../wire/events";

/**
 * The D1 schema: the source of row types. Migrations in `migrations/` are generated from it by
 * `npm run db:generate` (drizzle-kit) and applied by `wrangler d1 migrations apply`.
 * Longer than the usual 300 lines on purpose: drizzle-kit reads one schema module, and every
 * table in one file (grouped by area below) is what a contributor looks for when writing a query.
 */

const timestampDefaultNow = (column: string) =>
  integer(column, { mode: "timestamp_ms" }).notNull().default(sql`(unixepoch('subsec') * 1000)`);

export const consentModels = ["opt-in", "opt-out"] as const;
export type ConsentModel = (typeof consentModels)[number];

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
export const modelStorages = ["bundled", "kv"] as const;
export type ModelStorage = (typeof modelStorages)[number];

/** The model registry. The bytes live in KV (`model:<version>`) or in the bundle. */
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

// ---- Event pipeline --------------------------------------------------------------------------

/** One row per decision, as logged for evaluation and retraining (no IP, UA or URL). */
export const decisions = sqliteTable(
  "decisions",
  {
    id: text("id").primaryKey(),
    siteId: text("site_id").notNull(),
    visitorId: text("visitor_id"),
    ts: integer("ts", { mode: "timestamp_ms" }).notNull(),
    mode: text("mode").notNull(),
    modelVersion: text("model_version"),
    /** The context features used, and every slot's shown items with score and propensity. */
    context: text("context", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    slots: text("slots", { mode: "json" }).$type<unknown[]>().notNull(),
    /** Which model arm served: the live version or a canary. */
    arm: text("arm"),
    /** What each shadow model would have shown: `[{ version, slots: [{ slot, items }] }]`. */
    shadow: text("shadow", { mode: "json" }).$type<unknown[]>(),
    /** In the site's global holdout (editor defaults, never model output). */
    holdout: integer("holdout", { mode: "boolean" }).notNull().default(false),
    /** Experiment arms: `[{ experiment, arm }]`. */
    assignments: text("assignments", { mode: "json" }).$type<{ experiment: string; arm: string }[]>(),
    /** The configured fairness segments' values, e.g. `{ country: "FR", device: "mobile" }`. */
    segments: text("segments", { mode: "json" }).$type<Record<string, string>>(),
    /** Why this mode (consent basis or fallback), for `/v1/why`. */
    modeReason: text("mode_reason"),
  },
  (t) => [index("decisions_visitor").on(t.visitorId), index("decisions_site_ts").on(t.siteId, t.ts)],
);

/** Raw interactions; `event_id` makes every write idempotent. */
export const events = sqliteTable(
  "events",
  {
    eventId: text("event_id").primaryKey(),
    siteId: text("site_id").notNull(),
    decisionId: text("decision_id").notNull(),
    visitorId: text("visitor_id"),
    type: text("type", { enum: interactionTypes }).notNull(),
    slot: text("slot").notNull(),
    contentId: text("content_id").notNull(),
    policy: text("policy").notNull(),
    modelVersion: text("model_version").notNull(),
    ts: integer("ts", { mode: "timestamp_ms" }).notNull(),
    day: text("day").notNull(),
    value: real("value"),
    currency: text("currency"),
    /** The content variant shown, if any, and why it was chosen (worker/variants/choose.ts). */
    variantId: text("variant_id"),
    variantReason: text("variant_reason"),
  },
  (t) => [
    index("events_visitor").on(t.visitorId),
    index("events_decision").on(t.decisionId),
    index("events_site_variant").on(t.siteId, t.contentId, t.variantId),
  ],
);

/**
 * Feature drift: decisions per model version, day, feature and bin (worker/inference/drift.ts),
 * compared with the training distribution that the model's manifest keeps.
 */
export const featureDrift = sqliteTable(
  "feature_drift",
  {
    siteId: text("site_id").notNull(),
    modelVersion: text("model_version").notNull(),
    day: text("day").notNull(),
    feature: text("feature").notNull(),
    bin: text("bin").notNull(),
    count: integer("count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.modelVersion, t.day, t.feature, t.bin] })],
);

/**
 * Daily roll-ups per content variant: what cold-start exploration counts (impressions so far, read
 * with every catalogue load) and the variant report's totals, without scanning raw events.
 */
export const variantRollups = sqliteTable(
  "variant_rollups",
  {
    siteId: text("site_id").notNull(),
    contentId: text("content_id").notNull(),
    variantId: text("variant_id").notNull(),
    day: text("day").notNull(),
    impressions: integer("impressions").notNull().default(0),
    clicks: integer("clicks").notNull().default(0),
    conversions: integer("conversions").notNull().default(0),
    /** Impressions of the variant drawn by cold-start exploration. */
    coldStartImpressions: integer("cold_start_impressions").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.contentId, t.variantId, t.day] })],
);

/** Daily roll-ups per site × slot × content × policy × model version. */
export const rollups = sqliteTable(
  "rollups",
  {
    siteId: text("site_id").notNull(),
    day: text("day").notNull(),
    slot: text("slot").notNull(),
    contentId: text("content_id").notNull(),
    policy: text("policy").notNull(),
    modelVersion: text("model_version").notNull(),
    impressions: integer("impressions").notNull().default(0),
    clicks: integer("clicks").notNull().default(0),
    conversions: integer("conversions").notNull().default(0),
    dismissals: integer("dismissals").notNull().default(0),
    value: real("value").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.siteId, t.day, t.slot, t.contentId, t.policy, t.modelVersion] })],
);
