import type * as ort from "onnxruntime-web";
import { DependencyError } from "../lib/errors";
import { type CandidateFeatures, createEncoder, type RequestContext, type VisitorProfile } from "./encode";
import type { ModelManifest } from "./manifest";

/**
 * Scoring over a loaded onnxruntime-web session, independent of where the runtime runs: the
 * worker (./model.ts, workerd) and the offline tools (`npm run evaluate`, `npm run model`, in
 * Node) build their scorers here, so that both give the same scores for the same inputs.
 */

/** A loaded model: scores all candidates of one decision in one batched `run`. */
export type Scorer = {
  version: string;
  manifest: ModelManifest;
  score(profile: VisitorProfile | null, context: RequestContext, items: readonly CandidateFeatures[]): Promise<Float32Array>;
};

export type ModelSource = {
  version: string;
  manifest: unknown;
  /** The expected sha256 (from the registry); the bytes must match it. */
  sha256: string;
  bytes: () => Promise<ArrayBuffer | null>;
};

export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The onnxruntime-web surface a scorer needs; workerd and Node (npm run evaluate) each supply theirs. */
export type OrtSession = Pick<ort.InferenceSession, "inputNames" | "outputNames" | "run">;
export type OrtTensorConstructor = new (type: "float32", data: Float32Array, dims: readonly number[]) => ort.Tensor;

/**
 * A scorer over a loaded session: the one place where rows are encoded and scored, shared by the
 * worker and the offline evaluation so that both give the same scores for the same inputs.
 */
export function scorerFromSession(version: string, manifest: ModelManifest, session: OrtSession, Tensor: OrtTensorConstructor): Scorer {
  if (!session.inputNames.includes(manifest.input.name) || !session.outputNames.includes(manifest.output.name)) {
    throw new DependencyError("model_unavailable", { cause: new Error("model inputs/outputs do not match manifest") });
  }
  const encode = createEncoder(manifest);
  const dims = manifest.input.dims;
  return {
    version,
    manifest,
    async score(profile, context, items) {
      if (items.length === 0) return new Float32Array(0);
      const input = new Tensor("float32", encode(profile, context, items), [items.length, dims]);
      const output = await session.run({ [manifest.input.name]: input });
      const scores = output[manifest.output.name];
      if (!scores) throw new Error(`model returned no "${manifest.output.name}"`);
      return scores.data as Float32Array;
    },
  };
}
