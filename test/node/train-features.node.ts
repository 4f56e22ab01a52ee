import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bootstrapInterval, clustersOf, pick, resampledAuc } from "../../scripts/evaluate/bootstrap";
import { auc } from "../../scripts/evaluate/metrics";
import { type Dataset, type Example, withoutVisitors } from "../../scripts/train/dataset";
import {
  buildFeatureSpecs,
  DEFAULT_FEATURE_OPTIONS,
  draftManifest,
  driftReference,
  exampleGroups,
  trainingEncoder,
  writeCsr,
} from "../../scripts/train/featurize";
import { createRandom } from "../../scripts/train/random";
import { binsOf } from "../../worker/inference/drift";
import { createEncoder } from "../../worker/inference/encode";
import { featureWidth, manifestSchema } from "../../worker/inference/manifest";

/** 300 rounds of 3 examples: a visitor with attributes and a history, a context with a position. */
function dataset(): Dataset {
  const random = createRandom(3);
  const items = new Map(Array.from({ length: 30 }, (_, i) => [`item-${i}`, { genre: `g${i % 4}`, price: 10 + i }]));
  const examples: Example[] = [];
  for (let r = 0; r < 300; r++) {
    const history = Object.fromEntries(Array.from({ length: r % 6 }, (_, k) => [`item-${(r + k) % 30}`, 1 + k]));
    const profile = r % 10 === 0 ? null : { attributes: { band: `b${r % 3}`, age: 20 + (r % 50) }, itemAffinity: history };
    for (let k = 0; k < 3; k++) {
      examples.push({
        ts: 1_700_000_000_000 + r * 60_000,
        userId: profile ? `u${r % 40}` : null,
        profile,
        context: { hour: r % 24, dayOfWeek: r % 7, position: String(k + 1) },
        // Items 25-29 are rare: they are seen only in rounds 0-9.
        contentId: `item-${r < 10 ? 25 + (r % 5) : random.int(25)}`,
        label: k === 0 ? 1 : 0,
        propensity: null,
        round: `r${r}`,
      });
    }
  }
  return withoutVisitors({ name: "test", citation: "built by the test", items, examples });
}

describe("the feature spec", () => {
  const data = dataset();
  const features = buildFeatureSpecs(data.examples, data, { ...DEFAULT_FEATURE_OPTIONS, maxItems: 20, minCount: 5 });
  const byName = new Map(features.map((f) => [f.name, f]));

  it("reads every kind of input the worker has, capped and served as the worker serves them", () => {
    expect(features.map((f) => `${f.name}:${f.kind}`)).toEqual([
      "age:numeric",
      "band:categorical",
      "history:item_bag",
      "itemAffinity:user_item",
      "contentId:categorical",
      "genre:categorical",
      "price:numeric",
      "hour:cyclic",
      "dayOfWeek:cyclic",
      "position:categorical",
    ]);
    const contentId = byName.get("contentId");
    const history = byName.get("history");
    // The 20 items with the most positives; the history bag is over the same items.
    expect(contentId?.kind === "categorical" && contentId.vocabulary).toHaveLength(20);
    expect(contentId?.kind === "categorical" && contentId.vocabulary.some((id) => Number(id.split("-")[1]) >= 25)).toBe(false);
    expect(history?.kind === "item_bag" && history.vocabulary).toEqual(contentId?.kind === "categorical" && contentId.vocabulary);
    expect(byName.get("position")).toMatchObject({ vocabulary: ["1", "2", "3"], serving: "1" });
    expect(byName.get("band")).toMatchObject({ source: "user", vocabulary: ["b0", "b1", "b2"] });
    const manifest = draftManifest("test-1", features);
    expect(manifest.input.dims).toBe(features.reduce((sum, f) => sum + featureWidth(f), 0));
    expect(manifestSchema.safeParse({ ...manifest, sha256: "0".repeat(64) }).success).toBe(true);
  });

  it("gives a drift reference for every visitor and context feature, in binsOf's order, summing to 1", () => {
    const drift = driftReference(features, data.examples);
    expect(drift.map((d) => d.feature)).toEqual(["age", "band", "history", "itemAffinity", "hour", "dayOfWeek", "position"]);
    for (const entry of drift) {
      const spec = byName.get(entry.feature);
      expect(entry.bins).toEqual(spec ? binsOf(spec) : null);
      expect(entry.expected.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
    // Served as "1": the reference is what serving will count, not the logged spread.
    expect(drift.find((d) => d.feature === "position")?.expected.slice(0, 3)).toEqual([1, 0, 0]);
    // One visitor in ten is anonymous: an empty history.
    expect(drift.find((d) => d.feature === "history")?.expected[0]).toBeGreaterThan(0.1);
  });

  it("encodes training rows with the logged position and served rows with position 1", () => {
    const manifest = draftManifest("test-1", features);
    const e = data.examples.find((x) => x.context.position === "3" && x.profile) as Example;
    const item = { contentId: e.contentId, attributes: data.items.get(e.contentId) ?? {} };
    const trained = trainingEncoder(manifest)(e.profile, e.context, [item]);
    const served = createEncoder(manifest)(e.profile, e.context, [item]);
    const offset = manifest.input.dims - 4;
    expect(Array.from(trained.slice(offset))).toEqual([0, 0, 1, 0]);
    expect(Array.from(served.slice(offset))).toEqual([1, 0, 0, 0]);
    expect(Array.from(trained.slice(0, offset))).toEqual(Array.from(served.slice(0, offset)));
  });

  it("writes CSR files that hold exactly the encoder's rows, in the examples' order", () => {
    const manifest = draftManifest("test-1", features);
    const encode = trainingEncoder(manifest);
    const dir = mkdtempSync(join(tmpdir(), "train-csr-"));
    const examples = data.examples.slice(0, 60);
    // Each example has its own position here, so each is its own group; without positions a round is one group.
    const withoutPositions = examples.map((e) => ({ ...e, context: { hour: e.context.hour, dayOfWeek: e.context.dayOfWeek } }));
    expect(writeCsr(dir, "rounds", encode, manifest.input.dims, exampleGroups(data, withoutPositions))).toMatchObject({
      rows: 60,
      groups: 20,
    });
    const set = writeCsr(dir, "rows", encode, manifest.input.dims, exampleGroups(data, examples));
    expect(set).toMatchObject({ rows: 60, groups: 60, labels: true });
    const read = (ext: string) => readFileSync(join(dir, `rows.${ext}`));
    const int32 = (b: Buffer) => new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    const [indptr, indices] = [int32(read("indptr")), int32(read("indices"))];
    const valuesBuffer = read("values");
    const values = new Float32Array(valuesBuffer.buffer, valuesBuffer.byteOffset, valuesBuffer.byteLength / 4);
    expect(Array.from(read("labels"))).toEqual(examples.map((e) => e.label));
    examples.forEach((e, r) => {
      const dense = new Float32Array(manifest.input.dims);
      for (let k = indptr[r] as number; k < (indptr[r + 1] as number); k++) dense[indices[k] as number] = values[k] as number;
      const item = { contentId: e.contentId, attributes: data.items.get(e.contentId) ?? {} };
      expect(dense).toEqual(encode(e.profile, e.context, [item]));
    });
  });
});

describe("resampledAuc", () => {
  it("equals the AUC of the resampled rows, ties included", () => {
    const random = createRandom(5);
    const labels = Array.from({ length: 200 }, () => (random.next() < 0.3 ? 1 : 0));
    const scores = labels.map((y) => Math.round((y + random.normal()) * 4) / 4); // many ties
    const fast = resampledAuc(
      scores,
      labels,
      Int32Array.from(labels, (_, i) => i),
    );
    const options = { resamples: 50, seed: 1 };
    const slow = bootstrapInterval(200, (idx) => auc(pick(scores, idx), pick(labels, idx)), options);
    expect(bootstrapInterval(200, fast, options)).toEqual(slow);
  });

  it("moves a round's rows together", () => {
    const { clusterOf, clusters } = clustersOf(["a", "a", "b", "b"]);
    expect(Array.from(clusterOf)).toEqual([0, 0, 1, 1]);
    expect(clusters).toBe(2);
    // Drawing round "a" twice and "b" never leaves one positive and one negative: AUC 1.
    expect(resampledAuc([0.9, 0.1, 0.2, 0.8], [1, 0, 0, 1], clusterOf)(Uint32Array.from([0, 0]))).toBe(1);
  });
});
