import { describe, expect, it } from "vitest";
import { binOf } from "../../worker/inference/drift";
import { createSequenceEncoder, ROWS } from "../../worker/inference/encode";
import { type FeatureSpec, manifestSchema, type SequenceManifest } from "../../worker/inference/manifest";

const features: FeatureSpec[] = [
  { name: "recent", kind: "sequence", key: "recent", length: 3 },
  { name: "band", kind: "categorical", source: "user", key: "band", vocabulary: ["a", "b"] },
  { name: "hour", kind: "cyclic", source: "context", key: "hour", period: 24 },
  { name: "genre", kind: "categorical", source: "item", key: "genre", vocabulary: ["news"] },
  { name: "price", kind: "numeric", source: "item", key: "price", mean: 10, std: 5 },
];

const manifest: SequenceManifest = {
  schemaVersion: 1,
  family: "sequence",
  version: "enc-1",
  createdAt: "2026-01-01T00:00:00.000Z",
  file: "model.onnx",
  sha256: "0".repeat(64),
  quantization: "int8",
  inputs: { sequence: "sequence", items: "items", context: { name: "context", dims: 5 }, itemFeatures: { name: "item_features", dims: 3 } },
  output: { name: "score", visitor: "visitor" },
  features,
  catalogue: ["x", "y", "z"],
};

const recent = (ids: string[]) => ids.map((id, i) => ({ id, ts: 1_000 - i }));

describe("the sequence family's encoder", () => {
  const encoder = createSequenceEncoder(manifest);
  const row = (id: string) => ROWS.firstItem + manifest.catalogue.indexOf(id);

  it("reads recent items most recent first and feeds them oldest first, after the start row", () => {
    const { sequence } = encoder.encode({ attributes: {}, recent: recent(["z", "x"]) }, {}, []);
    expect(Array.from(sequence)).toEqual([ROWS.start, row("x"), row("z")]);
  });

  it("keeps only the `length` most recent items, without a start row, and maps unknown ids to the unknown row", () => {
    const { sequence } = encoder.encode({ attributes: {}, recent: recent(["y", "new", "x", "z", "y"]) }, {}, []);
    expect(Array.from(sequence)).toEqual([row("x"), ROWS.unknown, row("y")]);
  });

  it("gives a visitor without history, or no visitor, the start row alone", () => {
    for (const profile of [null, { attributes: {} }, { attributes: {}, recent: [] }]) {
      expect(Array.from(encoder.encode(profile, {}, []).sequence)).toEqual([ROWS.start]);
    }
  });

  it("encodes the visitor and context once, and each candidate's row and attributes", () => {
    const x = encoder.encode({ attributes: { band: "b" }, recent: [] }, { hour: 6 }, [
      { contentId: "y", attributes: { genre: "news", price: 15 } },
      { contentId: "unseen", attributes: { genre: "sport" } },
    ]);
    expect(encoder.contextDims).toBe(5);
    expect(encoder.itemDims).toBe(3);
    expect(Array.from(x.context)).toEqual([0, 1, 0, 1, expect.closeTo(0, 12)]);
    expect(Array.from(x.items)).toEqual([row("y"), ROWS.unknown]);
    expect(Array.from(x.itemFeatures)).toEqual([1, 0, 1, 0, 1, 0]);
  });

  it("bins the history length for drift as the other history features do", () => {
    const spec = features[0] as FeatureSpec;
    expect(binOf(spec, null, {})).toBe("0");
    expect(binOf(spec, { attributes: {}, recent: recent(["x", "y"]) }, {})).toBe("2-4");
    expect(binOf(spec, { attributes: {}, recent: recent(["x", "y", "z", "x", "y"]) }, {})).toBe("2-4"); // read up to length 3
  });
});

describe("the manifest of the sequence family", () => {
  it("accepts a well-formed one and says which input width is off", () => {
    expect(manifestSchema.safeParse(manifest).success).toBe(true);
    const wrong = manifestSchema.safeParse({
      ...manifest,
      inputs: { ...manifest.inputs, itemFeatures: { name: "item_features", dims: 4 } },
    });
    expect(wrong.success).toBe(false);
    expect(wrong.error?.issues[0]?.message).toMatch(/3 itemFeatures columns but the manifest declares 4/);
  });

  it("refuses per-item history features and a missing sequence", () => {
    const bag: FeatureSpec = { name: "history", kind: "item_bag", key: "itemAffinity", vocabulary: ["x"], transform: "log1p" };
    expect(manifestSchema.safeParse({ ...manifest, features: [...features, bag] }).error?.issues[0]?.message).toMatch(/no item_bag/);
    expect(manifestSchema.safeParse({ ...manifest, features: features.slice(1) }).error?.issues[0]?.message).toMatch(
      /exactly one sequence/,
    );
  });

  it("reads a manifest written before families existed as an mlp one", () => {
    const legacy = {
      schemaVersion: 1,
      version: "old-1",
      createdAt: "2025-01-01T00:00:00.000Z",
      file: "model.onnx",
      sha256: "0".repeat(64),
      quantization: "int8",
      input: { name: "features", dims: 2 },
      output: { name: "score" },
      features: [{ name: "hour", kind: "cyclic", source: "context", key: "hour", period: 24 }],
      catalogue: [],
    };
    expect(manifestSchema.parse(legacy).family).toBe("mlp");
  });
});
