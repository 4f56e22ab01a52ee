/** MODEL_CARD.md, rendered from the run's own figures (manifest.json → `training` has them all). */
import { type FeatureSpec, featureWidth, type MlpManifest } from "../../worker/inference/manifest";
import type { TrainingReport } from "./pipeline";
import type { DemoVisitors } from "./showcase";

const fixed = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || Number.isNaN(x) ? "n/a" : x.toFixed(digits));
const int = (x: number) => x.toLocaleString("en-US");
const pct = (x: number, digits = 2) => `${(100 * x).toFixed(digits)}%`;
const sci = (x: number) => x.toExponential(2);
const interval = (i: { low: number; high: number } | null) => (i ? `[${fixed(i.low, 3)}, ${fixed(i.high, 3)}]` : "n/a");
const g = (x: number) => Number(x.toPrecision(6)).toString();

function encoding(spec: FeatureSpec): string {
  switch (spec.kind) {
    case "categorical":
      return `${spec.vocabulary.length} values + OOV${spec.serving === undefined ? "" : `; served as \`${spec.serving}\``}`;
    case "numeric":
      return `(x ${spec.mean < 0 ? "+" : "−"} ${g(Math.abs(spec.mean))}) / ${g(spec.std)}; missing → 0`;
    case "cyclic":
      return `sin/cos of 2πx/${spec.period}; missing → 0, 0`;
    case "user_item":
      return `x / ${g(spec.std)} (the RMS of non-zero training values); missing → 0`;
    case "item_bag":
      return `${spec.transform}(affinity) per known item, over the ${spec.vocabulary.length} catalogue items`;
    case "sequence":
      return `the ${spec.length} most recent items, as embedding rows`;
  }
}

const sourceOf = (spec: FeatureSpec) => ("source" in spec ? spec.source : spec.kind === "item_bag" ? "user (history)" : "user × item");

function dataNotes(report: TrainingReport): string {
  const source = report.data.source;
  switch (source.kind) {
    case "obd":
      return `Logged impressions of a Japanese fashion e-commerce site's 3-slot recommendation widget, policies: ${source.policies.map((p) => `\`${p}\``).join(", ")} (\`men\` and \`women\` campaigns). Item ids overlap between campaigns, so the content id is \`{campaign}-{item_id}\`. The \`bts\` folder hashes \`item_feature_1..3\` with another salt than \`random\` (a 1:1 relabelling of the same items); the \`random\` folder's values are every item's attributes. OBD has no user ids: each row's own \`user_feature_*\` and \`user-item_affinity_*\` columns are the visitor's profile (\`attributes\`, \`itemAffinity\`). Hour and weekday are local Japan time. Rows are plain (context, item, click) examples: propensities are not used for training (no inverse-propensity weighting).`;
    case "interactions":
      return `Interactions CSV \`${source.csv}\`${source.items ? `, item attributes \`${source.items}\`` : ""}${source.users ? `, user attributes \`${source.users}\`` : ""}. Without a label column (or with every label 1) every row is a positive, and ${source.negatives} items the user never interacted with (in the whole file) are sampled uniformly (seed ${source.seed}) as its negatives, in the same round. Each example's profile is the visitor's history strictly before it, folded by the event consumer's own \`applyInteractions\` (an interaction counts as a click: affinity +1, halving every 7 days), plus their attributes. Hour and weekday are taken in \`${source.timezone}\`.`;
    case "events":
      return `Logged decisions exported by \`npm run export-events\` (\`${source.ndjson}\`): one example per shown item, label = click, with the context and position the decision logged. Profiles are each visitor's history strictly before the decision (impressions, clicks and conversions folded by the event consumer's \`applyInteractions\`), plus attributes from \`${source.users ?? "(no --users file)"}\`.`;
  }
}

function limits(report: TrainingReport): string[] {
  const common = [
    "Scores are click probabilities for the training population; they are not calibrated for other sites or periods.",
    "A content id outside the model's catalogue gets the OOV contentId column and is scored from its attributes (and the history bag, which only covers known items).",
    "Position debiasing is the simple “serve as position 1” trick; clicks are not inverse-propensity weighted.",
  ];
  const source = report.data.source;
  switch (source.kind) {
    case "obd":
      return [
        `Few clicks (${int(report.data.positives)} in all, ${int(report.split.test.positives)} in test): the intervals above are wide; read differences within them as noise.`,
        "One week of data: day-of-week effects are confounded with the date.",
        "OBD has no country, device, referrer or page category, so those are not features of this model; a model trained on a site's own events will have them.",
        "User and item categoricals are opaque hashes from OBD; the worker's profiles must use the same strings to benefit.",
        ...common,
      ];
    case "interactions":
      return [
        "Sampled negatives are items the user never took, not items they saw and skipped: AUC here measures telling taken items from random ones, which is easier than ranking what a visitor is actually shown.",
        "If the data is SYNTHETIC (see the citation above), its figures show that the pipeline learns the mechanisms the generator put in, nothing about real visitors.",
        ...common,
      ];
    case "events":
      return ["The logged policy chose what was shown: items it never showed are unknown to the model.", ...common];
  }
}

export function renderModelCard(
  manifest: MlpManifest,
  report: TrainingReport,
  demo: DemoVisitors,
  demoCatalogue: readonly string[],
): string {
  const { data, split, model, test, quantization: q, parity } = report;
  const m = test.metrics;
  const ci = test.aucInterval95;
  const hp = model.hyperparameters;
  const curve = report.validation.curve;
  const kept = curve.find((c) => c.epoch === model.epochs);
  const lowest = curve.reduce((a, b) => (b.valLogloss < a.valLogloss ? b : a));
  const ranking = parity.rankAgreementInt8VsFp32;
  const diff = ci.modelInt8MinusPopularity;
  const verdict = !diff
    ? "The test period lacks one of the classes, so AUC is undefined."
    : diff.low > 0
      ? `The model ranks the test period better than item popularity: the paired 95% interval of the AUC difference, ${interval(diff)}, lies above 0.`
      : diff.high < 0
        ? `Item popularity ranks the test period better than the model: the paired 95% interval of the AUC difference, ${interval(diff)}, lies below 0.`
        : `The model and item popularity are indistinguishable on this test period: the paired 95% interval of the AUC difference, ${interval(diff)}, includes 0.`;
  const row = (name: string, f: { auc: number | null; logLoss: number | null }, i?: { low: number; high: number } | null) =>
    `| ${name} | ${fixed(f.auc)}${i === undefined ? "" : ` ${interval(i)}`} | ${fixed(f.logLoss, 5)} |`;

  return `# Model card: \`${manifest.version}\`

Click-probability model that the edge-personalizer worker runs with onnxruntime-web to rank content
for a visitor. \`model.onnx\` (int8 weights) and \`manifest.json\` (the feature contract) come from
\`npm run train\`; every figure below comes from that run, and \`manifest.json\` → \`training\` holds
them all in machine-readable form.

## Data

> ${data.citation}

${dataNotes(report)}

${int(data.examples)} examples (${int(data.positives)} positives) in ${int(data.rounds)} rounds, ${int(data.items)} items${data.users ? `, ${int(data.users)} users with attributes` : ""}, ${data.from.slice(0, 10)} to ${data.to.slice(0, 10)}.

## Features (D = ${manifest.input.dims})

The encoded row is the concatenation of these blocks, in this order; the worker's encoder
(\`worker/inference/encode.ts\`) builds training rows and served rows alike from \`manifest.json\`.

| name | kind | source | width | encoding |
|---|---|---|---|---|
${manifest.features.map((f) => `| \`${f.name}\` | ${f.kind} | ${sourceOf(f)} | ${featureWidth(f)} | ${encoding(f)} |`).join("\n")}

- Fitted on the training split only. Categorical values need ${report.features.minCount} training examples
  (at most ${report.features.maxCategories} per feature); the model knows at most ${int(report.features.maxItems)} items by id (those with
  the most training positives), for \`contentId\` and the history bag alike. Everything else falls into OOV.
- Feature dropout: ${pct(report.features.dropout.anonymous, 0)} of training rounds are encoded as an anonymous visitor and
  ${pct(report.features.dropout.unknownItem, 0)} of rows with an unknown content id (fixed by the seed), so the OOV columns learn population averages.
- \`drift\` in the manifest: each visitor and context feature's training distribution over the
  worker's drift bins (\`worker/inference/drift.ts\`), one count per round.

## Training

- ${model.architecture}, ${int(model.parameters)} parameters; binary cross-entropy, Adam (lr ${hp.lr}, batch ${hp.batch_size}),
  L2 ${hp.weight_decay} on the weight matrices, initial weights N(0, ${hp.init_std}) (the untrained model is the base rate), seed ${hp.seed}.
- Time split: train ${int(split.train.examples)} examples / ${int(split.train.positives)} positives,
  validation ${int(split.validation.examples)} / ${int(split.validation.positives)} (from ${split.validationFrom}),
  test ${int(split.test.examples)} / ${int(split.test.positives)} (from ${split.testFrom}): ${split.method}.
- Early stopping on validation log loss, robust to its noise: an epoch is kept while its per-example
  losses are not worse than the best epoch's by more than ${hp.se_tolerance} paired standard errors; training stops
  after ${hp.patience} epochs that are. This run: lowest validation log loss at epoch ${lowest.epoch} (${fixed(lowest.valLogloss, 5)}),
  kept epoch ${model.epochs} (${fixed(kept?.valLogloss, 5)}, validation AUC ${fixed(kept?.valAuc)}) of ${model.epochsRun} run (at most ${hp.epochs}); the untrained
  model's validation log loss is ${fixed(curve[0]?.valLogloss, 5)}.
- Wall time on this machine (${model.threads} torch thread${model.threads === 1 ? "" : "s"}): ${report.wallSeconds.total} s in all — data ${report.wallSeconds.data} s,
  features ${report.wallSeconds.features} s, PyTorch ${report.wallSeconds.python} s (of which training ${model.trainWallSeconds} s).

## Metrics (test period: ${int(split.test.examples)} examples, ${int(split.test.positives)} positives)

| scorer | AUC [95% bootstrap interval] | log loss |
|---|---|---|
${row("this model (int8, as shipped)", m.modelInt8, ci.modelInt8)}
${row("this model (fp32)", m.modelFp32)}
${row("item popularity (training CTR, shrunk to the mean by 1,000 pseudo-impressions)", m.popularity, ci.popularity)}
${row("constant (training base rate)", m.constant)}
${row("this model, visitor blanked (anonymous)", m.modelInt8Anonymous)}

${verdict} (${int(test.bootstrapResamples)} bootstrap resamples of test rounds: a positive with its sampled negatives, or one logged decision, moves as one.)

## Slices (test period)

${test.slices
  .map(
    (s) => `By \`${s.feature}\` (its drift bins):

| value | examples | positives | model AUC | popularity AUC |
|---|---|---|---|---|
${s.slices.map((x) => `| ${x.value.length > 20 ? `${x.value.slice(0, 8)}…` : x.value} | ${int(x.examples)} | ${int(x.positives)} | ${fixed(x.modelAuc)} | ${fixed(x.popularityAuc)} |`).join("\n")}`,
  )
  .join("\n\n")}

## Quantization and parity

- \`model.onnx\`: each weight matrix is an int8 initializer with one float scale per output channel
  (symmetric, zero point 0) through \`DequantizeLinear(axis=1)\` before its \`MatMul\`; biases stay fp32.
  Ops: DequantizeLinear, MatMul, Add, Relu, Sigmoid; opset ${q.opset}.
- Size: fp32 ${int(q.fp32Bytes)} bytes, int8 ${int(q.int8Bytes)} bytes, ratio **${q.ratio}×**.
- Scores on the ${int(parity.rows)} test rows, int8 vs fp32: max abs error ${sci(parity.maxAbsScoreErrorInt8VsFp32)},
  mean ${sci(parity.meanAbsScoreErrorInt8VsFp32)}.
- Rankings over ${int(ranking.decisions)} test decisions (each ranking the ${int(report.features.rows.ranking.rows / Math.max(1, ranking.decisions))} most-clicked catalogue items, served
  encoding): same top 1 ${pct(ranking.top1Agreement)}, pairwise order agreement ${pct(ranking.pairwiseOrderAgreement)}, mean Kendall τ
  ${fixed(ranking.meanKendallTau)} (min ${fixed(ranking.minKendallTau)}).
- \`parity.json\`: ${parity.worker?.cases ?? 0} fixture cases (anonymous, real, partial and unknown inputs) with the int8 graph's scores;
  the worker's encoder and onnxruntime-web reproduced them from the written files to ${sci(parity.worker?.maxAbsError ?? Number.NaN)}
  (tolerance 1e-4). For \`models/default\`, \`npm run train\` then runs \`test/parity.test.ts\` inside workerd.

## Demo data

\`demo-catalogue.json\`: the ${demoCatalogue.length} catalogue items with the most training positives. \`demo-visitors.json\`:
real visitors (from the richest histories) whose top 5 in the demo context (hour ${demo.rankingContext.hour}, weekday ${demo.rankingContext.dayOfWeek})
differ from each other's and from the anonymous top 5 (${demo.anonymousTop5.join(", ")}):

| visitor | top 5 |
|---|---|
${demo.visitors.map((v) => `| \`${v.id}\` | ${v.top5.join(", ")} |`).join("\n")}
${report.profiles > 0 ? `\n\`profiles.ndjson\`: ${int(report.profiles)} visitor profiles after the whole history, for KV (\`npm run load-profiles\`).\n` : ""}
## Intended use

Ranking a site's content for its visitors inside the edge-personalizer worker, from the visitor's
profile, the request context and the items' attributes; a starting point for a site to retrain on
its own logged decisions (\`npm run export-events\`, then \`npm run train -- --events …\`). Not a
measure of uplift: only an online test (the worker's canary and shadow modes) can show that.

## Limits

${limits(report)
  .map((l) => `- ${l}`)
  .join("\n")}
`;
}
