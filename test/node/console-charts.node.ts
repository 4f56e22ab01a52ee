import { describe, expect, it } from "vitest";
import { niceScale, PALETTE, tickLabel } from "../../worker/http/console/chart-spec";
import { missingHoldout } from "../../worker/http/console/pages/performance";

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
