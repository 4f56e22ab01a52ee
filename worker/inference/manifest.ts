import { z } from "zod";

/**
 * A model is an `.onnx` file plus this manifest. The feature spec tells the encoder
 * (./encode.ts) how to turn a visitor profile, the request context and a candidate item into
 * one float32 row; training (scripts/train) writes the same spec from the same rules.
 */

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

export const featureSpecSchema = z.discriminatedUnion("kind", [categorical, numeric, cyclic, userItem, itemBag]);
export type FeatureSpec = z.infer<typeof featureSpecSchema>;

export const manifestSchema = z
  .object({
    schemaVersion: z.literal(1),
    version: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, "version: letters, digits, . _ - (max 64)"),
    createdAt: z.string(),
    file: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    quantization: z.enum(["int8", "none"]),
    input: z.object({ name: z.string(), dims: z.number().int().positive() }),
    output: z.object({ name: z.string() }),
    features: z.array(featureSpecSchema).min(1),
    catalogue: z.array(z.string()),
    /**
     * The training population's distribution of each visitor and context feature, binned by
     * ./drift.ts; serving counts are compared with it (population stability index).
     */
    drift: z.array(z.object({ feature: z.string(), bins: z.array(z.string()).min(1), expected: z.array(z.number().min(0)) })).optional(),
    training: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((m, ctx) => {
    const width = m.features.reduce((sum, f) => sum + featureWidth(f), 0);
    if (width !== m.input.dims) {
      ctx.addIssue({
        code: "custom",
        path: ["input", "dims"],
        message: `feature spec encodes ${width} columns but input.dims is ${m.input.dims}`,
      });
    }
  });
export type ModelManifest = z.infer<typeof manifestSchema>;

export function featureWidth(spec: FeatureSpec): number {
  switch (spec.kind) {
    case "categorical":
      return spec.vocabulary.length + 1;
    case "item_bag":
      return spec.vocabulary.length;
    case "cyclic":
      return 2;
    default:
      return 1;
  }
}
