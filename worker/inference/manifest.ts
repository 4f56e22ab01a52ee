import { z } from "zod";

/**
 * A model is an `.onnx` file plus this manifest. The feature spec tells the encoder
 * (./encode.ts) how to turn a visitor profile, the request context and a candidate item into the
 * model's inputs; training (scripts/train) writes the same spec from the same rules.
 *
 * Two families share the spec:
 * - `mlp`: one float32 row per candidate (every block of the spec concatenated), scored by a
 *   click-probability MLP. Manifests written before families existed are this one.
 * - `sequence`: the visitor's recent items in order (a `sequence` spec), pooled by self-attention
 *   over item embeddings of the whole catalogue, plus a visitor/context row and a row of item
 *   attributes per candidate; scores are ranking logits (higher ranks first), not probabilities.
 */

/** The most recent items a visitor profile carries (`VisitorProfile.recent`); a model reads at most this many. */
export const RECENT_ITEMS_MAX = 50;

const source = z.enum(["user", "context", "item"]);

const categorical = z.object({
  name: z.string(),
  kind: z.literal("categorical"),
  source,
  key: z.string(),
  vocabulary: z.array(z.string()),
  /** A value the worker always uses at serving time (e.g. position "1" to remove position bias). */
  serving: z.string().optional(),
});

const numeric = z.object({
  name: z.string(),
  kind: z.literal("numeric"),
  source,
  key: z.string(),
  mean: z.number(),
  std: z.number().positive(),
  default: z.number().optional(),
  serving: z.number().optional(),
});

const cyclic = z.object({
  name: z.string(),
  kind: z.literal("cyclic"),
  source: z.literal("context"),
  key: z.string(),
  period: z.number().positive(),
});

/** A per-item value from the visitor's profile, e.g. affinity for the candidate itself. */
const userItem = z.object({
  name: z.string(),
  kind: z.literal("user_item"),
  key: z.string(),
  mean: z.number(),
  std: z.number().positive(),
  default: z.number(),
});

/**
 * The visitor's history as a bag over known items: column i holds `transform(profile[key][item i])`
 * (0 when absent). With the candidate's own id, this lets the model learn item-to-item
 * (collaborative) signal from history that the event consumer keeps up to date in KV.
 */
const itemBag = z.object({
  name: z.string(),
  kind: z.literal("item_bag"),
  key: z.string(),
  vocabulary: z.array(z.string()).min(1),
  transform: z.enum(["log1p", "identity"]),
});

/**
 * The visitor's recent items in order (`profile.recent`, most recent first): the `sequence` family
 * reads the `length` most recent as catalogue rows (./encode.ts says how).
 */
const sequence = z.object({
  name: z.string(),
  kind: z.literal("sequence"),
  key: z.literal("recent"),
  length: z.number().int().min(1).max(RECENT_ITEMS_MAX),
});

export const featureSpecSchema = z.discriminatedUnion("kind", [categorical, numeric, cyclic, userItem, itemBag, sequence]);
export type FeatureSpec = z.infer<typeof featureSpecSchema>;

const common = {
  schemaVersion: z.literal(1),
  version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "version: letters, digits, . _ - (max 64)"),
  createdAt: z.string(),
  file: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  quantization: z.enum(["int8", "none"]),
  features: z.array(featureSpecSchema).min(1),
  /** The items the model knows by id. In the `sequence` family, item i's embedding row is `FIRST_ITEM_ROW + i`. */
  catalogue: z.array(z.string()),
  /**
   * The training population's distribution of each visitor and context feature, binned by
   * ./drift.ts; serving counts are compared with it (population stability index).
   */
  drift: z.array(z.object({ feature: z.string(), bins: z.array(z.string()).min(1), expected: z.array(z.number().min(0)) })).optional(),
  training: z.record(z.string(), z.unknown()).optional(),
};

const mlpManifest = z.object({
  ...common,
  family: z.literal("mlp"),
  input: z.object({ name: z.string(), dims: z.number().int().positive() }),
  output: z.object({ name: z.string() }),
});

const namedBlock = z.object({ name: z.string(), dims: z.number().int().positive() });
const sequenceManifest = z.object({
  ...common,
  family: z.literal("sequence"),
  inputs: z.object({
    /** int32 [1, t]: catalogue rows, oldest first (./encode.ts). */
    sequence: z.string(),
    /** int32 [N]: each candidate's catalogue row. */
    items: z.string(),
    /** float32 [1, dims]: the visitor and context blocks of the spec; absent when the spec has none. */
    context: namedBlock.optional(),
    /** float32 [N, dims]: each candidate's attribute blocks; absent when the spec has none. */
    itemFeatures: namedBlock.optional(),
  }),
  /** `score`: float32 [N] ranking logits; `visitor`: float32 [1, d], the pooled visitor vector (micro-segments). */
  output: z.object({ name: z.string(), visitor: z.string() }),
});

/** Manifests from before model families are `mlp` ones. */
const withFamily = (m: unknown) => (m && typeof m === "object" && !("family" in m) ? { ...m, family: "mlp" } : m);

export const manifestSchema = z.preprocess(
  withFamily,
  z.discriminatedUnion("family", [mlpManifest, sequenceManifest]).superRefine((m, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    if (m.family === "mlp") {
      if (m.features.some((f) => f.kind === "sequence")) issue(["features"], "the mlp family has no sequence input");
      const width = m.features.reduce((sum, f) => sum + featureWidth(f), 0);
      if (width !== m.input.dims) issue(["input", "dims"], `feature spec encodes ${width} columns but input.dims is ${m.input.dims}`);
      return;
    }
    const blocks = sequenceBlocks(m.features);
    if (blocks.sequence.length !== 1) issue(["features"], "the sequence family reads exactly one sequence spec");
    if (blocks.unsupported.length > 0) {
      issue(["features"], `the sequence family has no ${blocks.unsupported.map((f) => f.kind).join(", ")} inputs`);
    }
    for (const [key, specs] of [
      ["context", blocks.context],
      ["itemFeatures", blocks.item],
    ] as const) {
      const width = specs.reduce((sum, f) => sum + featureWidth(f), 0);
      const declared = m.inputs[key]?.dims ?? 0;
      if (width !== declared) issue(["inputs", key], `feature spec encodes ${width} ${key} columns but the manifest declares ${declared}`);
    }
  }),
);
export type ModelManifest = z.infer<typeof manifestSchema>;
export type MlpManifest = Extract<ModelManifest, { family: "mlp" }>;
export type SequenceManifest = Extract<ModelManifest, { family: "sequence" }>;

export function featureWidth(spec: FeatureSpec): number {
  switch (spec.kind) {
    case "categorical":
      return spec.vocabulary.length + 1;
    case "item_bag":
      return spec.vocabulary.length;
    case "cyclic":
      return 2;
    case "sequence":
      return 0; // ids, not columns: an input of its own
    default:
      return 1;
  }
}

/**
 * How the `sequence` family splits a spec: the visitor/context block (one row per decision), the
 * item attribute block (one row per candidate; the candidate's id is its embedding row, not a
 * one-hot column) and the sequence. Per-item history features and id columns belong to the `mlp` family.
 */
export function sequenceBlocks(features: readonly FeatureSpec[]) {
  const sequence = features.filter((f) => f.kind === "sequence");
  const byId = (f: FeatureSpec) => "source" in f && f.source === "item" && f.key === "contentId";
  const unsupported = features.filter((f) => f.kind === "item_bag" || f.kind === "user_item" || byId(f));
  const context = features.filter((f) => "source" in f && f.source !== "item");
  const item = features.filter((f) => "source" in f && f.source === "item" && !byId(f));
  return { sequence, unsupported, context, item };
}
