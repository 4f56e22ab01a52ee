import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PYTHON, type TrainingReport, trainModel } from "../../scripts/train/pipeline";
import { PARITY_TOLERANCE } from "../../scripts/train/python-report";
import { simulateInteractions, writeSimulation } from "../../scripts/train/simulate";
import { binsOf } from "../../worker/inference/drift";
import { type ModelManifest, manifestSchema } from "../../worker/inference/manifest";
import { storedProfileSchema } from "../../worker/visitors/features";

const hasTorch = spawnSync(PYTHON, ["-c", "import torch, onnx, numpy"]).status === 0;
if (!hasTorch) {
  console.warn(
    `SKIPPED the training run: ${PYTHON} cannot import torch, onnx and numpy (apt-get install python3-torch python3-onnx python3-numpy)`,
  );
}

/** A few hundred synthetic interactions, two epochs: the whole pipeline, real Python included, in seconds. */
describe.skipIf(!hasTorch)("npm run train on a tiny interactions dataset", () => {
  const root = mkdtempSync(join(tmpdir(), "train-pipeline-"));
  const out = join(root, "model");
  let manifest: ModelManifest;
  let report: TrainingReport;

  beforeAll(async () => {
    const data = join(root, "data");
    mkdirSync(data);
    writeSimulation(
      data,
      simulateInteractions({ users: 60, items: 40, interactions: 600, days: 10, seed: 2, start: "2025-03-03T00:00:00Z" }),
    );
    ({ manifest, report } = await trainModel({
      source: {
        kind: "interactions",
        csv: join(data, "interactions.csv"),
        items: join(data, "items.csv"),
        users: join(data, "users.csv"),
        negatives: 3,
        seed: 0,
        timezone: "UTC",
      },
      out,
      build: join(root, "build"),
      version: "tiny-mlp-1",
      seed: 0,
      epochs: 2,
      bootstrap: 50,
      log: () => {},
    }));
  });

  it("writes a manifest that passes the worker's schema, names the int8 model's bytes and splits on time", () => {
    const written = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifestSchema.safeParse(written).success).toBe(true);
    expect(written.sha256).toBe(
      createHash("sha256")
        .update(readFileSync(join(out, "model.onnx")))
        .digest("hex"),
    );
    expect(written.version).toBe("tiny-mlp-1");
    expect(Date.parse(report.split.validationFrom)).toBeLessThanOrEqual(Date.parse(report.split.testFrom));
    expect(written.training.split.testFrom).toBe(report.split.testFrom);
    for (const entry of manifest.drift ?? []) {
      const spec = manifest.features.find((f) => f.name === entry.feature);
      expect(spec && binsOf(spec)).toEqual(entry.bins);
    }
  });

  it("quantizes to int8 within tolerance of fp32, and the worker's encoder + onnxruntime-web reproduce the fixture", () => {
    expect(report.quantization.ratio).toBeGreaterThan(2.5);
    expect(report.parity.maxAbsScoreErrorInt8VsFp32).toBeLessThan(0.01);
    expect(report.parity.rankAgreementInt8VsFp32.pairwiseOrderAgreement).toBeGreaterThan(0.97);
    expect(report.parity.worker?.maxAbsError).toBeLessThanOrEqual(PARITY_TOLERANCE);
    const fixture = JSON.parse(readFileSync(join(out, "parity.json"), "utf8"));
    expect(fixture.cases.length).toBeGreaterThanOrEqual(5);
    expect(fixture.cases.every((c: { items: unknown[]; expected: number[] }) => c.expected.length === c.items.length)).toBe(true);
  });

  it("exports every visitor's profile for KV and a model card with the test figures", () => {
    const lines = readFileSync(join(out, "profiles.ndjson"), "utf8").trim().split("\n");
    expect(lines).toHaveLength(60);
    for (const line of lines) expect(storedProfileSchema.safeParse(JSON.parse(line).profile).success).toBe(true);
    const card = readFileSync(join(out, "MODEL_CARD.md"), "utf8");
    expect(card).toContain("# Model card: `tiny-mlp-1`");
    expect(card).toContain(`| this model (int8, as shipped) | ${report.test.metrics.modelInt8.auc?.toFixed(4)}`);
  });
});
