import { DependencyError } from "../errors";
import { type CandidateFeatures, createEncoder, type RequestContext, type VisitorProfile } from "./encode";
import { type ModelManifest, manifestSchema } from "./manifest";
import { ort } from "./ort-workerd";

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

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function loadScorer(source: ModelSource): Promise<Scorer> {
  const parsed = manifestSchema.safeParse(source.manifest);
  if (!parsed.success) throw new DependencyError("model_unavailable", { cause: parsed.error });
  const manifest = parsed.data;
  const bytes = await source.bytes();
  if (!bytes) throw new DependencyError("model_unavailable", { cause: new Error(`no bytes for ${source.version}`) });
  if ((await sha256Hex(bytes)) !== source.sha256) {
    throw new DependencyError("model_unavailable", { cause: new Error(`sha256 mismatch for ${source.version}`) });
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(new Uint8Array(bytes));
  } catch (cause) {
    throw new DependencyError("model_unavailable", { cause });
  }
  return scorerFromSession(source.version, manifest, session, ort.Tensor);
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

/**
 * One session per isolate and model version: the promise is cached so concurrent requests share
 * one load; a failed load is forgotten so that a later request can try again.
 */
const scorers = new Map<string, { pending: Promise<Scorer>; ready: boolean }>();
const keyOf = (source: Pick<ModelSource, "version" | "sha256">) => `${source.version}@${source.sha256}`;

export function scorerFor(source: ModelSource): Promise<Scorer> {
  const key = keyOf(source);
  const cached = scorers.get(key);
  if (cached) return cached.pending;
  const entry = { pending: loadScorer(source), ready: false };
  scorers.set(key, entry);
  entry.pending.then(
    () => {
      entry.ready = true;
    },
    () => scorers.delete(key),
  );
  return entry.pending;
}

/** Whether a version is loaded and ready in this isolate (for /health). */
export function isLoaded(source: Pick<ModelSource, "version" | "sha256">): boolean {
  return scorers.get(keyOf(source))?.ready ?? false;
}

/**
 * The model for this request, within the cold-start budget. workerd's clock does not advance
 * during pure computation, and ORT's start-up (300-500 ms on a fresh isolate) is computation, so a
 * timer cannot cut it short: with a budget of 0 (the default) a cold isolate answers at once with
 * editor defaults (`model_loading`) and starts the load after the response; later requests are
 * served by the model. A positive budget waits for the load, bounded only at I/O boundaries.
 */
export function modelWithinBudget(source: ModelSource, budgetMs: number, keepAlive: (p: Promise<unknown>) => void): Promise<Scorer> {
  if (budgetMs <= 0 && !isLoaded(source)) {
    const afterResponse = new Promise((resolve) => setTimeout(resolve, 0)).then(() => scorerFor(source).catch(() => undefined));
    keepAlive(afterResponse);
    return Promise.reject(new DependencyError("model_loading"));
  }
  return withinBudget(scorerFor(source), budgetMs, keepAlive);
}

/**
 * Waits for a model at most `budgetMs`. On a cold isolate the load carries on in the background
 * (`keepAlive`), so the next request is served by the model while this one gets editor defaults.
 */
export async function withinBudget<T>(pending: Promise<T>, budgetMs: number, keepAlive: (p: Promise<unknown>) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DependencyError("model_loading")), budgetMs);
  });
  try {
    return await Promise.race([pending, timeout]);
  } catch (err) {
    if (err instanceof DependencyError && err.reason === "model_loading") keepAlive(pending.catch(() => undefined));
    throw err;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
