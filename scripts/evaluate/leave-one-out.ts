import type { Scorer } from "../../worker/inference/scorer";
import type { Dataset, Positive } from "../train/dataset";
import { createRandom, type Random } from "../train/random";
import { histories, itemKnn, popularityCounts } from "./baselines";
import { type BootstrapOptions, bootstrapInterval, type Interval, pick } from "./bootstrap";
import { candidate } from "./candidates";
import { rankMetrics } from "./metrics";

const LEAVE_ONE_OUT_K = 10;

export type RankingFigures = { hitRate: number; hitRateInterval: Interval | null; ndcg: number; ndcgInterval: Interval | null };
export type LeaveOneOutReport = {
  users: number;
  /** Users with a positive for every item: nothing to rank their held-out item against. */
  usersWithoutNegatives: number;
  negatives: number;
  /** Fewer than `negatives` when a user has fewer unseen items in the catalogue (then HR@k is easier). */
  fewestNegatives: number;
  k: number;
  baselinesLearnFrom: string;
  model: RankingFigures;
  popularity: RankingFigures;
  itemKnn: RankingFigures;
};

/** `count` distinct elements of `pool` (all of them if it is smaller), by a partial Fisher-Yates shuffle. */
function sampleWithoutReplacement<T>(pool: readonly T[], count: number, random: Random): T[] {
  const copy = [...pool];
  const n = Math.min(count, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + random.int(copy.length - i);
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, n);
}

/**
 * Each user's latest positive, ranked among `negatives` items the user has no positive for (sampled
 * with `seed`): HR@10 and NDCG@10. The model sees the profile as of that positive and the context
 * it happened in; popularity and item-kNN learn from all positives except the held-out ones.
 */
export async function leaveOneOutReport(input: {
  scorer: Scorer;
  dataset: Dataset;
  negatives: number;
  seed: number;
  bootstrap: BootstrapOptions;
}): Promise<LeaveOneOutReport> {
  const { dataset, scorer } = input;
  const heldOut = new Map<string, Positive>();
  // Positives are in ascending time: the last one seen per user is the latest.
  for (const p of dataset.positives) heldOut.set(p.userId, p);
  if (heldOut.size === 0) throw new Error(`${dataset.name}: leave-one-out needs positives with user ids, and there are none`);
  const held = new Set(heldOut.values());
  const rest = dataset.positives.filter((p) => !held.has(p));
  const popularity = popularityCounts(rest);
  const knn = itemKnn(rest);
  const historyOf = histories(rest);
  const everPositive = histories(dataset.positives);
  const contextOf = new Map(
    dataset.examples.filter((e) => e.label === 1).map((e) => [positiveKey(e.userId ?? "", e.contentId, e.ts), e.context]),
  );

  const catalogue = [...dataset.items.keys()].sort();
  const random = createRandom(input.seed);
  const perUser = { model: [] as Hit[], popularity: [] as Hit[], itemKnn: [] as Hit[] };
  let fewestNegatives = input.negatives;
  let usersWithoutNegatives = 0;
  for (const userId of [...heldOut.keys()].sort()) {
    const positive = heldOut.get(userId) as Positive;
    const seen = everPositive.get(userId) ?? new Set<string>();
    const sampled = sampleWithoutReplacement(
      catalogue.filter((id) => !seen.has(id)),
      input.negatives,
      random,
    );
    if (sampled.length === 0) {
      usersWithoutNegatives++;
      continue;
    }
    fewestNegatives = Math.min(fewestNegatives, sampled.length);
    const ranked = [positive.contentId, ...sampled];
    const context = contextOf.get(positiveKey(userId, positive.contentId, positive.ts));
    if (!context) throw new Error(`no example for ${userId}'s positive on ${positive.contentId} at ${positive.ts}`);
    const modelScores = Array.from(
      await scorer.score(
        dataset.profileAt(userId, positive.ts),
        context,
        ranked.map((id) => candidate(dataset.items, id)),
      ),
    );
    const history = historyOf.get(userId) ?? new Set<string>();
    perUser.model.push(hit(modelScores));
    perUser.popularity.push(hit(ranked.map(popularity)));
    perUser.itemKnn.push(hit(ranked.map((id) => knn.score(history, id))));
  }
  if (perUser.model.length === 0) throw new Error(`${dataset.name}: no user has an item left to rank their held-out one against`);
  const figures = (hits: Hit[]) => summarize(hits, input.bootstrap);
  return {
    users: perUser.model.length,
    usersWithoutNegatives,
    negatives: input.negatives,
    fewestNegatives,
    k: LEAVE_ONE_OUT_K,
    baselinesLearnFrom: "all positives except each user's held-out one",
    model: figures(perUser.model),
    popularity: figures(perUser.popularity),
    itemKnn: figures(perUser.itemKnn),
  };
}

type Hit = { hit: number; ndcg: number };
const positiveKey = (userId: string, contentId: string, ts: number) => `${userId}\u0000${contentId}\u0000${ts}`;
/** Scores with the held-out item first. */
const hit = (scores: readonly number[]): Hit => rankMetrics(scores[0] as number, scores.slice(1), LEAVE_ONE_OUT_K);
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

function summarize(hits: readonly Hit[], bootstrap: BootstrapOptions): RankingFigures {
  const of = (key: keyof Hit) => hits.map((h) => h[key]);
  const withInterval = (values: number[]) => bootstrapInterval(values.length, (idx) => mean(pick(values, idx)), bootstrap);
  return {
    hitRate: mean(of("hit")),
    hitRateInterval: withInterval(of("hit")),
    ndcg: mean(of("ndcg")),
    ndcgInterval: withInterval(of("ndcg")),
  };
}
