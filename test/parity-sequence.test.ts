import { describe, expect, it } from "vitest";
import fixtureManifest from "../models/fixtures/sequence-ring/manifest.json";
import fixtureModel from "../models/fixtures/sequence-ring/model.onnx";
import parity from "../models/fixtures/sequence-ring/parity.json";
import type { CandidateFeatures, RequestContext, VisitorProfile } from "../worker/inference/encode";
import { manifestSchema } from "../worker/inference/manifest";
import { scorerFor } from "../worker/inference/model";
import type { ModelSource } from "../worker/inference/scorer";

/**
 * A `sequence` model (models/fixtures/sequence-ring, from scripts/train/sequence/fixture.ts) scored
 * inside workerd as the worker scores it: the encoder builds the sequence from `profile.recent` and
 * onnxruntime-web runs the int8 graph; the scores must be the training pipeline's own.
 */

type ParityCase = { profile: VisitorProfile | null; context: RequestContext; items: CandidateFeatures[]; expected: number[] };

const source: ModelSource = {
  version: fixtureManifest.version,
  manifest: fixtureManifest,
  sha256: fixtureManifest.sha256,
  bytes: async () => fixtureModel,
};

describe("a sequence-family model in workerd", () => {
  it("has a manifest of the sequence family that validates", () => {
    const manifest = manifestSchema.parse(fixtureManifest);
    expect(manifest.family).toBe("sequence");
    expect(manifest.features.some((f) => f.kind === "sequence")).toBe(true);
  });

  it("scores like the training pipeline's reference, one batched run per decision", async () => {
    const scorer = await scorerFor(source);
    const cases = parity.cases as ParityCase[];
    expect(cases.length).toBeGreaterThanOrEqual(5);
    // Anonymous, without and with a start row, with unknown recent and candidate items.
    expect(cases.some((c) => c.profile === null)).toBe(true);
    expect(cases.some((c) => (c.profile?.recent?.length ?? 0) >= 8)).toBe(true);
    for (const c of cases) {
      const scores = await scorer.score(c.profile, c.context, c.items);
      expect(scores.length).toBe(c.expected.length);
      c.expected.forEach((want, i) => {
        expect(Math.abs((scores[i] ?? Number.NaN) - want)).toBeLessThanOrEqual(parity.tolerance);
      });
    }
  });

  it("moves the ranking with the visitor's latest item", async () => {
    const scorer = await scorerFor(source);
    /** The best of the items the visitor has not taken yet (as the evaluation ranks them). */
    const top = async (recent: string[]) => {
      const items = Array.from({ length: 60 }, (_, k) => ({ contentId: `i${k}`, attributes: { shelf: `shelf-${k % 4}` } })).filter(
        (item) => !recent.includes(item.contentId),
      );
      const scores = await scorer.score({ attributes: {}, recent: recent.map((id, i) => ({ id, ts: 1_000 - i })) }, {}, items);
      return items[scores.reduce((best, s, k) => (s > (scores[best] as number) ? k : best), 0)]?.contentId;
    };
    // On the ring, the item after the latest one comes next; one new item moves the top to its neighbourhood.
    expect(await top(["i20", "i19"])).toBe("i21");
    const after = Number((await top(["i41", "i20", "i19"]))?.slice(1));
    expect(Math.abs(after - 41)).toBeLessThanOrEqual(2);
  });
});
