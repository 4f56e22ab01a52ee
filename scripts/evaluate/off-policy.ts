import type { Scorer } from "../../worker/inference/scorer";
import type { Dataset, Example } from "../train/dataset";
import { type BootstrapOptions, bootstrapInterval, type Interval, pick } from "./bootstrap";
import { candidate } from "./candidates";
import { type LoggedRound, loggedRound, type PolicyValue, policyValue } from "./ope";
import type { Unavailable } from "./time-split";

export type ObservedCtr = { impressions: number; clicks: number; ctr: number | null; interval: Interval | null };

/** A logging policy's on-policy value: its clicks per impression, with a bootstrap interval. */
export function observedCtr(examples: readonly Example[], bootstrap: BootstrapOptions): ObservedCtr {
  const labels = examples.map((e) => e.label);
  const mean = (values: readonly number[]) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
  return {
    impressions: examples.length,
    clicks: labels.filter((y) => y === 1).length,
    ctr: mean(labels),
    interval: bootstrapInterval(labels.length, (idx) => mean(pick(labels, idx)), bootstrap),
  };
}

/** A ranking policy: the items of the round, best first. */
export type RankingPolicy = (actions: readonly string[], modelScores: ReadonlyMap<string, number>) => string[];

/** Best first; ties by content id, so that a ranking never depends on input order. */
const rankBy = (actions: readonly string[], score: (contentId: string) => number) =>
  [...actions].sort((a, b) => score(b) - score(a) || (a < b ? -1 : a > b ? 1 : 0));

/** The model's own ranking, as the worker fills a slot: by predicted click probability. */
export const byModel: RankingPolicy = (actions, scores) => rankBy(actions, (id) => scores.get(id) ?? 0);

/** A context-free ranking by a fixed score per item (popularity). */
export const byItemScore =
  (score: (contentId: string) => number): RankingPolicy =>
  (actions) =>
    rankBy(actions, score);

/**
 * Off-policy values of deterministic ranking policies on logged rounds with propensities. Each
 * logged example is one (round, position): the target policy shows its k-th ranked item at
 * position k, so the example counts when that is the logged item. The reward model of the doubly
 * robust estimate is the model's predicted click probability, the same for every policy.
 */
export async function offPolicyReport(input: {
  scorer: Scorer;
  logged: readonly Example[];
  items: Dataset["items"];
  /** The items the logging policy could have shown in this example's round. */
  actionsOf: (example: Example) => readonly string[];
  policies: Record<string, RankingPolicy | Unavailable>;
  bootstrap: BootstrapOptions;
}): Promise<Record<string, PolicyValue | Unavailable>> {
  const targets = new Map<string, LoggedRound[]>();
  for (const name of Object.keys(input.policies)) targets.set(name, []);
  for (const example of input.logged) {
    if (example.propensity === null) throw new Error(`round ${example.round} has no propensity: off-policy estimates need them`);
    const actions = input.actionsOf(example);
    const scores = await input.scorer.score(
      example.profile,
      example.context,
      actions.map((id) => candidate(input.items, id)),
    );
    const rewardModel = new Map(actions.map((id, i) => [id, scores[i] as number]));
    const position = Number(example.context.position ?? "1");
    const logged = { action: example.contentId, reward: example.label, propensity: example.propensity };
    for (const [name, policy] of Object.entries(input.policies)) {
      if ("unavailable" in policy) continue;
      const shown = policy(actions, rewardModel)[position - 1];
      if (shown === undefined)
        throw new Error(`position ${position} of round ${example.round}: the policy ranked only ${actions.length} items`);
      targets.get(name)?.push(loggedRound(logged, new Map([[shown, 1]]), rewardModel));
    }
  }
  return Object.fromEntries(
    Object.entries(input.policies).map(([name, policy]) => [
      name,
      "unavailable" in policy ? policy : policyValue(targets.get(name) ?? [], input.bootstrap),
    ]),
  );
}
