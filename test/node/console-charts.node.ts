import { describe, expect, it } from "vitest";
import { niceScale, PALETTE, tickLabel } from "../../worker/http/console/chart-spec";
import { missingHoldout } from "../../worker/http/console/pages/performance";
import { scoreBin } from "../../worker/log/metrics";
import { scoreDistribution } from "../../worker/models/report";
import { scoreHistogram } from "../../worker/models/score-histogram";

/** Scores as the aggregates keep them: counts per stored bin, and their total. */
function binned(scores: readonly number[]) {
  const bins = new Map<number, { bin: number; count: number }>();
  for (const s of scores) {
    const b = bins.get(scoreBin(s)) ?? { bin: scoreBin(s), count: 0 };
    b.count++;
    bins.set(b.bin, b);
  }
  return scoreDistribution(
    [...bins.values()],
    scores.reduce((n, s) => n + s, 0),
  );
}

/** A deterministic spread of n scores between low and high (no randomness: the test gives one answer). */
const spread = (n: number, low: number, high: number, power = 1) =>
  Array.from({ length: n }, (_, i) => low + (high - low) * ((i + 0.5) / n) ** power);

/** sRGB hex → CIELAB (D65), optionally seen through a colour-vision deficiency (Machado et al., 2009, severity 1). */
const SIMULATIONS = {
  deuteranopia: [
    [0.367322, 0.860646, -0.227968],
    [0.280085, 0.672501, 0.047413],
    [-0.01182, 0.04294, 0.968881],
  ],
  protanopia: [
    [0.152286, 1.052583, -0.204868],
    [0.114503, 0.786281, 0.099216],
    [-0.003882, -0.048116, 1.051998],
  ],
  tritanopia: [
    [1.255528, -0.076749, -0.178779],
    [-0.078411, 0.930809, 0.147602],
    [0.004733, 0.691367, 0.3039],
  ],
} as const;

function lab(hex: string, simulation?: readonly (readonly number[])[]): [number, number, number] {
  const linear = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const [r, g, b] = (simulation ? simulation.map((row) => row.reduce((s, m, j) => s + m * (linear[j] ?? 0), 0)) : linear).map((v) =>
    Math.min(1, Math.max(0, v)),
  ) as [number, number, number];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

const closestPair = (simulation?: readonly (readonly number[])[]) => {
  const labs = PALETTE.map((hex) => lab(hex, simulation));
  const distances = labs.flatMap((a, i) => labs.slice(i + 1).map((b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2])));
  return Math.min(...distances);
};

describe("console charts", () => {
  it("uses series colours that stay apart, also for readers with a colour-vision deficiency", () => {
    // ΔE*ab of 15 or more between every two series colours, for normal vision and each simulated deficiency.
    expect(closestPair()).toBeGreaterThan(15);
    for (const [name, matrix] of Object.entries(SIMULATIONS)) expect(closestPair(matrix), name).toBeGreaterThan(15);
  });

  it("starts the value axis at zero and ends it on a round value above the largest one", () => {
    expect(niceScale(0.073)).toEqual({ top: 0.08, step: 0.02 });
    expect(niceScale(1)).toEqual({ top: 1, step: 0.2 });
    expect(niceScale(0)).toEqual({ top: 1, step: 0.2 });
    const { top, step } = niceScale(1234);
    expect(top).toBeGreaterThanOrEqual(1234);
    expect(top / step).toBeLessThanOrEqual(6);
  });

  it("labels ticks with the decimals their step needs, up to 100%", () => {
    expect(tickLabel("ratio", 1, 0.2)).toBe("100%");
    expect(tickLabel("ratio", 0.025, 0.005)).toBe("2.5%");
    expect(tickLabel("count", 2500, 500)).toBe("2,500");
  });
});

describe("the performance page's holdout message", () => {
  it("says what is missing: a holdout share in the policy, or holdout visitors not yet seen", () => {
    expect(missingHoldout(0, 120)).toContain("holds out nobody");
    const waiting = missingHoldout(0.05, 190);
    expect(waiting).toContain("holds out 5% of visitors");
    expect(waiting).toContain("190 treated visitors");
    // 190 treated at a 5% share: about 10 holdout visitors were to be expected.
    expect(waiting).toContain("about 10 holdout visitors");
    expect(waiting).not.toContain("set a holdout share");
  });
});

describe("the score histogram", () => {
  it("chooses its bars from the scores seen: small scores spread over several bars, not one at 100%", () => {
    // 500 click probabilities between 0.2% and 0.6%, as a model trained on sparse clicks gives.
    const scores = spread(500, 0.002, 0.006, 2);
    const histogram = scoreHistogram([{ label: "v1", bins: binned(scores).bins }]);
    expect(histogram.ranges.length).toBeGreaterThanOrEqual(5);
    expect(histogram.ranges.length).toBeLessThanOrEqual(20);
    // The bars cover what was seen, and no more than a stored bin (about 10%) beyond it on either side.
    const first = histogram.ranges[0];
    const last = histogram.ranges.at(-1);
    expect(first?.low).toBeLessThanOrEqual(0.002);
    expect(first?.low).toBeGreaterThan(0.002 / 1.11);
    expect(last?.high).toBeGreaterThan(Math.max(...scores));
    expect(last?.high).toBeLessThan(0.006 * 1.11);
    // Bars touch, in order, and every label names its range.
    for (let i = 1; i < histogram.ranges.length; i++) expect(histogram.ranges[i]?.low).toBe(histogram.ranges[i - 1]?.high);
    expect(histogram.labels[0]).toMatch(/^0\.00\d+–0\.00\d+$/);
    // Shares: what each bar really holds, summing to one; no bar holds everything.
    const values = histogram.series[0]?.values ?? [];
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    histogram.ranges.forEach((r, i) => {
      expect(values[i]).toBeCloseTo(scores.filter((s) => s >= r.low && s < r.high).length / scores.length, 9);
    });
    expect(Math.max(...values)).toBeLessThan(0.5);
  });

  it("puts every version on the same bars over their joint range", () => {
    const histogram = scoreHistogram([
      { label: "low", bins: binned(spread(200, 0.001, 0.004)).bins },
      { label: "high", bins: binned(spread(200, 0.02, 0.3)).bins },
    ]);
    expect(histogram.ranges.length).toBeLessThanOrEqual(20);
    expect(histogram.ranges[0]?.low).toBeLessThanOrEqual(0.001);
    expect(histogram.ranges.at(-1)?.high).toBeGreaterThan(0.3);
    const [low, high] = histogram.series;
    expect(low?.values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(high?.values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    // The two versions' scores do not overlap, and neither do their bars.
    expect(low?.values.every((v, i) => v === 0 || high?.values[i] === 0)).toBe(true);
  });

  it("gives quantiles within a stored bin of the exact ones, and no bars without scores", () => {
    const scores = spread(999, 0.0005, 0.05, 3);
    const distribution = binned(scores);
    const sorted = [...scores].sort((a, b) => a - b);
    for (const [q, value] of [
      [0.1, distribution.p10],
      [0.5, distribution.p50],
      [0.9, distribution.p90],
    ] as const) {
      const exact = sorted[Math.round((sorted.length - 1) * q)] ?? 0;
      expect(Math.abs((value ?? 0) - exact) / exact).toBeLessThan(0.11);
    }
    expect(scoreHistogram([])).toEqual({ ranges: [], labels: [], series: [] });
  });
});
