import { describe, expect, it } from "vitest";
import { doublyRobust, ips, type LoggedRound, loggedRound, policyValue, snips } from "../../scripts/evaluate/ope";
import { createRandom, type Random } from "../../scripts/train/random";

/**
 * Logged data of a uniformly random policy over four actions, each with its own click rate: the
 * true value of any target policy is known from the rates, so estimates can be checked against it.
 */
const ACTIONS = ["a", "b", "c", "d"];
const CLICK_RATE = new Map([
  ["a", 0.05],
  ["b", 0.2],
  ["c", 0.1],
  ["d", 0.4],
]);
const rateOf = (action: string) => CLICK_RATE.get(action) ?? Number.NaN;

function logUniform(rounds: number, seed: number, reward: (action: string, random: Random) => number) {
  const random = createRandom(seed);
  return Array.from({ length: rounds }, () => {
    const action = ACTIONS[random.int(ACTIONS.length)] as string;
    return { action, reward: reward(action, random), propensity: 1 / ACTIONS.length };
  });
}
const clicks = (action: string, random: Random) => (random.next() < rateOf(action) ? 1 : 0);

const uniform = new Map(ACTIONS.map((a) => [a, 1 / ACTIONS.length]));
const always = (action: string) => new Map([[action, 1]]);
/** A reward model that knows nothing: the same estimate for every action. */
const flat = new Map(ACTIONS.map((a) => [a, 0.1]));
const exact = new Map(ACTIONS.map((a) => [a, rateOf(a)]));

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe("off-policy estimators", () => {
  const logged = logUniform(2000, 11, clicks);
  const observedCtr = mean(logged.map((l) => l.reward));

  it("estimate the logging policy's own value as its observed mean reward (IPS, SNIPS and DR alike)", () => {
    const rounds = logged.map((l) => loggedRound(l, uniform, flat));
    expect(ips(rounds)).toBeCloseTo(observedCtr, 12);
    // Every weight is 1 here, so self-normalising changes nothing.
    expect(snips(rounds)).toBeCloseTo(ips(rounds) ?? Number.NaN, 12);
    expect(doublyRobust(rounds)).toBeCloseTo(observedCtr, 12);
  });

  it("give SNIPS = IPS whenever the weights average 1", () => {
    // Target: "d" twice as likely as under logging, "a" never; over these exact rounds the mean weight is forced to 1.
    const balanced: typeof logged = ACTIONS.flatMap((action) => [0, 1, 0, 1].map((reward) => ({ action, reward, propensity: 0.25 })));
    const target = new Map([
      ["a", 0],
      ["b", 0.25],
      ["c", 0.25],
      ["d", 0.5],
    ]);
    const rounds = balanced.map((l) => loggedRound(l, target, flat));
    expect(mean(rounds.map((r) => r.targetProbability / r.propensity))).toBeCloseTo(1, 12);
    expect(snips(rounds)).toBeCloseTo(ips(rounds) ?? Number.NaN, 12);
  });

  it("give DR = the reward model's value when the reward model is exact", () => {
    // Rewards are the expected ones (no noise), so an exact model leaves no residual.
    const noiseless = logUniform(500, 5, (action) => rateOf(action));
    const rounds = noiseless.map((l) => loggedRound(l, always("d"), exact));
    expect(doublyRobust(rounds)).toBeCloseTo(rateOf("d"), 12);
  });

  it("bracket a deterministic policy's true value with their bootstrap intervals", () => {
    const rounds = logged.map((l) => loggedRound(l, always("d"), flat));
    const value = policyValue(rounds, { resamples: 300, seed: 2 });
    expect(value.matched).toBe(logged.filter((l) => l.action === "d").length);
    expect(value.effectiveSampleSize).toBeCloseTo(value.matched, 9);
    for (const estimate of [value.ips, value.snips, value.dr]) {
      if (estimate.value === null || estimate.interval === null) throw new Error("no estimate");
      expect(estimate.interval.low).toBeLessThanOrEqual(estimate.value);
      expect(estimate.interval.high).toBeGreaterThanOrEqual(estimate.value);
      expect(estimate.interval.low).toBeLessThan(rateOf("d"));
      expect(estimate.interval.high).toBeGreaterThan(rateOf("d"));
    }
    // The better policy is seen as better than the logging one.
    expect(value.snips.value).toBeGreaterThan(observedCtr);
  });

  it("refuse a propensity of 0 and a reward model that lacks the target's action", () => {
    expect(() => loggedRound({ action: "a", reward: 1, propensity: 0 }, uniform, flat)).toThrow(/propensity/);
    expect(() => loggedRound({ action: "a", reward: 1, propensity: 0.5 }, always("e"), flat)).toThrow(/"e"/);
  });

  it("have no value without rounds or without any matching round", () => {
    const none: LoggedRound[] = [];
    expect(ips(none)).toBeNull();
    expect(doublyRobust(none)).toBeNull();
    expect(snips([loggedRound({ action: "a", reward: 1, propensity: 0.25 }, always("b"), flat)])).toBeNull();
  });
});
