import { describe, expect, it } from "vitest";
import { demoItems } from "../../scripts/seed/demo-data";
import { createRandom } from "../../scripts/train/random";
import { assignArms, bucketOf, holdoutSalt } from "../../worker/experiments/assign";
import { choosePositions, positionProbabilities } from "../../worker/experiments/explore";
import { type Experiment, experimentSchema } from "../../worker/site/policy";

/** Assignment and exploration as pure functions; served and logged through the worker in test/experiments.test.ts. */
function chiSquare(observed: number[], expectedShares: number[]): number {
  const total = observed.reduce((a, b) => a + b, 0);
  return observed.reduce((sum, o, i) => sum + (o - total * (expectedShares[i] ?? 0)) ** 2 / (total * (expectedShares[i] ?? 0)), 0);
}

describe("assignment", () => {
  const ids = Array.from({ length: 6000 }, (_, i) => `visitor-${i}`);

  it("is stable per visitor and splits as configured (chi-square over 6,000 ids)", async () => {
    const experiment: Experiment = experimentSchema.parse({
      id: "hero-test",
      arms: [
        { name: "a", weight: 1 },
        { name: "b", weight: 1 },
        { name: "c", weight: 2 },
      ],
    });
    const counts = new Map<string, number>();
    let held = 0;
    for (const id of ids) {
      const [first] = await assignArms([experiment], id);
      const [again] = await assignArms([experiment], id);
      expect(again?.arm.name).toBe(first?.arm.name);
      counts.set(first?.arm.name ?? "", (counts.get(first?.arm.name ?? "") ?? 0) + 1);
      if ((await bucketOf(holdoutSalt("some-site"), id)) < 0.05) held++;
    }
    // df = 2: 13.8 is the 0.001 critical value; df = 1: 10.8.
    expect(chiSquare([counts.get("a") ?? 0, counts.get("b") ?? 0, counts.get("c") ?? 0], [0.25, 0.25, 0.5])).toBeLessThan(13.8);
    expect(chiSquare([held, ids.length - held], [0.05, 0.95])).toBeLessThan(10.8);
  });

  it("draws the holdout and each experiment independently (different salts)", async () => {
    const experiment = experimentSchema.parse({
      id: "x",
      arms: [
        { name: "a", weight: 1 },
        { name: "b", weight: 1 },
      ],
    });
    const table = [0, 0, 0, 0];
    for (const id of ids) {
      const held = (await bucketOf(holdoutSalt("s"), id)) < 0.5 ? 1 : 0;
      const [assigned] = await assignArms([experiment], id);
      const index = held * 2 + (assigned?.arm.name === "a" ? 0 : 1);
      table[index] = (table[index] ?? 0) + 1;
    }
    expect(chiSquare(table, [0.25, 0.25, 0.25, 0.25])).toBeLessThan(16.3); // df = 3 at 0.001
  });
});

describe("exploration", () => {
  it("gives every position a distribution that sums to 1, for each policy", () => {
    const scores = [0.9, 0.5, 0.4, 0.1, 0.05];
    for (const policy of [
      { kind: "none" as const },
      { kind: "epsilon-greedy" as const, epsilon: 0.2 },
      { kind: "softmax" as const, temperature: 0.1, floor: 0.02 },
    ]) {
      const p = positionProbabilities(scores, policy);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(Math.min(...p)).toBeGreaterThanOrEqual(0);
    }
    const softmax = positionProbabilities(scores, { kind: "softmax", temperature: 0.1, floor: 0.02 });
    expect(Math.min(...softmax)).toBeGreaterThanOrEqual(0.02);
  });

  it("logs the probability of the item actually drawn, pins included", () => {
    const items = demoItems().slice(0, 6);
    const scores = new Map(items.map((item, i) => [item.id, 1 - i / 10]));
    const exploration = { kind: "epsilon-greedy" as const, epsilon: 0.3 };
    const random = createRandom(7).next;
    const seen = new Set<string>();
    for (let run = 0; run < 200; run++) {
      const chosen = choosePositions(items, scores, 3, exploration, { contentId: items[4]?.id ?? "", share: 0.25 }, random);
      // Recompute each position's mixture from what was left and check the logged value.
      const left = [...items];
      chosen.forEach((choice, position) => {
        const policy = positionProbabilities(
          left.map((item) => scores.get(item.id) ?? 0),
          exploration,
        );
        const pinAt = position === 0 ? left.findIndex((item) => item.id === items[4]?.id) : -1;
        const index = left.findIndex((item) => item.id === choice.item.id);
        const expected = 0.75 ** (pinAt >= 0 ? 1 : 0) * (policy[index] ?? 0) + (index === pinAt ? 0.25 : 0);
        expect(choice.propensity).toBeCloseTo(expected, 12);
        left.splice(index, 1);
        seen.add(choice.reason);
      });
    }
    expect(seen).toEqual(new Set(["model", "explore", "rule"]));
  });
});
