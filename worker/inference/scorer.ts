import type * as ort from "onnxruntime-web";
import { DependencyError } from "../lib/errors";
import { type CandidateFeatures, createEncoder, createSequenceEncoder, type RequestContext, type VisitorProfile } from "./encode";
import type { MlpManifest, ModelManifest, SequenceManifest } from "./manifest";

/**
 * Scoring over a loaded onnxruntime-web session, independent of where the runtime runs: the
 * worker (./model.ts, workerd) and the offline tools (`npm run evaluate`, `npm run model`, in
 * Node) build their scorers here, so that both give the same scores for the same inputs.
 */

/**
 * What a caller may take from the same run besides the scores: the `sequence` family's pooled
 * visitor vector (its `visitor` output), which places the visitor in a micro-segment
 * (./segments.ts). The `mlp` family has none and never calls it.
 */
export type ScoreOptions = { onVisitor?: (vector: Float32Array) => void };

/** A loaded model: scores all candidates of one decision in one batched `run`. */
export type Scorer = {
  version: string;
  manifest: ModelManifest;
  score(
    profile: VisitorProfile | null,
    context: RequestContext,
    items: readonly CandidateFeatures[],
    options?: ScoreOptions,
  ): Promise<Float32Array>;
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
export type OrtTensorConstructor = {
  new (type: "float32", data: Float32Array, dims: readonly number[]): ort.Tensor;
  new (type: "int32", data: Int32Array, dims: readonly number[]): ort.Tensor;
};

type ScoreFn = Scorer["score"];

function checkNames(session: OrtSession, inputs: readonly string[], outputs: readonly string[]): void {
  if (!inputs.every((name) => session.inputNames.includes(name)) || !outputs.every((name) => session.outputNames.includes(name))) {
    throw new DependencyError("model_unavailable", { cause: new Error("model inputs/outputs do not match manifest") });
  }
}

function outputOf(output: ort.InferenceSession.OnnxValueMapType, name: string): Float32Array {
  const tensor = output[name];
  if (!tensor) throw new Error(`model returned no "${name}"`);
  return tensor.data as Float32Array;
}

/** The `mlp` family: one [N, dims] float32 batch. */
function mlpScore(manifest: MlpManifest, session: OrtSession, Tensor: OrtTensorConstructor): ScoreFn {
  checkNames(session, [manifest.input.name], [manifest.output.name]);
  const encode = createEncoder(manifest);
  const dims = manifest.input.dims;
  return async (profile, context, items) => {
    if (items.length === 0) return new Float32Array(0);
    const input = new Tensor("float32", encode(profile, context, items), [items.length, dims]);
    return outputOf(await session.run({ [manifest.input.name]: input }), manifest.output.name);
  };
}

/** The `sequence` family's feeds for one decision (./encode.ts builds them). */
function sequenceFeeds(manifest: SequenceManifest, Tensor: OrtTensorConstructor) {
  const encoder = createSequenceEncoder(manifest);
  const { inputs } = manifest;
  return (profile: VisitorProfile | null, context: RequestContext, items: readonly CandidateFeatures[]) => {
    const x = encoder.encode(profile, context, items);
    const feeds: Record<string, ort.Tensor> = {
      [inputs.sequence]: new Tensor("int32", x.sequence, [1, x.sequence.length]),
      [inputs.items]: new Tensor("int32", x.items, [items.length]),
    };
    if (inputs.context) feeds[inputs.context.name] = new Tensor("float32", x.context, [1, encoder.contextDims]);
    if (inputs.itemFeatures) feeds[inputs.itemFeatures.name] = new Tensor("float32", x.itemFeatures, [items.length, encoder.itemDims]);
    return feeds;
  };
}

/** The `sequence` family: the visitor's sequence once and N candidate rows, one run. */
function sequenceScore(manifest: SequenceManifest, session: OrtSession, Tensor: OrtTensorConstructor): ScoreFn {
  const { inputs, output } = manifest;
  const names = [inputs.sequence, inputs.items, inputs.context?.name, inputs.itemFeatures?.name].filter((n) => n !== undefined);
  checkNames(session, names, [output.name, output.visitor]);
  const feeds = sequenceFeeds(manifest, Tensor);
  return async (profile, context, items, options) => {
    if (items.length === 0) return new Float32Array(0);
    const onVisitor = options?.onVisitor;
    // One run either way: asking for the visitor output too costs no second pass over the graph.
    const result = await session.run(feeds(profile, context, items), onVisitor ? [output.name, output.visitor] : [output.name]);
    onVisitor?.(outputOf(result, output.visitor));
    return outputOf(result, output.name);
  };
}

/**
 * A scorer over a loaded session: the one place where inputs are encoded and scored, shared by the
 * worker and the offline evaluation so that both give the same scores for the same inputs.
 */
export function scorerFromSession(version: string, manifest: ModelManifest, session: OrtSession, Tensor: OrtTensorConstructor): Scorer {
  const score = manifest.family === "mlp" ? mlpScore(manifest, session, Tensor) : sequenceScore(manifest, session, Tensor);
  return { version, manifest, score };
}

/**
 * The pooled visitor vector of a `sequence` model (its `visitor` output) for a profile and context:
 * what micro-segments cluster (scripts/segments). Null for the `mlp` family, which has none.
 */
export function visitorEmbedder(manifest: ModelManifest, session: OrtSession, Tensor: OrtTensorConstructor) {
  if (manifest.family !== "sequence") return null;
  const feeds = sequenceFeeds(manifest, Tensor);
  const probe: CandidateFeatures[] = [{ contentId: "", attributes: {} }];
  return async (profile: VisitorProfile | null, context: RequestContext): Promise<Float32Array> =>
    outputOf(await session.run(feeds(profile, context, probe), [manifest.output.visitor]), manifest.output.visitor);
}
