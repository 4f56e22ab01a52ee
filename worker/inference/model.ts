import { afterAnswer } from "../lib/after-answer";
import { DeadlineExceeded, withDeadline } from "../lib/deadline";
import { DependencyError } from "../lib/errors";
import { manifestSchema } from "./manifest";
import { ort } from "./ort-workerd";
import { type ModelSource, type Scorer, scorerFromSession, sha256Hex } from "./scorer";

export type { ModelSource, Scorer } from "./scorer";

async function loadSession(source: ModelSource): Promise<{ scorer: Scorer; session: ort.InferenceSession }> {
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
  return { scorer: scorerFromSession(source.version, manifest, session, ort.Tensor), session };
}

/** A scorer for one run (a push's validation): not cached, its session released after that run. */
export async function oneRunScorer(source: ModelSource): Promise<Scorer> {
  const { scorer, session } = await loadSession(source);
  return {
    ...scorer,
    score: async (profile, context, items, options) => {
      try {
        return await scorer.score(profile, context, items, options);
      } finally {
        session.release().catch(() => undefined);
      }
    },
  };
}

/** Sessions an isolate keeps when the caller does not say (wrangler.toml's MODEL_SESSIONS_MAX). */
export const DEFAULT_MAX_SESSIONS = 4;

/**
 * One session per isolate and model version, at most `maxSessions` of them: the least recently
 * used is dropped past it and its WebAssembly memory released once no run is using it, so that
 * daily pushes and shadows cannot grow an isolate past its 128 MB. A dropped version loads again
 * on its next use. The promise is cached so concurrent requests share one load. A failed load is
 * remembered for a minute, so that a bad version does not cost every request a download and a
 * compile, and is then tried again.
 */
const FAILED_LOAD_RETRY_MS = 60_000;

/** One cached version: its load, and its session's release once evicted and idle. */
class Slot {
  ready = false;
  failedAt: number | undefined;
  readonly pending: Promise<Scorer>;
  private session: ort.InferenceSession | undefined;
  private evicted = false;
  private running = 0;

  constructor(source: ModelSource) {
    this.pending = this.load(source);
    this.pending.then(
      () => {
        this.ready = true;
      },
      () => {
        this.failedAt = Date.now();
      },
    );
  }

  evict(): void {
    this.evicted = true;
    if (this.running === 0) this.release();
  }

  private async load(source: ModelSource): Promise<Scorer> {
    const { scorer, session } = await loadSession(source);
    this.session = session;
    if (this.evicted) this.release();
    return {
      ...scorer,
      score: async (profile, context, items, options) => {
        // A caller still holding an evicted scorer gets the reason a decision falls back with.
        if (this.evicted) throw new DependencyError("model_unavailable", { cause: new Error(`${source.version} was evicted`) });
        this.running++;
        try {
          return await scorer.score(profile, context, items, options);
        } finally {
          this.running--;
          if (this.evicted && this.running === 0) this.release();
        }
      },
    };
  }

  private release(): void {
    const session = this.session;
    this.session = undefined;
    session?.release().catch(() => undefined);
  }
}

const scorers = new Map<string, Slot>();
const keyOf = (source: Pick<ModelSource, "version" | "sha256">) => `${source.version}@${source.sha256}`;

export function scorerFor(source: ModelSource, maxSessions = DEFAULT_MAX_SESSIONS): Promise<Scorer> {
  const key = keyOf(source);
  const cached = scorers.get(key);
  // Most recently used last: a Map iterates in insertion order.
  scorers.delete(key);
  if (cached && (cached.failedAt === undefined || Date.now() - cached.failedAt < FAILED_LOAD_RETRY_MS)) {
    scorers.set(key, cached);
    return cached.pending;
  }
  const slot = new Slot(source);
  scorers.set(key, slot);
  for (const [oldest, entry] of scorers) {
    if (scorers.size <= maxSessions) break;
    scorers.delete(oldest);
    entry.evict();
  }
  return slot.pending;
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
 * How long a cold isolate waits, after answering, before it starts loading a model: ORT's start is
 * computation, and started on the next tick it held the answer's bytes back until it was done
 * (a first decision took 1.2 s instead of 0.2 s on a loaded machine; scripts/bench/first-visit.ts).
 */
const LOAD_AFTER_ANSWER_MS = 50;

/**
 * The model for this request, within the cold-start budget. workerd's clock does not advance
 * during pure computation, and ORT's start-up (300-500 ms on a fresh isolate) is computation, so a
 * timer cannot cut it short: with a budget of 0 (the default) a cold isolate answers at once with
 * editor defaults (`model_loading`) and starts the load after the response; later requests are
 * served by the model. A positive budget waits for the load, bounded only at I/O boundaries.
 */
export function modelWithinBudget(
  source: ModelSource,
  budgetMs: number,
  keepAlive: (p: Promise<unknown>) => void,
  maxSessions = DEFAULT_MAX_SESSIONS,
): Promise<Scorer> {
  if (budgetMs <= 0 && !isLoaded(source) && !recentlyFailed(source)) {
    afterAnswer(keepAlive, "model not loaded", () => scorerFor(source, maxSessions), LOAD_AFTER_ANSWER_MS);
    return Promise.reject(new DependencyError("model_loading"));
  }
  return withinBudget(scorerFor(source, maxSessions), budgetMs, keepAlive);
}

/**
 * Waits for a model at most `budgetMs`. On a cold isolate the load carries on in the background
 * (`keepAlive`), so the next request is served by the model while this one gets editor defaults.
 */
export async function withinBudget<T>(pending: Promise<T>, budgetMs: number, keepAlive: (p: Promise<unknown>) => void): Promise<T> {
  try {
    return await withDeadline(pending, budgetMs);
  } catch (err) {
    if (!(err instanceof DeadlineExceeded)) throw err;
    keepAlive(pending.catch(() => undefined));
    throw new DependencyError("model_loading");
  }
}
