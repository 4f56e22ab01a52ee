/** MODEL_CARD.md of a sequence model, rendered from the run's own figures (manifest.json → `training`). */
import { type FeatureSpec, featureWidth, type SequenceManifest, sequenceBlocks } from "../../../worker/inference/manifest";
import type { RankingFigures } from "../../evaluate/leave-one-out";
import type { SequenceTrainingReport } from "./pipeline";

const fixed = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(digits));
const int = (x: number) => x.toLocaleString("en-US");
const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)}%`;
const sci = (x: number) => x.toExponential(2);
const interval = (i: { low: number; high: number } | null) => (i ? `[${fixed(i.low, 3)}, ${fixed(i.high, 3)}]` : "n/a");

function encoding(spec: FeatureSpec): string {
  switch (spec.kind) {
    case "categorical":
      return `one-hot, ${spec.vocabulary.length} values + OOV`;
    case "numeric":
      return `(x − ${Number(spec.mean.toPrecision(6))}) / ${Number(spec.std.toPrecision(6))}; missing → 0`;
    case "cyclic":
      return `sin/cos of 2πx/${spec.period}; missing → 0, 0`;
    case "sequence":
      return `the ${spec.length} most recent items (\`profile.recent\`), as embedding rows`;
    default:
      return spec.kind;
  }
}

const row = (name: string, f: RankingFigures) =>
  `| ${name} | ${fixed(f.hitRate)} ${interval(f.hitRateInterval)} | ${fixed(f.ndcg)} ${interval(f.ndcgInterval)} |`;

export function renderSequenceCard(manifest: SequenceManifest, report: SequenceTrainingReport): string {
  const { data, split, model, test, quantization: q, parity } = report;
  const loo = test.leaveOneOut;
  const hp = model.hyperparameters;
  const blocks = sequenceBlocks(manifest.features);
  const best = report.validation.curve.find((c) => c.epoch === model.epochs);
  const features = [...blocks.sequence, ...blocks.context, ...blocks.item];
  const inputOf = (f: FeatureSpec) => (f.kind === "sequence" ? "sequence" : blocks.item.includes(f) ? "item_features" : "context");
  return `# Model card: \`${manifest.version}\`

Sequence ranker that the edge-personalizer worker runs with onnxruntime-web to rank content for a
visitor from the order of the items they took, the request context and the items' attributes.
\`model.onnx\` and \`manifest.json\` (family \`sequence\`, the feature contract) come from \`npm run train\`;
every figure below comes from that run, and \`manifest.json\` → \`training\` holds them all.
Scores are ranking logits (higher first), not click probabilities.

## Data

> ${data.citation}

${int(data.positives)} positives of ${int(data.visitors)} visitors on ${int(data.items)} items (${int(data.examples)} examples in the file).

## Split (protocol of every figure below)

${split.method}. Train ${int(split.train)}, validation ${int(split.validation)}, test ${int(split.test)} positives;
${int(split.catalogue)} items have an embedding row (every item with a training or validation positive: no cap); the others
score as the unknown row plus their attributes.

## Inputs

| name | kind | input | width | encoding |
|---|---|---|---|---|
${features.map((f) => `| \`${f.name}\` | ${f.kind} | \`${inputOf(f)}\` | ${f.kind === "sequence" ? `≤ ${f.length}` : featureWidth(f)} | ${encoding(f)} |`).join("\n")}

The worker's encoder (\`worker/inference/encode.ts\`, \`createSequenceEncoder\`) builds the inputs from
\`manifest.json\`: the start row followed by the recent items' rows oldest first, the last ${report.features.length} kept;
each candidate's catalogue row (unknown ids: the unknown row) and attribute columns. ${pct(report.features.dropout.anonymous, 0)} of
training positives are encoded without the visitor's attributes (seeded), so an anonymous visitor's columns are trained.

## Training

- ${model.architecture}; ${int(model.parameters)} parameters.
- Sampled softmax: every training position's next item against ${hp.negatives} catalogue items drawn uniformly per
  batch (accidental hits masked). The rarest items (fewest training positives) are shown as the unknown row
  ${pct(hp.unknown_share ?? 0, 0)} of the time, so that an item without a row scores like a rare one. Adam (lr ${hp.lr}) for the dense
  weights, SparseAdam (lr ${hp.embedding_lr}) for the embedding rows, halved after ${hp.decay_after ?? 2} epochs without a better
  validation NDCG@10; dropout ${hp.dropout}; batches of ${hp.batch_size} windows; seed ${hp.seed}.
- Validation: ${report.validation.protocol}. Best epoch ${model.epochs} (HR@10 ${fixed(best?.valHr10)}, NDCG@10 ${fixed(best?.valNdcg10)})
  of ${model.epochsRun} run (at most ${model.maxEpochs}); stopped by ${model.stoppedBy}.
- Refit: ${model.refitLosses.length} more epoch${model.refitLosses.length === 1 ? "" : "s"} from the best epoch's weights on every positive but the test ones (the validation
  items included, at the learning rates reached by then). So the model is trained on every item but the test one; the
  epoch was chosen on validation before the refit. Until the refit, an item seen only as a validation item is the unknown row.
- Wall time on this machine (${model.threads} torch thread${model.threads === 1 ? "" : "s"}): ${report.wallSeconds.total} s in all — data ${report.wallSeconds.data} s,
  tensors ${report.wallSeconds.features} s, PyTorch ${report.wallSeconds.python} s (training ${model.trainWallSeconds} s), evaluation ${report.wallSeconds.evaluation} s.
  CPU time ${report.cpuSeconds.total} s (TypeScript ${report.cpuSeconds.typescript} s, Python ${report.cpuSeconds.python} s, of which training
  ${model.trainCpuSeconds} s): on an idle machine, about the wall time; on a shared one the wall time is longer. The training budget
  (${hp.time_budget} s) counts CPU seconds, so a busy machine trains the same epochs, only more slowly.

## Metrics (test: ${int(loo.users)} visitors' latest positive)

Protocol: ${test.protocol}; ${loo.negatives} sampled items${loo.fewestNegatives < loo.negatives ? ` (only ${loo.fewestNegatives} for some visitors)` : ""}, HR@${loo.k} and NDCG@${loo.k}
with bootstrap 95% intervals (${int(test.bootstrapResamples)} resamples of visitors). The same code as \`npm run evaluate -- --protocol leave-one-out\`.

| scorer | HR@${loo.k} [95%] | NDCG@${loo.k} [95%] |
|---|---|---|
${row("this model (int8, as shipped)", loo.model)}
${row("this model (fp32)", test.modelFp32)}
${row("item popularity", loo.popularity)}
${row("item-kNN (cosine, summed over the history)", loo.itemKnn)}

## Quantization and parity

- ${q.scheme}; opset ${q.opset}. Size: fp32 ${int(q.fp32Bytes)} bytes, int8 ${int(q.int8Bytes)} bytes, ratio **${q.ratio}×**.
- On the test decisions above (${int(q.agreement.decisions)}, each ranking ${loo.negatives + 1} items), int8 against fp32: same top 1
  **${pct(q.agreement.top1Agreement)}**, max abs score difference ${sci(q.agreement.maxAbsScoreError)} (mean ${sci(q.agreement.meanAbsScoreError)}).
- \`parity.json\`: ${parity.cases} fixture cases (anonymous, short and long histories, unknown items) with the int8 graph's
  scores; the worker's encoder and onnxruntime-web reproduced them from the written files to ${sci(parity.maxAbsError)} (tolerance 1e-4).

## Intended use and limits

- Ranking a site's content inside the worker from the visitor's recent items (\`profile.recent\`, most recent first),
  the context and the items' attributes. A visitor without history gets the start row alone: a context-and-popularity ranking.
- Leave-one-out with sampled negatives measures telling a visitor's next item from random catalogue items; it is easier
  than ranking what a visitor is actually shown, and not a measure of uplift (the worker's canary and shadow modes are).
- The catalogue is fixed at training time: a new item has no embedding of its own until the next training run.
`;
}
