import type { RequestContext, VisitorProfile } from "../../worker/inference/encode";
import type { Scorer } from "../../worker/inference/scorer";
import type { Dataset, Positive } from "../train/dataset";
import { createRandom, type Random } from "../train/random";
import { histories, itemKnn, popularityCounts } from "./baselines";
import { type BootstrapOptions, bootstrapInterval, type Interval, pick } from "./bootstrap";
import { candidate } from "./candidates";
import { rankMetrics } from "./metrics";

const LEAVE_ONE_OUT_K = 10;
export const LEAVE_ONE_OUT_PROTOCOL =
  "leave-one-out: each user's latest positive ranked against sampled items the user has no positive for; " +
  "the model sees everything the user took before it (in the data's order), the baselines learn from all positives except the held-out ones";

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

/** One user's held-out decision: their latest positive (`ranked[0]`) and the sampled items after it. */
export type LeaveOneOutDecision = { userId: string; profile: VisitorProfile | null; context: RequestContext; ranked: string[] };

export type LeaveOneOutDecisions = {
  decisions: LeaveOneOutDecision[];
  usersWithoutNegatives: number;
  negatives: number;
  fewestNegatives: number;
  /** The baselines' hits on the same decisions, learned from all positives except the held-out ones. */
  popularity: Hit[];
  itemKnn: Hit[];
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
 * Each user's latest positive and `negatives` items the user has no positive for (sampled with
 * `seed`), with the profile as of that positive and the context it happened in; popularity and
 * item-kNN, learned from all positives except the held-out ones, ranked on the same items.
 */
export function leaveOneOutDecisions(dataset: Dataset, negatives: number, seed: number): LeaveOneOutDecisions {
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
  const random = createRandom(seed);
  const out: LeaveOneOutDecisions = {
    decisions: [],
    usersWithoutNegatives: 0,
    negatives,
    fewestNegatives: negatives,
    popularity: [],
    itemKnn: [],
  };
  for (const userId of [...heldOut.keys()].sort()) {
    const positive = heldOut.get(userId) as Positive;
    const seen = everPositive.get(userId) ?? new Set<string>();
    const sampled = sampleWithoutReplacement(
      catalogue.filter((id) => !seen.has(id)),
      negatives,
      random,
    );
    if (sampled.length === 0) {
      out.usersWithoutNegatives++;
      continue;
    }
    out.fewestNegatives = Math.min(out.fewestNegatives, sampled.length);
    const ranked = [positive.contentId, ...sampled];
    const context = contextOf.get(positiveKey(userId, positive.contentId, positive.ts));
    if (!context) throw new Error(`no example for ${userId}'s positive on ${positive.contentId} at ${positive.ts}`);
    // Everything the visitor took before it in the data's order: with coarse timestamps, items of the
    // same second (or day) count as before it, as they do for item-kNN and for the training split.
    out.decisions.push({ userId, profile: dataset.profileAt(userId, positive.ts, positive.events), context, ranked });
    const history = historyOf.get(userId) ?? new Set<string>();
    out.popularity.push(hitOf(ranked.map(popularity)));
    out.itemKnn.push(hitOf(ranked.map((id) => knn.score(history, id))));
  }
  if (out.decisions.length === 0) throw new Error(`${dataset.name}: no user has an item left to rank their held-out one against`);
  return out;
}

/** A scorer's hits on the decisions. */
export async function scoreDecisions(scorer: Scorer, decisions: readonly LeaveOneOutDecision[], items: Dataset["items"]): Promise<Hit[]> {
  const hits: Hit[] = [];
  for (const d of decisions) {
    const scores = Array.from(
      await scorer.score(
        d.profile,
        d.context,
        d.ranked.map((id) => candidate(items, id)),
      ),
    );
    hits.push(hitOf(scores));
  }
  return hits;
}

/** HR@10 and NDCG@10 of the model (the held-out item ranked by the model), popularity and item-kNN. */
export async function leaveOneOutReport(input: {
  scorer: Scorer;
  dataset: Dataset;
  negatives: number;
  seed: number;
  bootstrap: BootstrapOptions;
}): Promise<LeaveOneOutReport> {
  const sampled = leaveOneOutDecisions(input.dataset, input.negatives, input.seed);
  const model = await scoreDecisions(input.scorer, sampled.decisions, input.dataset.items);
  return leaveOneOutFigures(sampled, model, input.bootstrap);
}

export function leaveOneOutFigures(sampled: LeaveOneOutDecisions, model: readonly Hit[], bootstrap: BootstrapOptions): LeaveOneOutReport {
  return {
    users: sampled.decisions.length,
    usersWithoutNegatives: sampled.usersWithoutNegatives,
    negatives: sampled.negatives,
    fewestNegatives: sampled.fewestNegatives,
    k: LEAVE_ONE_OUT_K,
    baselinesLearnFrom: "all positives except each user's held-out one",
    model: summarizeHits(model, bootstrap),
    popularity: summarizeHits(sampled.popularity, bootstrap),
    itemKnn: summarizeHits(sampled.itemKnn, bootstrap),
  };
}

export type Hit = { hit: number; ndcg: number };
const positiveKey = (userId: string, contentId: string, ts: number) => `${userId}\u0000${contentId}\u0000${ts}`;
/** Scores with the held-out item first. */
export const hitOf = (scores: readonly number[]): Hit => rankMetrics(scores[0] as number, scores.slice(1), LEAVE_ONE_OUT_K);
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

export function summarizeHits(hits: readonly Hit[], bootstrap: BootstrapOptions): RankingFigures {
  const of = (key: keyof Hit) => hits.map((h) => h[key]);
  const withInterval = (values: number[]) => bootstrapInterval(values.length, (idx) => mean(pick(values, idx)), bootstrap);
  return {
    hitRate: mean(of("hit")),
    hitRateInterval: withInterval(of("hit")),
    ndcg: mean(of("ndcg")),
    ndcgInterval: withInterval(of("ndcg")),
  };
}
