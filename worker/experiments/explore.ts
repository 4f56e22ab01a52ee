import type { CatalogueItem } from "../site/catalogue";
import type { Exploration } from "../site/policy";
import type { ItemReason } from "../wire/decide";

/**
 * The chance of each remaining candidate to take one position. Candidates come in the model's
 * order (best first), so "greedy" is index 0. The probabilities always sum to 1, and the one of
 * the item actually drawn is what the decision logs as its propensity: off-policy evaluation
 * of any other policy on these logs is then unbiased.
 */
export function positionProbabilities(scores: readonly number[], exploration: Exploration): number[] {
  const n = scores.length;
  if (n === 0) return [];
  switch (exploration.kind) {
    case "none":
      return scores.map((_, i) => (i === 0 ? 1 : 0));
    case "epsilon-greedy":
      return scores.map((_, i) => exploration.epsilon / n + (i === 0 ? 1 - exploration.epsilon : 0));
    case "softmax": {
      const floor = Math.min(exploration.floor, 1 / n);
      const top = Math.max(...scores);
      const weights = scores.map((s) => Math.exp((s - top) / exploration.temperature));
      const total = weights.reduce((a, b) => a + b, 0);
      return weights.map((w) => floor + (1 - n * floor) * (w / total));
    }
  }
}

/** Draws an index from probabilities with `u` uniform in [0, 1). */
export function draw(probabilities: readonly number[], u: number): number {
  let cumulative = 0;
  for (let i = 0; i < probabilities.length; i++) {
    cumulative += probabilities[i] ?? 0;
    if (u < cumulative) return i;
  }
  // Rounding can leave the sum a hair below 1: the last item with any chance takes the rest.
  for (let i = probabilities.length - 1; i >= 0; i--) if ((probabilities[i] ?? 0) > 0) return i;
  return 0;
}

export type Pin = { contentId: string; share: number };
export type Choice = { item: CatalogueItem; reason: ItemReason; propensity: number };

/**
 * Fills one slot's positions from candidates in the model's order. A pin takes the first
 * position with probability `share`; otherwise (and for the other positions) the exploration
 * policy draws. The logged propensity is the exact mixture probability of the drawn item.
 */
export function choosePositions(
  ordered: readonly CatalogueItem[],
  scores: ReadonlyMap<string, number>,
  count: number,
  exploration: Exploration,
  pin: Pin | undefined,
  random: () => number,
): Choice[] {
  const remaining = [...ordered];
  const chosen: Choice[] = [];
  while (chosen.length < count && remaining.length > 0) {
    const policy = positionProbabilities(
      remaining.map((item) => scores.get(item.id) ?? 0),
      exploration,
    );
    const pinIndex = chosen.length === 0 && pin ? remaining.findIndex((item) => item.id === pin.contentId) : -1;
    const share = pinIndex >= 0 && pin ? pin.share : 0;
    const mixture = policy.map((p, i) => (1 - share) * p + (i === pinIndex ? share : 0));
    const byRule = share > 0 && random() < share;
    const index = byRule ? pinIndex : draw(policy, random());
    const [item] = remaining.splice(index, 1);
    if (!item) break;
    const reason: ItemReason = byRule ? "rule" : index === 0 ? "model" : "explore";
    chosen.push({ item, reason, propensity: mixture[index] ?? 0 });
  }
  return chosen;
}
