import { describe, expect, it } from "vitest";
import parity from "../models/default/parity.json";
import { binsOf } from "../worker/inference/drift";
import type { CandidateFeatures, RequestContext, VisitorProfile } from "../worker/inference/encode";
import { manifestSchema } from "../worker/inference/manifest";
import { scorerFor } from "../worker/inference/model";
import { bundledSource } from "../worker/inference/registry";

type ParityCase = {
  profile: VisitorProfile | null;
  context: RequestContext;
  items: CandidateFeatures[];
  expected: number[];
  expectedFp32: number[];
};

describe("the bundled default model", () => {
  it("has a manifest that validates and whose spec matches its input width", () => {
    const result = manifestSchema.safeParse(bundledSource.manifest);
    expect(result.success).toBe(true);
  });

  it("carries a drift reference in the worker's own bins for every visitor and context feature", () => {
    const manifest = manifestSchema.parse(bundledSource.manifest);
    const binned = manifest.features.flatMap((f) => {
      const bins = binsOf(f);
      return bins ? [{ feature: f.name, bins }] : [];
    });
    expect(manifest.drift?.map(({ feature, bins }) => ({ feature, bins }))).toEqual(binned);
    for (const { expected } of manifest.drift ?? []) expect(expected.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });

  it("scores like the training pipeline's reference, through the worker's encoder and onnxruntime-web", async () => {
    const scorer = await scorerFor(bundledSource);
    const cases = parity.cases as ParityCase[];
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) {
      const scores = await scorer.score(c.profile, c.context, c.items);
      expect(scores.length).toBe(c.expected.length);
      c.expected.forEach((want, i) => {
        expect(Math.abs((scores[i] ?? Number.NaN) - want)).toBeLessThanOrEqual(parity.tolerance);
      });
    }
  });
});
