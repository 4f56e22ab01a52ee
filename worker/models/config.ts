import { z } from "zod";
import { modelStorages } from "../store/schema";

/**
 * What serves, as one KV value (`CONFIG` binding, key `models:serving`): the projection of the D1
 * registry that the decision path reads once per isolate per `CONFIG_TTL_MS`. The registry in D1
 * is the record (history, audit); this is what the edge acts on. Both `npm run model` and the
 * admin endpoints rewrite it after every change with `servingConfigOf` (./lifecycle.ts).
 */
export const SERVING_CONFIG_KEY = "models:serving";
/** The model bytes and manifest of a pushed version, in the `CONFIG` namespace. */
export const modelBytesKey = (version: string) => `model:${version}`;
export const modelManifestKey = (version: string) => `model-manifest:${version}`;

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
