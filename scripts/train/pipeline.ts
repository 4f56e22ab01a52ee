/**
 * `npm run train`, as a function: data -> features (TypeScript, the worker's encoder) -> PyTorch
 * (scripts/train/train.py: train, ONNX, int8, parity) -> manifest, model card, parity fixture,
 * demo data and profiles for KV (TypeScript again). Finally the worker's encoder and
 * onnxruntime-web, in Node, score the parity fixture from the written files.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { binOf } from "../../worker/inference/drift";
import { createEncoder } from "../../worker/inference/encode";
import { type FeatureSpec, type MlpManifest, manifestSchema } from "../../worker/inference/manifest";
import { popularityCtr } from "../evaluate/baselines";
import { bootstrapInterval, clustersOf, resampledAuc } from "../evaluate/bootstrap";
import { candidate } from "../evaluate/candidates";
import { auc, logLoss } from "../evaluate/metrics";
import { renderModelCard } from "./card";
import { type Dataset, type DatasetSource, type Example, loadDataset, timeSplit } from "./dataset";
import {
  buildFeatureSpecs,
  type CsrSet,
  DEFAULT_FEATURE_OPTIONS,
  draftManifest,
  driftReference,
  exampleGroups,
  type FeatureOptions,
  type Group,
  INPUT_NAME,
  OUTPUT_NAME,
  trainingEncoder,
  writeCsr,
} from "./featurize";
import { checkWorkerParity, PARITY_TOLERANCE, pythonRunFields } from "./python-report";
import { demoCandidates, demoCatalogue, demoGroups, mostPositive, type ParityCase, parityCases, pickDemoVisitors } from "./showcase";

export const PYTHON = "/usr/bin/python3";
const TRAIN_PY = join(dirname(fileURLToPath(import.meta.url)), "train.py");
/** The sequence family's trainer (scripts/train/sequence/pipeline.ts runs it). */
export const SEQUENCE_TRAIN_PY = join(dirname(fileURLToPath(import.meta.url)), "sequence", "train.py");

const SHARES = { validation: 0.1, test: 0.2 };
const DROPOUT = { anonymous: 0.1, unknownItem: 0.1 };
/** int8-vs-fp32 rank agreement is measured over this many test decisions, each ranking this many items. */
const RANKING_DECISIONS = 200;
const RANKING_ITEMS = 100;
/** The worker must reproduce the fixture's scores to this. */

export type TrainOptions = {
  source: DatasetSource;
  /** The model directory: model.onnx, manifest.json, MODEL_CARD.md, parity.json, demo data, profiles.ndjson. */
  out: string;
  /** Scratch directory for the encoded rows, the fp32 model and Python's report. */
  build: string;
  version: string;
  seed: number;
  /** Passed to train.py when given (its defaults otherwise). */
  epochs?: number;
  hidden?: number;
  /** Bootstrap resamples for the test AUC intervals. */
  bootstrap: number;
  log: (line: string) => void;
};

const pythonReportSchema = z.object({
  ...pythonRunFields,
  curve: z.array(
    z.object({
      epoch: z.number(),
      trainLogloss: z.number().nullable(),
      valLogloss: z.number(),
      valAuc: z.number().nullable(),
      valZvsBest: z.number(),
    }),
  ),
  parity: z.object({
    rows: z.number(),
    maxAbsScoreErrorInt8VsFp32: z.number(),
    meanAbsScoreErrorInt8VsFp32: z.number(),
    maxAbsScoreErrorFp32GraphVsTorch: z.number(),
    rankAgreementInt8VsFp32: z.object({
      decisions: z.number(),
      top1Agreement: z.number(),
      pairwiseOrderAgreement: z.number(),
      meanKendallTau: z.number(),
      minKendallTau: z.number(),
    }),
  }),
});
export type PythonReport = z.infer<typeof pythonReportSchema>;

type Figures = { auc: number | null; logLoss: number | null };
export type Slice = { value: string; examples: number; positives: number; modelAuc: number | null; popularityAuc: number | null };

/** Everything the run measured; `manifest.training` holds it and the model card is rendered from it. */
export type TrainingReport = {
  data: {
    name: string;
    citation: string;
    source: DatasetSource;
    examples: number;
    positives: number;
    rounds: number;
    items: number;
    users: number;
    from: string;
    to: string;
  };
  split: {
    method: string;
    validationFrom: string;
    testFrom: string;
    train: { examples: number; positives: number };
    validation: { examples: number; positives: number };
    test: { examples: number; positives: number };
  };
  features: FeatureOptions & {
    dropout: typeof DROPOUT;
    rows: Record<"train" | "validation" | "test" | "testAnonymous" | "ranking" | "parity" | "demo", CsrSet>;
  };
  model: Omit<PythonReport, "curve" | "sizes" | "parity" | "opset">;
  validation: { curve: PythonReport["curve"] };
  test: {
    metrics: Record<"modelInt8" | "modelFp32" | "popularity" | "constant" | "modelInt8Anonymous", Figures>;
    aucInterval95: Record<"modelInt8" | "popularity" | "modelInt8MinusPopularity", { low: number; high: number } | null>;
    bootstrapResamples: number;
    slices: { feature: string; slices: Slice[] }[];
  };
  quantization: { scheme: string; opset: number } & PythonReport["sizes"];
  /** `worker`: the parity fixture scored by the worker's encoder + onnxruntime-web from the written files. */
  parity: PythonReport["parity"] & { worker?: { cases: number; maxAbsError: number } };
  profiles: number;
  wallSeconds: { data: number; features: number; python: number; total: number };
};

export const counts = (examples: readonly Example[]) => ({
  examples: examples.length,
  positives: examples.filter((e) => e.label === 1).length,
});
export const iso = (ms: number) => new Date(ms).toISOString();
export const seconds = (from: number) => Math.round((Date.now() - from) / 100) / 10;

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

function readScores(build: string, set: string, kind: "int8" | "fp32"): Float32Array {
  const bytes = readFileSync(join(build, `${set}.${kind}.f32`));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** Runs a Python trainer, passing its output on line by line; rejects with its last lines on failure. */
export function runPython(script: string, args: string[], log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [script, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      // One BLAS thread, as torch uses one: OpenBLAS (when installed) would otherwise start one per core.
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: "1", OPENBLAS_NUM_THREADS: "1" },
    });
    const tail: string[] = [];
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split("\n")) {
        if (line === "") continue;
        log(`  [python] ${line}`);
        tail.push(line);
        if (tail.length > 20) tail.shift();
      }
    };
    child.stdout.on("data", forward);
    child.stderr.on("data", forward);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited with ${code}:\n${tail.join("\n")}`))));
  });
}

/** Evenly spread first examples of distinct rounds. */
function sampleRounds(examples: readonly Example[], max: number): Example[] {
  const firsts = new Map<string, Example>();
  for (const e of examples) if (!firsts.has(e.round)) firsts.set(e.round, e);
  const all = [...firsts.values()];
  const step = Math.max(1, all.length / max);
  return Array.from({ length: Math.min(max, all.length) }, (_, i) => all[Math.floor(i * step)] as Example);
}

/** AUC of the model and of popularity within each value of one visitor/context feature's drift bin. */
function slicesBy(spec: FeatureSpec, test: readonly Example[], model: ArrayLike<number>, popularity: readonly number[]): Slice[] {
  const byValue = new Map<string, number[]>();
  test.forEach((e, i) => {
    const bin = binOf(spec, e.profile, e.context) ?? "";
    const rows = byValue.get(bin);
    if (rows) rows.push(i);
    else byValue.set(bin, [i]);
  });
  return [...byValue]
    .sort((a, b) => b[1].length - a[1].length)
    .slice(0, 8)
    .map(([value, rows]) => {
      const labels = rows.map((i) => (test[i] as Example).label);
      return {
        value,
        examples: rows.length,
        positives: labels.filter((y) => y === 1).length,
        modelAuc: auc(
          rows.map((i) => model[i] as number),
          labels,
        ),
        popularityAuc: auc(
          rows.map((i) => popularity[i] as number),
          labels,
        ),
      };
    });
}

export async function trainModel(options: TrainOptions): Promise<{ manifest: MlpManifest; report: TrainingReport }> {
  const { log } = options;
  const started = Date.now();
  mkdirSync(options.out, { recursive: true });
  mkdirSync(options.build, { recursive: true });

  log("loading data ...");
  const dataset = await loadDataset(options.source);
  const split = timeSplit(dataset.examples, SHARES);
  const { train, validation, test } = split;
  log(
    `${dataset.name}: ${dataset.examples.length} examples, ${dataset.items.size} items, ${dataset.users.size} users | ` +
      `train ${train.length} (from ${iso(dataset.examples[0]?.ts ?? 0)}), validation ${validation.length} (from ${iso(split.validationFrom)}), ` +
      `test ${test.length} (from ${iso(split.testFrom)})`,
  );
  const dataSeconds = seconds(started);

  const featuresStarted = Date.now();
  const features = buildFeatureSpecs(train, dataset, DEFAULT_FEATURE_OPTIONS);
  const draft = draftManifest(options.version, features);
  const dims = draft.input.dims;
  log(`features: D=${dims}: ${features.map((f) => f.name).join(", ")}`);
  const trainingEncode = trainingEncoder(draft);
  const servingEncode = createEncoder(draft);
  const demoIds = demoCatalogue(train, draft.catalogue);
  const candidates = demoCandidates(dataset.examples);
  const cases = parityCases(draft, dataset, demoIds, candidates);
  const rankingItems = mostPositive(train, draft.catalogue, RANKING_ITEMS);
  const rows = {
    train: writeCsr(options.build, "train", trainingEncode, dims, exampleGroups(dataset, train, { ...DROPOUT, seed: options.seed })),
    validation: writeCsr(options.build, "validation", trainingEncode, dims, exampleGroups(dataset, validation)),
    test: writeCsr(options.build, "test", trainingEncode, dims, exampleGroups(dataset, test)),
    testAnonymous: writeCsr(
      options.build,
      "testAnonymous",
      trainingEncode,
      dims,
      exampleGroups(
        dataset,
        test.map((e) => ({ ...e, profile: null })),
      ),
    ),
    ranking: writeCsr(
      options.build,
      "ranking",
      servingEncode,
      dims,
      sampleRounds(test, RANKING_DECISIONS).map(
        (e): Group => ({ profile: e.profile, context: e.context, items: rankingItems.map((id) => candidate(dataset.items, id)) }),
      ),
    ),
    parity: writeCsr(options.build, "parity", servingEncode, dims, cases),
    demo: writeCsr(options.build, "demo", servingEncode, dims, demoGroups(dataset, demoIds, candidates)),
  };
  writeJson(join(options.build, "index.json"), { dims, input: INPUT_NAME, output: OUTPUT_NAME, sets: rows });
  const featureSeconds = seconds(featuresStarted);
  log(
    `encoded ${Object.entries(rows)
      .map(([name, s]) => `${name} ${s.rows}`)
      .join(", ")} rows in ${featureSeconds} s`,
  );

  const pythonStarted = Date.now();
  await runPython(
    TRAIN_PY,
    [
      "--data",
      options.build,
      "--out",
      options.out,
      "--seed",
      String(options.seed),
      ...(options.epochs === undefined ? [] : ["--epochs", String(options.epochs)]),
      ...(options.hidden === undefined ? [] : ["--hidden", String(options.hidden)]),
    ],
    log,
  );
  const python = pythonReportSchema.parse(JSON.parse(readFileSync(join(options.build, "report.json"), "utf8")));
  const pythonSeconds = seconds(pythonStarted);

  // Test figures: the model (int8 as shipped, and fp32) against popularity learned from the same
  // training period, the base rate, and the model with the visitor blanked out (anonymous).
  const labels = test.map((e) => e.label);
  const int8 = readScores(options.build, "test", "int8");
  const ctr = popularityCtr(train);
  const popularity = test.map((e) => ctr(e.contentId));
  const baseRate = counts(train).positives / Math.max(1, train.length);
  const figures = (scores: ArrayLike<number>): Figures => ({
    auc: auc(Array.from(scores), labels),
    logLoss: logLoss(Array.from(scores), labels),
  });
  const bootstrap = { resamples: options.bootstrap, seed: options.seed };
  const int8Values = Array.from(int8);
  // Rounds are resampled whole: a positive's sampled negatives (or a decision's items) are not independent.
  const { clusterOf, clusters } = clustersOf(test.map((e) => e.round));
  const modelAuc = resampledAuc(int8Values, labels, clusterOf);
  const popularityAuc = resampledAuc(popularity, labels, clusterOf);
  const userAttribute = features.find((f) => f.kind === "categorical" && f.source === "user");
  const history = features.find((f) => f.kind === "item_bag");

  const demo = pickDemoVisitors(readScores(options.build, "demo", "int8"), demoIds, candidates, dataset.name);
  if (demo.visitors.length < 3) log(`note: only ${demo.visitors.length} demo visitors rank clearly differently from anonymous`);
  const parityInt8 = readScores(options.build, "parity", "int8");
  const parityFp32 = readScores(options.build, "parity", "fp32");
  let offset = 0;
  const fixtureCases = cases.map((c: ParityCase) => {
    const at = offset;
    offset += c.items.length;
    return { ...c, expected: Array.from(parityInt8.subarray(at, offset)), expectedFp32: Array.from(parityFp32.subarray(at, offset)) };
  });
  const storedProfiles = dataset.storedProfiles();

  const report: TrainingReport = {
    data: {
      name: dataset.name,
      citation: dataset.citation,
      source: options.source,
      ...counts(dataset.examples),
      rounds: new Set(dataset.examples.map((e) => e.round)).size,
      items: dataset.items.size,
      users: dataset.users.size,
      from: iso(dataset.examples[0]?.ts ?? 0),
      to: iso(dataset.examples.at(-1)?.ts ?? 0),
    },
    split: {
      method: `time-based by example count: the last ${SHARES.test * 100}% test, the ${SHARES.validation * 100}% before validation (early stopping), the rest train; features and baselines are fitted on train only`,
      validationFrom: iso(split.validationFrom),
      testFrom: iso(split.testFrom),
      train: counts(train),
      validation: counts(validation),
      test: counts(test),
    },
    features: { ...DEFAULT_FEATURE_OPTIONS, dropout: DROPOUT, rows },
    model: {
      hyperparameters: python.hyperparameters,
      threads: python.threads,
      architecture: python.architecture,
      parameters: python.parameters,
      epochs: python.epochs,
      epochsRun: python.epochsRun,
      trainWallSeconds: python.trainWallSeconds,
    },
    validation: { curve: python.curve },
    test: {
      metrics: {
        modelInt8: figures(int8),
        modelFp32: figures(readScores(options.build, "test", "fp32")),
        popularity: figures(popularity),
        constant: figures(test.map(() => baseRate)),
        modelInt8Anonymous: figures(readScores(options.build, "testAnonymous", "int8")),
      },
      aucInterval95: {
        modelInt8: bootstrapInterval(clusters, modelAuc, bootstrap),
        popularity: bootstrapInterval(clusters, popularityAuc, bootstrap),
        // Paired: the same resampled rounds for both, so that their shared noise cancels.
        modelInt8MinusPopularity: bootstrapInterval(
          clusters,
          (idx) => {
            const [m, p] = [modelAuc(idx), popularityAuc(idx)];
            return m === null || p === null ? null : m - p;
          },
          bootstrap,
        ),
      },
      bootstrapResamples: options.bootstrap,
      slices: [history, userAttribute].flatMap((spec) =>
        spec ? [{ feature: spec.name, slices: slicesBy(spec, test, int8Values, popularity) }] : [],
      ),
    },
    quantization: {
      scheme: "int8 symmetric per-output-channel weights (DequantizeLinear axis=1), zero point 0, fp32 biases",
      opset: python.opset,
      ...python.sizes,
    },
    parity: python.parity,
    profiles: storedProfiles.size,
    wallSeconds: { data: dataSeconds, features: featureSeconds, python: pythonSeconds, total: 0 },
  };

  const bytes = readFileSync(join(options.out, "model.onnx"));
  const manifest = parseMlpManifest({
    ...draft,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    drift: driftReference(features, train),
    training: report,
  });
  writeJson(join(options.out, "parity.json"), {
    tolerance: PARITY_TOLERANCE,
    model: manifest.file,
    version: manifest.version,
    note: "expected = numpy emulation of the int8 graph; expectedFp32 = the fp32 model. Inputs are encoded by the worker's encoder.",
    cases: fixtureCases,
  });
  writeJson(join(options.out, "demo-catalogue.json"), { contentIds: demoIds });
  writeJson(join(options.out, "demo-visitors.json"), demo);
  if (options.source.kind === "obd") writeObdItems(options.out, dataset);
  if (storedProfiles.size > 0) {
    const lines = [...storedProfiles].map(([visitorId, profile]) => JSON.stringify({ visitorId, profile }));
    writeFileSync(join(options.out, "profiles.ndjson"), `${lines.join("\n")}\n`);
  }
  writeJson(join(options.out, "manifest.json"), manifest);

  // The written files, read back as the worker reads them: its encoder + onnxruntime-web.
  const { maxAbsError: workerMaxAbsError } = await checkWorkerParity(options.out, fixtureCases);
  report.parity.worker = { cases: fixtureCases.length, maxAbsError: workerMaxAbsError };
  report.wallSeconds.total = seconds(started);
  const final = parseMlpManifest({ ...manifest, training: report });
  writeJson(join(options.out, "manifest.json"), final);
  writeFileSync(join(options.out, "MODEL_CARD.md"), renderModelCard(final, report, demo, demoIds));
  log(`wrote ${options.out} in ${report.wallSeconds.total} s`);
  return { manifest: final, report };
}

function parseMlpManifest(raw: unknown): MlpManifest {
  const manifest = manifestSchema.parse(raw);
  if (manifest.family !== "mlp") throw new Error(`expected an mlp manifest, got ${manifest.family}`);
  return manifest;
}

/** The OBD items with their campaign (the demo seed titles them by it), in catalogue order. */
function writeObdItems(out: string, dataset: Dataset): void {
  const ids = [...dataset.items.keys()].sort(new Intl.Collator("en", { numeric: true }).compare);
  writeJson(
    join(out, "obd-items.json"),
    ids.map((contentId) => ({ contentId, campaign: contentId.split("-")[0], attributes: dataset.items.get(contentId) })),
  );
}
