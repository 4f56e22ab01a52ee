import { type BootstrapOptions, bootstrapInterval, type Interval, pick } from "./bootstrap";

/**
 * Off-policy evaluation: the value (expected reward per logged round) of a target policy, estimated
 * from rounds logged by another policy whose probabilities (propensities) are known.
 */

/** One logged round as the estimators see it; `loggedRound` builds it from a policy and a reward model. */
export type LoggedRound = {
  /** The reward observed for the logged action (a click: 0 or 1). */
  reward: number;
  /** The probability with which the logging policy chose the logged action. */
  propensity: number;
  /** π(a_logged | x): the target policy's probability of the logged action. */
  targetProbability: number;
  /** q̂(x, a_logged): the reward model's estimate for the logged action. */
  modelReward: number;
  /** Σ_a π(a | x) q̂(x, a): the reward model's value of the target policy in this round. */
  modelValue: number;
};

/** A target policy's choice in one round: action → probability (one entry of 1 for a deterministic policy). */
export type PolicyDistribution = ReadonlyMap<string, number>;

export function loggedRound(
  logged: { action: string; reward: number; propensity: number },
  target: PolicyDistribution,
  rewardModel: ReadonlyMap<string, number>,
): LoggedRound {
  if (!(logged.propensity > 0 && logged.propensity <= 1)) throw new Error(`propensity must be in (0, 1], got ${logged.propensity}`);
  const estimate = (action: string) => {
    const q = rewardModel.get(action);
    if (q === undefined) throw new Error(`the reward model has no estimate for "${action}"`);
    return q;
  };
  let modelValue = 0;
  for (const [action, probability] of target) modelValue += probability * estimate(action);
  return {
    reward: logged.reward,
    propensity: logged.propensity,
    targetProbability: target.get(logged.action) ?? 0,
    modelReward: estimate(logged.action),
    modelValue,
  };
}

const weight = (r: LoggedRound) => r.targetProbability / r.propensity;

/** Inverse propensity scoring: unbiased when the logging policy covers the target's actions. */
export function ips(rounds: readonly LoggedRound[]): number | null {
  if (rounds.length === 0) return null;
  return rounds.reduce((sum, r) => sum + weight(r) * r.reward, 0) / rounds.length;
}

/** Self-normalised IPS: divides by the sum of weights instead of n (less variance, slightly biased). */
export function snips(rounds: readonly LoggedRound[]): number | null {
  let weighted = 0;
  let weights = 0;
  for (const r of rounds) {
    weighted += weight(r) * r.reward;
    weights += weight(r);
  }
  return weights > 0 ? weighted / weights : null;
}

/** Doubly robust: the reward model's value, corrected by IPS on its residual for the logged action. */
export function doublyRobust(rounds: readonly LoggedRound[]): number | null {
  if (rounds.length === 0) return null;
  return rounds.reduce((sum, r) => sum + r.modelValue + weight(r) * (r.reward - r.modelReward), 0) / rounds.length;
}

export type Estimate = { value: number | null; interval: Interval | null };
export type PolicyValue = {
  rounds: number;
  /** Rounds where the target policy could have taken the logged action (non-zero weight). */
  matched: number;
  /** (Σw)² / Σw²: how many rounds the weighted estimate is effectively worth. */
  effectiveSampleSize: number;
  ips: Estimate;
  snips: Estimate;
  dr: Estimate;
};

/** IPS, SNIPS and DR with percentile bootstrap intervals over rounds (one seed: the three share resamples). */
export function policyValue(rounds: readonly LoggedRound[], bootstrap: BootstrapOptions): PolicyValue {
  const weights = rounds.map(weight);
  const sum = weights.reduce((a, b) => a + b, 0);
  const squares = weights.reduce((a, b) => a + b * b, 0);
  const withInterval = (estimator: (rs: readonly LoggedRound[]) => number | null): Estimate => ({
    value: estimator(rounds),
    interval: bootstrapInterval(rounds.length, (indices) => estimator(pick(rounds, indices)), bootstrap),
  });
  return {
    rounds: rounds.length,
    matched: weights.filter((w) => w > 0).length,
    effectiveSampleSize: squares > 0 ? (sum * sum) / squares : 0,
    ips: withInterval(ips),
    snips: withInterval(snips),
    dr: withInterval(doublyRobust),
  };
}
