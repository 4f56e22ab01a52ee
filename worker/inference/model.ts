import { DependencyError } from "../lib/errors";
import { manifestSchema } from "./manifest";
import { ort } from "./ort-workerd";
import { type ModelSource, type Scorer, scorerFromSession, sha256Hex } from "./scorer";

export type { ModelSource, Scorer } from "./scorer";

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

/**
 * One session per isolate and model version: the promise is cached so concurrent requests share
 * one load. A failed load is remembered for a minute, so that a bad version does not cost every
 * request a download and a compile, and is then tried again.
 */
const FAILED_LOAD_RETRY_MS = 60_000;
const scorers = new Map<string, { pending: Promise<Scorer>; ready: boolean; failedAt?: number }>();
const keyOf = (source: Pick<ModelSource, "version" | "sha256">) => `${source.version}@${source.sha256}`;

export function scorerFor(source: ModelSource): Promise<Scorer> {
  const key = keyOf(source);
  const cached = scorers.get(key);
  if (cached && (cached.failedAt === undefined || Date.now() - cached.failedAt < FAILED_LOAD_RETRY_MS)) return cached.pending;
  const entry: { pending: Promise<Scorer>; ready: boolean; failedAt?: number } = { pending: loadScorer(source), ready: false };
  scorers.set(key, entry);
  entry.pending.then(
    () => {
      entry.ready = true;
    },
    () => {
      entry.failedAt = Date.now();
    },
  );
  return entry.pending;
}

function recentlyFailed(source: Pick<ModelSource, "version" | "sha256">): boolean {
  const failedAt = scorers.get(keyOf(source))?.failedAt;
  return failedAt !== undefined && Date.now() - failedAt < FAILED_LOAD_RETRY_MS;
}

/** Whether a version is loaded and ready in this isolate (for /health and shadow scoring). */
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
  if (budgetMs <= 0 && !isLoaded(source) && !recentlyFailed(source)) {
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
