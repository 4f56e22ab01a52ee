import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import { type ModelManifest, manifestSchema } from "../../worker/inference/manifest";
import { type Scorer, scorerFromSession, sha256Hex } from "../../worker/inference/scorer";

/**
 * The worker's scorer, in Node: the model directory's manifest and bytes are checked as the worker
 * checks them, and `scorerFromSession` (worker/inference/scorer.ts) encodes and scores, so offline
 * figures and served scores come from one piece of code. Only the runtime's loader differs:
 * onnxruntime-web's Node build (the package's "node" export) reads `ort-wasm-simd-threaded.wasm`
 * from its own `dist/` (it finds it through `import.meta.url`), the same file the worker's bundle
 * precompiles.
 */

// Single-threaded as in workerd: the same kernels, and no worker threads to start in a script.
ort.env.wasm.numThreads = 1;
ort.env.logLevel = "error";

/** Loads `dir/manifest.json` and the model file it names; refuses an invalid manifest or a sha256 mismatch. */
export async function loadModelDir(dir: string): Promise<Scorer> {
  const path = join(dir, "manifest.json");
  const parsed = manifestSchema.safeParse(JSON.parse(await readFile(path, "utf8")));
  if (!parsed.success) throw new Error(`${path} is not a valid model manifest:\n${parsed.error.message}`);
  const manifest = parsed.data;
  const bytes = await readFile(join(dir, manifest.file));
  const sha256 = await sha256Hex(new Uint8Array(bytes).buffer);
  if (sha256 !== manifest.sha256) throw new Error(`${join(dir, manifest.file)}: sha256 ${sha256}, the manifest says ${manifest.sha256}`);
  return scorerFromBytes(manifest.version, manifest, bytes);
}

/** A scorer over model bytes already checked by the caller (`npm run model -- push` validates its own). */
export async function scorerFromBytes(version: string, manifest: ModelManifest, bytes: Uint8Array): Promise<Scorer> {
  const session = await ort.InferenceSession.create(bytes);
  return scorerFromSession(version, manifest, session, ort.Tensor);
}
