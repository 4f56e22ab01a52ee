import { z } from "zod";
import { channels } from "./channels";
import { modes } from "./decide";
import { assignmentSchema, decisionContextSchema, decisionSlotSchema, interactionTypes, shadowFillSchema } from "./events";

/**
 * The raw log: every logged decision and every interaction as a row of one versioned, flat schema,
 * written to a Pipelines stream (an Iceberg table in R2 Data Catalog) or as batch files on R2, and
 * read back by training, export and offline reports (DuckDB, Spark, R2 SQL). Columns are snake_case
 * for the SQL engines that read them; nested values (slots, context) are JSON columns.
 *
 * Rows carry only the pseudonymous visitor id, never an IP address, user agent or URL. The JSON
 * Schema that the stream is created with is generated from this schema (`npm run log:schema`) and
 * checked against it in CI (test/node/log-schema.node.ts). A change that old readers cannot read
 * takes a new `v`.
 */
export const LOG_SCHEMA_VERSION = 1;

export const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const day = z.string().regex(DAY_PATTERN, "a UTC date as YYYY-MM-DD");

export const logRowSchema = z.object({
  /** The schema version this row was written with. */
  v: z.literal(LOG_SCHEMA_VERSION),
  kind: z.enum(["decision", "interaction"]),
  /** The row's idempotency key within its kind: the decision id, or the interaction's event id. */
  id: z.string().min(1),
  /** The UTC day the row counts for (the partition), taken from the event itself. */
  day,
  site_id: z.string().min(1),
  /** Milliseconds since the epoch. */
  ts: z.number().int(),
  decision_id: z.string().min(1),
  /** Pseudonymous; null without measurement consent. Erasure rewrites the rows that carry it. */
  visitor_id: z.string().nullable(),
  model_version: z.string().nullable(),
  /** Where the decision was shown (web, edge, server, app, email); absent from rows written before it was recorded. */
  channel: z.enum(channels).nullable().optional(),
  /** The decision's groups, on interactions too (from the decision's signed token): the holdout, experiment arms, fairness segments. */
  holdout: z.boolean(),
  assignments: z.array(assignmentSchema).nullable(),
  segments: z.record(z.string(), z.string()).nullable(),
  // Decision rows.
  mode: z.enum(modes).nullable(),
  mode_reason: z.string().nullable(),
  /** Which model arm served: the live version, a canary, or one forced by a preview. */
  arm: z.enum(["live", "canary", "forced"]).nullable(),
  context: decisionContextSchema.nullable(),
  slots: z.array(decisionSlotSchema).nullable(),
  shadow: z.array(shadowFillSchema).nullable(),
  /** The model's input features, binned (worker/inference/drift.ts). */
  drift: z.record(z.string(), z.string()).nullable(),
  // Interaction rows.
  event: z.enum(interactionTypes).nullable(),
  slot: z.string().nullable(),
  content_id: z.string().nullable(),
  policy: z.string().nullable(),
  value: z.number().nullable(),
  currency: z.string().nullable(),
  variant_id: z.string().nullable(),
  variant_reason: z.string().nullable(),
});
export type LogRow = z.infer<typeof logRowSchema>;

/** The row schema as JSON Schema (draft 2020-12), by zod's own converter: what the stream's schema is derived from. */
export function logRowJsonSchema() {
  return z.toJSONSchema(logRowSchema, { target: "draft-2020-12" });
}
