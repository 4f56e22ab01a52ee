import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModelDir } from "../../scripts/evaluate/scorer";
import type { Example } from "../../scripts/train/dataset";
import { PYTHON, trainModel } from "../../scripts/train/pipeline";
import { PARITY_TOLERANCE } from "../../scripts/train/python-report";
import { type SequenceTrainingReport, trainSequenceModel } from "../../scripts/train/sequence/pipeline";
import { RING, writeRing } from "../../scripts/train/sequence/ring";
import { SPLIT, sequenceCatalogue } from "../../scripts/train/sequence/split";
import { manifestSchema } from "../../worker/inference/manifest";

const hasTorch = spawnSync(PYTHON, ["-c", "import torch, onnx, numpy"]).status === 0;
if (!hasTorch) {
  console.warn(`SKIPPED the sequence training runs: ${PYTHON} cannot import torch, onnx and numpy`);
}

const ITEMS = RING.items;

describe.skipIf(!hasTorch)("the sequence family on a tiny ring of items", () => {
  const root = mkdtempSync(join(tmpdir(), "train-sequence-"));
  const out = join(root, "model");
  let report: SequenceTrainingReport;

  beforeAll(async () => {
    ({ report } = await trainSequenceModel({
      source: { kind: "interactions", ...writeRing(root), negatives: 0, seed: 0, timezone: "UTC" },
      out,
      build: join(root, "build"),
      version: "ring-seq-1",
      seed: 0,
      epochs: 25,
      length: 8,
      bootstrap: 50,
      log: () => {},
    }));
  });

  it("learns the order: the held-out next item ranks far above where popularity puts it", () => {
    const { model, popularity } = report.test.leaveOneOut;
    expect(popularity.hitRate).toBeLessThan(0.5);
    expect(model.hitRate).toBeGreaterThan(popularity.hitRate + 0.3);
    expect(model.ndcg).toBeGreaterThan(popularity.ndcg + 0.3);
  });

  it("never trains on a held-out item, and keeps every other item in its catalogue", () => {
    const manifest = manifestSchema.parse(JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")));
    expect(manifest.family).toBe("sequence");
    expect(manifest.catalogue).not.toContain("only-held-out");
    expect(manifest.catalogue).toHaveLength(ITEMS);
    expect(report.split.test).toBe(151);
    expect(manifest.sha256).toBe(
      createHash("sha256")
        .update(readFileSync(join(out, "model.onnx")))
        .digest("hex"),
    );
  });

  it("gives validation items a row and refits on them once the epoch is chosen; a test item gets none", () => {
    const visitor = (ids: string[]) => ({
      userId: ids.join(),
      positives: ids.map((contentId) => ({ contentId }) as Example),
      split: Uint8Array.from(ids, (_, i) => (i === ids.length - 1 ? SPLIT.test : i === ids.length - 2 ? SPLIT.validation : SPLIT.train)),
    });
    expect(sequenceCatalogue([visitor(["b", "a", "only-validation", "only-test"]), visitor(["a", "b"])])).toEqual([
      "a",
      "b",
      "only-validation",
    ]);
    expect(report.model.refitLosses.length).toBeGreaterThan(0);
    for (const loss of report.model.refitLosses) expect(loss).toBeGreaterThan(0);
  });

  it("quantizes without changing the top item, and the worker's scorer reproduces the fixture", async () => {
    expect(report.quantization.agreement.top1Agreement).toBeGreaterThanOrEqual(0.99);
    expect(report.quantization.agreement.decisions).toBe(report.test.leaveOneOut.users);
    expect(report.parity.maxAbsError).toBeLessThanOrEqual(PARITY_TOLERANCE);
    const fixture = JSON.parse(readFileSync(join(out, "parity.json"), "utf8"));
    const scorer = await loadModelDir(out);
    for (const c of fixture.cases) {
      const scores = await scorer.score(c.profile, c.context, c.items);
      c.expected.forEach((want: number, i: number) => {
        expect(Math.abs((scores[i] as number) - want)).toBeLessThanOrEqual(PARITY_TOLERANCE);
      });
    }
  });

  it("reads the visitor's recent items: of the items not taken yet, the one after the latest ranks first", async () => {
    const scorer = await loadModelDir(out);
    const recent = [12, 11, 10].map((k, i) => ({ id: `i${k}`, ts: 1_000 - i }));
    const items = Array.from({ length: ITEMS }, (_, k) => ({ contentId: `i${k}`, attributes: { shelf: `shelf-${k % 4}` } })).filter(
      (item) => !recent.some((r) => r.id === item.contentId),
    );
    const scores = await scorer.score({ attributes: {}, recent }, {}, items);
    const best = scores.reduce((b, s, k) => (s > (scores[b] as number) ? k : b), 0);
    expect(items[best]?.contentId).toBe("i13");
  });
});

describe.skipIf(!hasTorch)("an interactions CSV whose label column is all 1", () => {
  it("trains as implicit feedback (sampled negatives) in either family instead of failing", async () => {
    const root = mkdtempSync(join(tmpdir(), "train-all-ones-"));
    const { csv } = writeRing(root, { label: true });
    const common = { version: "ones-1", seed: 0, epochs: 2, bootstrap: 20, log: () => {} };
    const mlp = await trainModel({
      ...common,
      source: { kind: "interactions", csv, negatives: 2, seed: 0, timezone: "UTC" },
      out: join(root, "mlp"),
      build: join(root, "mlp-build"),
    });
    expect(mlp.report.data.positives).toBeGreaterThan(0);
    expect(mlp.report.data.examples).toBeGreaterThan(mlp.report.data.positives);
    const sequence = await trainSequenceModel({
      ...common,
      source: { kind: "interactions", csv, negatives: 0, seed: 0, timezone: "UTC" },
      out: join(root, "sequence"),
      build: join(root, "sequence-build"),
    });
    expect(sequence.report.split.train).toBeGreaterThan(0);
  });
});
