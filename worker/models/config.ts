import { z } from "zod";
import { modelStorages } from "../store/schema";

/**
 * What serves, as one KV value (`CONFIG` binding, key `models:serving`): the projection of the D1
 * registry that the decision path reads once per isolate per `CONFIG_TTL_MS` (a change reaches
 * every isolate within twice that: worker/lib/ttl-cache.ts). The registry in D1
 * is the record (history, audit); this is what the edge acts on. Both `npm run model` and the
 * admin endpoints rewrite it after every change with `servingConfigOf` (./lifecycle.ts).
 */
export const SERVING_CONFIG_KEY = "models:serving";
/**
 * A pushed version's bytes and manifest in the `MODELS` bucket. R2, not KV: a value there may be
 * larger than KV's 25 MiB, and a version's files are immutable, so each isolate reads them once.
 */
export const modelObjectKey = (version: string) => `models/${version}/model.onnx`;
export const manifestObjectKey = (version: string) => `models/${version}/manifest.json`;
/** The version's micro-segments, when it was pushed with some (worker/models/segments.ts). */
export const segmentsObjectKey = (version: string) => `models/${version}/segments.json`;
/** Where versions pushed before R2 (`storage: "kv"`) kept their files in `CONFIG`, until `npm run model -- move-to-r2`. */
export const legacyBytesKey = (version: string) => `model:${version}`;
export const legacyManifestKey = (version: string) => `model-manifest:${version}`;

export const MAX_SHADOWS = 3;

const servedVersion = z.object({
  version: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  storage: z.enum(modelStorages),
});
export type ServedVersion = z.infer<typeof servedVersion>;

export const servingConfigSchema = z.object({
  /** The version everyone gets (null: no model chosen, editor defaults serve). */
  live: servedVersion.nullable(),
  /** The version that was live before: served when the live one cannot be loaded. */
  previous: servedVersion.nullable(),
  /** A candidate served to a sticky share of visitors. */
  canary: servedVersion.extend({ share: z.number().min(0).max(1) }).nullable(),
  /** Candidates scored next to the served model and logged, never shown. */
  shadows: z.array(servedVersion).max(MAX_SHADOWS),
  killSwitch: z.boolean(),
  updatedAt: z.number(),
});
export type ServingConfig = z.infer<typeof servingConfigSchema>;
