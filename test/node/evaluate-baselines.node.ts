import { describe, expect, it } from "vitest";
import { histories, itemKnn, POPULARITY_PSEUDO_IMPRESSIONS, popularityCounts, popularityCtr } from "../../scripts/evaluate/baselines";

describe("popularity", () => {
  const shown = (contentId: string, clicks: number, impressions: number) =>
    Array.from({ length: impressions }, (_, i) => ({ contentId, label: (i < clicks ? 1 : 0) as 0 | 1 }));
  const train = [...shown("hit", 30, 100), ...shown("flop", 1, 100), ...shown("rare", 1, 2)];

  it("is each item's training CTR shrunk towards the global one; unseen items get the global CTR", () => {
    const ctr = popularityCtr(train);
    const globalCtr = 32 / 202;
    const m = POPULARITY_PSEUDO_IMPRESSIONS;
    expect(ctr("hit")).toBeCloseTo((30 + m * globalCtr) / (100 + m), 12);
    expect(ctr("never-shown")).toBeCloseTo(globalCtr, 12);
    expect(ctr("hit")).toBeGreaterThan(ctr("flop"));
    // One click in two impressions is 50%, but says little: it stays near the global CTR.
    expect(Math.abs(ctr("rare") - globalCtr)).toBeLessThan(0.01);
  });

  it("counts positives for ranking", () => {
    const count = popularityCounts([{ contentId: "x" }, { contentId: "y" }, { contentId: "x" }]);
    expect([count("x"), count("y"), count("z")]).toEqual([2, 1, 0]);
  });
});

describe("item-kNN", () => {
  const positives = [
    { userId: "u1", contentId: "coat" },
    { userId: "u1", contentId: "scarf" },
    { userId: "u2", contentId: "coat" },
    { userId: "u2", contentId: "scarf" },
    { userId: "u2", contentId: "boots" },
    { userId: "u3", contentId: "sandals" },
  ];
  const knn = itemKnn(positives);

  it("is the cosine of the items' user sets: symmetric, 1 for items always together, 0 for items never together", () => {
    expect(knn.similarity("coat", "scarf")).toBeCloseTo(1, 12);
    // boots: {u2}; coat: {u1, u2}.
    expect(knn.similarity("boots", "coat")).toBeCloseTo(1 / Math.sqrt(2), 12);
    expect(knn.similarity("coat", "boots")).toBe(knn.similarity("boots", "coat"));
    expect(knn.similarity("coat", "sandals")).toBe(0);
    expect(knn.similarity("coat", "coat")).toBe(0);
  });

  it("scores a candidate by the sum of its similarities to the history", () => {
    const history = histories(positives).get("u1") ?? new Set<string>();
    expect([...history].sort()).toEqual(["coat", "scarf"]);
    expect(knn.score(history, "boots")).toBeCloseTo(2 / Math.sqrt(2), 12);
    expect(knn.score(history, "sandals")).toBe(0);
    expect(knn.score([], "boots")).toBe(0);
  });
});
