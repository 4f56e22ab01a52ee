import { describe, expect, it } from "vitest";
import { binOf, binsOf, DRIFT_MIN_OBSERVED, driftOf, driftSampleNeeded, populationStabilityIndex } from "../../worker/inference/drift";
import type { FeatureSpec } from "../../worker/inference/manifest";

describe("drift bins", () => {
  const hour: FeatureSpec = { name: "hour", kind: "cyclic", source: "context", key: "hour", period: 24 };
  const history: FeatureSpec = { name: "history", kind: "item_bag", key: "itemAffinity", vocabulary: ["a", "b"], transform: "log1p" };

  it("puts every value in one of the feature's own bins", () => {
    for (let h = 0; h < 24; h++) expect(binsOf(hour)).toContain(binOf(hour, null, { hour: h }));
    expect(binOf(hour, null, {})).toBe("(missing)");
    expect(binOf(history, null, {})).toBe("0");
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`item-${i}`, 1]));
    expect(binOf(history, { attributes: {}, itemAffinity: many }, {})).toBe("10+");
    expect(binOf(history, { attributes: {}, itemAffinity: { a: 1, b: 2, c: 0 } }, {})).toBe("2-4");
  });

  it("gives a PSI of 0 for the same distribution and flags a large shift", () => {
    expect(populationStabilityIndex([0.5, 0.5], [50, 50])).toBeCloseTo(0, 10);
    expect(populationStabilityIndex([0.9, 0.1], [10, 90])).toBeGreaterThan(0.2);
  });

  it("gives a PSI and a flag only from the minimum sample on", () => {
    const reference = { feature: "f", expected: [0.9, 0.1] };
    const needed = driftSampleNeeded(reference.expected.length);
    expect(needed).toBe(DRIFT_MIN_OBSERVED);
    // The same strong shift: unflagged below the minimum, flagged from it on.
    const below = driftOf(reference, [Math.floor((needed - 1) * 0.1), Math.ceil((needed - 1) * 0.9)]);
    expect(below).toMatchObject({ observed: needed - 1, needed, psi: null, flagged: false });
    const enough = driftOf(reference, [needed * 0.1, needed * 0.9]);
    expect(enough.psi).toBeGreaterThan(0.2);
    expect(enough.flagged).toBe(true);
    // Many bins need more than the floor: ten per bin.
    expect(driftSampleNeeded(24)).toBe(240);
  });
});
