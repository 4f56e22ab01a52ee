import { type ModelManifest, manifestSchema } from "../inference/manifest";
import { type ModelSource, type Scorer, sha256Hex } from "../inference/scorer";
import { ApiError } from "../lib/errors";

/**
 * What `push` checks before anything is uploaded, in the worker (admin endpoint) and in Node
 * (`npm run model -- push`): the manifest is valid, the bytes are the ones it names (sha256),
 * onnxruntime-web loads them with the inputs and outputs the manifest declares, and a sample
 * batch scores to finite numbers, one per candidate.
 */

const refused = (message: string, field?: string) => new ApiError(422, "model_refused", message, field);

export async function validateModel(
  rawManifest: unknown,
  bytes: ArrayBuffer,
  load: (source: ModelSource) => Promise<Scorer>,
): Promise<{ manifest: ModelManifest; sha256: string; sampleScores: number[] }> {
  const parsed = manifestSchema.safeParse(rawManifest);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw refused(`manifest: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`, "manifest");
  }
  const manifest = parsed.data;
  const sha256 = await sha256Hex(bytes);
  if (sha256 !== manifest.sha256) throw refused(`model bytes have sha256 ${sha256}, the manifest says ${manifest.sha256}`, "model");
  let scorer: Scorer;
  try {
    scorer = await load({ version: manifest.version, manifest, sha256, bytes: async () => bytes });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw refused(`onnxruntime-web cannot load the model: ${cause}`, "model");
  }
  const items = sampleCandidates(manifest);
  let scores: Float32Array;
  try {
    scores = await scorer.score(null, { hour: 12, dayOfWeek: 3, device: "desktop" }, items);
  } catch (err) {
    throw refused(`sample inference failed: ${err instanceof Error ? err.message : String(err)}`, "model");
  }
  const sampleScores = [...scores];
  if (sampleScores.length !== items.length || !sampleScores.every(Number.isFinite)) {
    throw refused(`sample inference gave ${sampleScores.length} scores for ${items.length} candidates, or non-finite ones`, "model");
  }
  return { manifest, sha256, sampleScores };
}

/** A few candidates the model knows (from its catalogue), or made-up ids when it lists none. */
function sampleCandidates(manifest: ModelManifest) {
  const ids = manifest.catalogue.length ? manifest.catalogue.slice(0, 4) : ["sample-a", "sample-b"];
  return ids.map((contentId) => ({ contentId, attributes: {} }));
}
