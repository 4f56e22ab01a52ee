/**
 * `npm run train` for the sequence family: data -> leave-one-out split and feature spec
 * (TypeScript, the worker's encoder) -> PyTorch (scripts/train/sequence/train.py: train, ONNX, int8)
 * -> manifest, parity fixture, model card. The written model is then read back as the worker reads
 * it (its encoder and onnxruntime-web, in Node): the fixture must match, and the test figures are
 * `npm run evaluate -- --protocol leave-one-out`'s own code on the same held-out items.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ROWS, type VisitorProfile } from "../../../worker/inference/encode";
import {
  type FeatureSpec,
  featureWidth,
  manifestSchema,
  RECENT_ITEMS_MAX,
  type SequenceManifest,
  sequenceBlocks,
} from "../../../worker/inference/manifest";
import type { Scorer } from "../../../worker/inference/scorer";
import { candidate } from "../../evaluate/candidates";
import {
  type Hit,
  hitOf,
  LEAVE_ONE_OUT_PROTOCOL,
  type LeaveOneOutDecision,
  type LeaveOneOutReport,
  leaveOneOutDecisions,
  leaveOneOutFigures,
  type RankingFigures,
  summarizeHits,
} from "../../evaluate/leave-one-out";
import { type Dataset, type DatasetSource, loadDataset } from "../dataset";
import { buildFeatureSpecs, DEFAULT_FEATURE_OPTIONS, driftReference } from "../featurize";
import { iso, runPython, SEQUENCE_TRAIN_PY, seconds, type TrainOptions, writeJson } from "../pipeline";
import { checkWorkerParity, PARITY_TOLERANCE, pythonRunFields } from "../python-report";
import { renderSequenceCard } from "./card";
import { sequenceCatalogue, splitCounts, trainingPositives, visitorSequences } from "./split";
import { type ScoredGroup, writeScoredSet, writeSequences } from "./tensors";

export const SEQUENCE_IO = {
  inputs: { sequence: "sequence", items: "items", context: "context", itemFeatures: "item_features" },
  outputs: { score: "score", visitor: "visitor" },
} as const;
/** Held-out items are ranked against this many sampled ones, as `npm run evaluate` does by default. */
export const EVALUATION_NEGATIVES = 99;
const DROPOUT = { anonymous: 0.1 };

/** The MLP trainer's options without its hidden width (`epochs` is a maximum here), and the sequence model's own. */
export type SequenceTrainOptions = Omit<TrainOptions, "hidden"> & {
  /** CPU seconds of training after which no new epoch starts (train.py's default otherwise). */
  timeBudget?: number;
  /** The most recent items the model reads (default RECENT_ITEMS_MAX). */
  length?: number;
  /** Embedding width (train.py's default otherwise); small fixtures use a narrow one. */
  dim?: number;
};

const pythonReportSchema = z.object({
  ...pythonRunFields,
  maxEpochs: z.number(),
  stoppedBy: z.string(),
  refitLosses: z.array(z.number()),
  curve: z.array(
    z.object({
      epoch: z.number(),
      trainLoss: z.number().nullable(),
      valHr10: z.number(),
      valNdcg10: z.number(),
      seconds: z.number(),
      cpuSeconds: z.number(),
    }),
  ),
  trainCpuSeconds: z.number(),
  /** The whole Python process, data loading and export included. */
  processCpuSeconds: z.number(),
});
export type SequencePythonReport = z.infer<typeof pythonReportSchema>;

/** int8 against fp32 on the evaluation's own decisions. */
export type Agreement = { decisions: number; top1Agreement: number; maxAbsScoreError: number; meanAbsScoreError: number };

export type SequenceTrainingReport = {
  data: { name: string; citation: string; source: DatasetSource; examples: number; positives: number; visitors: number; items: number };
  split: { method: string; train: number; validation: number; test: number; catalogue: number };
  features: { dropout: typeof DROPOUT; length: number };
  model: Omit<SequencePythonReport, "curve" | "sizes" | "opset">;
  validation: { protocol: string; curve: SequencePythonReport["curve"] };
  test: {
    protocol: string;
    leaveOneOut: LeaveOneOutReport;
    modelFp32: RankingFigures;
    bootstrapResamples: number;
  };
  quantization: { scheme: string; opset: number; agreement: Agreement } & SequencePythonReport["sizes"];
  parity: { cases: number; maxAbsError: number };
  wallSeconds: { data: number; features: number; python: number; evaluation: number; total: number };
  /** CPU seconds of the two processes (each single-threaded): on an idle machine, about the wall time. */
  cpuSeconds: { typescript: number; python: number; total: number };
};

function cpuSecondsOf(python: number): SequenceTrainingReport["cpuSeconds"] {
  const { user, system } = process.cpuUsage();
  const typescript = Math.round((user + system) / 1e5) / 10;
  return { typescript, python, total: Math.round((typescript + python) * 10) / 10 };
}

/** The data's visitor, context and item-attribute specs (fitted on training positives), plus the sequence. */
function sequenceFeatures(dataset: Dataset, train: Dataset["examples"], length: number): FeatureSpec[] {
  const specs = buildFeatureSpecs(train, dataset, DEFAULT_FEATURE_OPTIONS).filter(
    (f) => "source" in f && f.key !== "contentId" && f.key !== "position",
  );
  return [{ name: "recent", kind: "sequence", key: "recent", length }, ...specs];
}

function draftManifest(version: string, features: FeatureSpec[], catalogue: string[]): SequenceManifest {
  const blocks = sequenceBlocks(features);
  const width = (specs: readonly FeatureSpec[]) => specs.reduce((sum, f) => sum + featureWidth(f), 0);
  const [context, item] = [width(blocks.context), width(blocks.item)];
  return parseSequenceManifest({
    schemaVersion: 1,
    family: "sequence",
    version,
    createdAt: new Date().toISOString(),
    file: "model.onnx",
    sha256: "0".repeat(64),
    quantization: "int8",
    inputs: {
      sequence: SEQUENCE_IO.inputs.sequence,
      items: SEQUENCE_IO.inputs.items,
      ...(context ? { context: { name: SEQUENCE_IO.inputs.context, dims: context } } : {}),
      ...(item ? { itemFeatures: { name: SEQUENCE_IO.inputs.itemFeatures, dims: item } } : {}),
    },
    output: { name: SEQUENCE_IO.outputs.score, visitor: SEQUENCE_IO.outputs.visitor },
    features,
    catalogue,
  });
}

export function parseSequenceManifest(raw: unknown): SequenceManifest {
  const manifest = manifestSchema.parse(raw);
  if (manifest.family !== "sequence") throw new Error(`expected a sequence manifest, got ${manifest.family}`);
  return manifest;
}

/**
 * About six fixture cases over anonymous, short, long, partial and unknown inputs: every branch of
 * the sequence encoder (start row or not, unknown recent items, unknown candidates, missing
 * attributes and context).
 */
function parityGroups(
  manifest: SequenceManifest,
  dataset: Dataset,
  longest: VisitorProfile | null,
  shortest: VisitorProfile | null,
): ScoredGroup[] {
  const items = manifest.catalogue.slice(0, 24).map((id) => candidate(dataset.items, id));
  const some = items[0] ?? { contentId: "item", attributes: {} };
  const unseen = Object.fromEntries(
    Object.entries(some.attributes).map(([k, v]) => [k, typeof v === "number" ? v + 0.25 : "unseen-value"]),
  );
  const recentOf = (ids: string[]) => ids.map((id, i) => ({ id, ts: 1_700_000_000_000 - i * 60_000 }));
  const groups: ScoredGroup[] = [
    { profile: null, context: { hour: 9, dayOfWeek: 1 }, items: items.slice(0, 20) },
    {
      profile: longest,
      context: { hour: 21, dayOfWeek: 5, country: "JP", device: "mobile", referrerClass: "search" },
      items: items.slice(4, 24),
    },
    { profile: shortest, context: { hour: 0, dayOfWeek: 0 }, items: items.slice(0, 20) },
    {
      profile: {
        attributes: { unknownAttribute: "x" },
        recent: recentOf([manifest.catalogue[1] ?? "a", "not-in-the-catalogue", manifest.catalogue[2] ?? "b"]),
      },
      context: { hour: 13, dayOfWeek: 6 },
      items: items.slice(0, 12),
    },
    {
      profile: longest,
      context: { hour: 23, dayOfWeek: 4 },
      items: [
        ...items.slice(0, 2),
        { contentId: "new-item-1", attributes: some.attributes },
        { contentId: "new-item-2", attributes: unseen },
        { contentId: some.contentId, attributes: {} },
      ],
    },
    { profile: { attributes: {}, recent: [] }, context: {}, items: items.slice(10, 24) },
  ];
  return groups.filter((g) => g.items.length > 0);
}

function readScores(build: string, set: string, kind: "int8" | "fp32"): Float32Array {
  const bytes = readFileSync(join(build, `${set}.${kind}.f32`));
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/**
 * The shipped int8 model, through the worker's scorer, on the evaluation's decisions; against the
 * fp32 model's scores of the same inputs (train.py): each one's hits, the same top item, score differences.
 */
async function agreementOn(int8: Scorer, fp32: Float32Array, decisions: readonly LeaveOneOutDecision[], items: Dataset["items"]) {
  const hits = { int8: [] as Hit[], fp32: [] as Hit[] };
  let same = 0;
  let max = 0;
  let sum = 0;
  let offset = 0;
  const top = (scores: Float32Array) => scores.reduce((best, s, j) => (s > (scores[best] as number) ? j : best), 0);
  for (const d of decisions) {
    const a = await int8.score(
      d.profile,
      d.context,
      d.ranked.map((id) => candidate(items, id)),
    );
    const b = fp32.subarray(offset, offset + a.length);
    offset += a.length;
    hits.int8.push(hitOf(Array.from(a)));
    hits.fp32.push(hitOf(Array.from(b)));
    if (top(a) === top(b)) same++;
    a.forEach((s, j) => {
      const diff = Math.abs(s - (b[j] as number));
      max = Math.max(max, diff);
      sum += diff;
    });
  }
  const agreement: Agreement = {
    decisions: decisions.length,
    top1Agreement: same / decisions.length,
    maxAbsScoreError: max,
    meanAbsScoreError: sum / offset,
  };
  return { ...hits, agreement };
}

export async function trainSequenceModel(
  options: SequenceTrainOptions,
): Promise<{ manifest: SequenceManifest; report: SequenceTrainingReport }> {
  const { log } = options;
  const started = Date.now();
  mkdirSync(options.out, { recursive: true });
  mkdirSync(options.build, { recursive: true });

  log("loading data ...");
  const dataset = await loadDataset(options.source);
  const sequences = visitorSequences(dataset);
  const train = trainingPositives(sequences);
  if (train.length === 0)
    throw new Error(`${dataset.name}: the sequence family needs visitors with at least three positives (user ids), and there are none`);
  const catalogue = sequenceCatalogue(sequences);
  const counts = splitCounts(sequences);
  log(
    `${dataset.name}: ${sequences.length} visitors, ${counts.train + counts.validation + counts.test} positives ` +
      `(train ${counts.train}, validation ${counts.validation}, test ${counts.test}), ${catalogue.length} of ${dataset.items.size} items in the catalogue`,
  );
  const dataSeconds = seconds(started);

  const featuresStarted = Date.now();
  const length = options.length ?? RECENT_ITEMS_MAX;
  const features = sequenceFeatures(dataset, train, length);
  const draft = draftManifest(options.version, features, catalogue);
  log(
    `features: ${features.map((f) => f.name).join(", ")} (context ${draft.inputs.context?.dims ?? 0}, item ${draft.inputs.itemFeatures?.dims ?? 0} columns)`,
  );
  const tensors = writeSequences(options.build, draft, dataset, sequences, { ...DROPOUT, seed: options.seed });
  const byLength = sequences.filter((s) => s.positives.length >= 3).sort((a, b) => b.positives.length - a.positives.length);
  const profileOf = (s: (typeof sequences)[number] | undefined) => (s ? dataset.profileAt(s.userId, Number.POSITIVE_INFINITY) : null);
  const groups = parityGroups(draft, dataset, profileOf(byLength[0]), profileOf(byLength.at(-1)));
  // The evaluation's held-out decisions, sampled now so that train.py scores them with the fp32 model too.
  const held = leaveOneOutDecisions(dataset, EVALUATION_NEGATIVES, options.seed);
  const sets = {
    parity: writeScoredSet(options.build, "parity", draft, groups),
    test: writeScoredSet(
      options.build,
      "test",
      draft,
      held.decisions.map((d) => ({ profile: d.profile, context: d.context, items: d.ranked.map((id) => candidate(dataset.items, id)) })),
    ),
  };
  writeJson(join(options.build, "index.json"), {
    rows: ROWS.firstItem + catalogue.length,
    itemsWithoutRow: tensors.itemsWithoutRow,
    length,
    contextDims: draft.inputs.context?.dims ?? 0,
    itemDims: draft.inputs.itemFeatures?.dims ?? 0,
    inputs: SEQUENCE_IO.inputs,
    outputs: SEQUENCE_IO.outputs,
    sets,
  });
  const featureSeconds = seconds(featuresStarted);
  log(`wrote ${tensors.positives} positives of ${tensors.visitors} visitors in ${featureSeconds} s`);

  const pythonStarted = Date.now();
  await runPython(
    SEQUENCE_TRAIN_PY,
    [
      ...["--data", options.build, "--out", options.out, "--seed", String(options.seed)],
      ...(options.epochs === undefined ? [] : ["--epochs", String(options.epochs)]),
      ...(options.timeBudget === undefined ? [] : ["--time-budget", String(options.timeBudget)]),
      ...(options.dim === undefined ? [] : ["--dim", String(options.dim)]),
    ],
    log,
  );
  const python = pythonReportSchema.parse(JSON.parse(readFileSync(join(options.build, "report.json"), "utf8")));
  const pythonSeconds = seconds(pythonStarted);

  const bytes = readFileSync(join(options.out, "model.onnx"));
  const manifest = parseSequenceManifest({
    ...draft,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    drift: driftReference(features, train),
  });
  const [expected, expectedFp32] = [readScores(options.build, "parity", "int8"), readScores(options.build, "parity", "fp32")];
  let offset = 0;
  const cases = groups.map((g, i) => {
    const at = offset;
    offset += g.items.length;
    return {
      name: `case ${i + 1}`,
      ...g,
      expected: Array.from(expected.subarray(at, offset)),
      expectedFp32: Array.from(expectedFp32.subarray(at, offset)),
    };
  });
  writeJson(join(options.out, "parity.json"), {
    tolerance: PARITY_TOLERANCE,
    model: manifest.file,
    version: manifest.version,
    note: "expected = the int8 graph's exact emulation in train.py; expectedFp32 = the fp32 model. Histories are the profiles' `recent` lists.",
    cases,
  });
  writeJson(join(options.out, "manifest.json"), manifest);

  // The written files, read back as the worker reads them: its encoder + onnxruntime-web.
  const evaluationStarted = Date.now();
  const { scorer: int8, maxAbsError: parityError } = await checkWorkerParity(options.out, cases);
  log(`leave-one-out on ${held.decisions.length} held-out items with the shipped model ...`);
  const scored = await agreementOn(int8, readScores(options.build, "test", "fp32"), held.decisions, dataset.items);
  const bootstrap = { resamples: options.bootstrap, seed: options.seed };
  const leaveOneOut = leaveOneOutFigures(held, scored.int8, bootstrap);
  const evaluationSeconds = seconds(evaluationStarted);

  const { curve, sizes, opset, ...model } = python;
  const report: SequenceTrainingReport = {
    data: {
      name: dataset.name,
      citation: dataset.citation,
      source: options.source,
      examples: dataset.examples.length,
      positives: dataset.positives.length,
      visitors: sequences.length,
      items: dataset.items.size,
    },
    split: {
      method:
        "leave-one-out per visitor: the latest positive is test, the one before validation, the earlier ones train; " +
        "the features are fitted on training positives only, the catalogue on training and validation ones; " +
        "training on the validation positives starts once they have chosen the epoch (the refit)",
      ...counts,
      catalogue: catalogue.length,
    },
    features: { dropout: DROPOUT, length },
    model,
    validation: {
      protocol:
        "each visitor's second-to-last positive against up to 99 items they never took, drawn from all of the data's items " +
        `as the evaluation draws them (train.py, ${python.hyperparameters.validation_users} visitors at most)`,
      curve,
    },
    test: {
      protocol: LEAVE_ONE_OUT_PROTOCOL,
      leaveOneOut,
      modelFp32: summarizeHits(scored.fp32, bootstrap),
      bootstrapResamples: options.bootstrap,
    },
    quantization: {
      scheme: "embedding table int8, one float scale per row (symmetric), gathered then dequantized; other weights float32",
      opset,
      ...sizes,
      agreement: scored.agreement,
    },
    parity: { cases: cases.length, maxAbsError: parityError },
    wallSeconds: {
      data: dataSeconds,
      features: featureSeconds,
      python: pythonSeconds,
      evaluation: evaluationSeconds,
      total: seconds(started),
    },
    cpuSeconds: cpuSecondsOf(python.processCpuSeconds),
  };
  const final = parseSequenceManifest({ ...manifest, training: report });
  writeJson(join(options.out, "manifest.json"), final);
  writeFileSync(join(options.out, "MODEL_CARD.md"), renderSequenceCard(final, report));
  log(
    `test (leave-one-out, ${leaveOneOut.users} visitors): HR@10 ${leaveOneOut.model.hitRate.toFixed(4)} NDCG@10 ${leaveOneOut.model.ndcg.toFixed(4)} | ` +
      `popularity ${leaveOneOut.popularity.hitRate.toFixed(4)} / ${leaveOneOut.popularity.ndcg.toFixed(4)} | ` +
      `item-kNN ${leaveOneOut.itemKnn.hitRate.toFixed(4)} / ${leaveOneOut.itemKnn.ndcg.toFixed(4)} | ` +
      `int8 vs fp32 top-1 ${(100 * scored.agreement.top1Agreement).toFixed(2)}%`,
  );
  log(`wrote ${options.out} in ${report.wallSeconds.total} s (started ${iso(started)})`);
  return { manifest: final, report };
}
