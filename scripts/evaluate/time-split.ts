import type { Scorer } from "../../worker/inference/scorer";
import type { Dataset, Example, Positive } from "../train/dataset";
import { itemKnn, popularityCtr } from "./baselines";
import { type BootstrapOptions, bootstrapInterval, type Interval, multiplicities } from "./bootstrap";
import { scoreExamples } from "./candidates";
import { aucOf, logLoss } from "./metrics";

export type Unavailable = { unavailable: string };
export type ClassifierFigures = {
  auc: number | null;
  aucInterval: Interval | null;
  /** Only for scorers whose scores are click probabilities. */
  logLoss: number | null;
};
export type TimeSplitReport = {
  testFrom: string;
  train: { examples: number; positives: number };
  test: { examples: number; positives: number };
  model: ClassifierFigures & { aucMinusPopularity: Interval | null };
  popularity: ClassifierFigures;
  itemKnn: ClassifierFigures | Unavailable;
};

/**
 * AUC and log loss on the examples at or after `testFrom`, for the model and for the baselines,
 * which learn from the examples before it (the model's training and validation periods).
 */
export async function timeSplitReport(input: {
  scorer: Scorer;
  examples: readonly Example[];
  positives: readonly Positive[];
  items: Dataset["items"];
  testFrom: number;
  bootstrap: BootstrapOptions;
}): Promise<TimeSplitReport> {
  const { examples, testFrom, bootstrap } = input;
  const train = examples.filter((e) => e.ts < testFrom);
  const test = examples.filter((e) => e.ts >= testFrom);
  const labels = test.map((e) => e.label);
  const resampled = (statistic: (weights: Uint32Array) => number | null) =>
    bootstrapInterval(test.length, (idx) => statistic(multiplicities(test.length, idx)), bootstrap);
  const aucWithInterval = (weighted: ReturnType<typeof aucOf>) => ({ auc: weighted(), aucInterval: resampled(weighted) });

  const modelScores = Array.from(await scoreExamples(input.scorer, test, input.items));
  const ctr = popularityCtr(train);
  const popularityScores = test.map((e) => ctr(e.contentId));
  const knnScores = itemKnnScores(input.positives, testFrom, test);
  const modelAuc = aucOf(modelScores, labels);
  const popularityAuc = aucOf(popularityScores, labels);

  return {
    testFrom: new Date(testFrom).toISOString(),
    train: { examples: train.length, positives: train.filter((e) => e.label === 1).length },
    test: { examples: test.length, positives: labels.filter((y) => y === 1).length },
    model: {
      ...aucWithInterval(modelAuc),
      // A sequence model's scores are ranking logits, not click probabilities.
      logLoss: input.scorer.manifest.family === "mlp" ? logLoss(modelScores, labels) : null,
      // Paired: the same resampled examples for both, so that their shared noise cancels.
      aucMinusPopularity: resampled((weights) => {
        const m = modelAuc(weights);
        const p = popularityAuc(weights);
        return m === null || p === null ? null : m - p;
      }),
    },
    popularity: { ...aucWithInterval(popularityAuc), logLoss: logLoss(popularityScores, labels) },
    itemKnn: "unavailable" in knnScores ? knnScores : { ...aucWithInterval(aucOf(knnScores, labels)), logLoss: null },
  };
}

/**
 * Item-kNN's score for each test example: similarities learned from the positives before
 * `testFrom`, summed over the user's positives before the example (what the model's profile holds).
 */
function itemKnnScores(positives: readonly Positive[], testFrom: number, test: readonly Example[]): number[] | Unavailable {
  const train = positives.filter((p) => p.ts < testFrom);
  if (train.length === 0 || test.every((e) => e.userId === null)) {
    return { unavailable: "no user ids in the data (item-kNN needs each visitor's history)" };
  }
  const knn = itemKnn(train);
  const byUser = new Map<string, Positive[]>();
  for (const p of positives) {
    const list = byUser.get(p.userId) ?? [];
    list.push(p);
    byUser.set(p.userId, list);
  }
  return test.map((e) => {
    if (e.userId === null) return 0;
    const history = (byUser.get(e.userId) ?? []).filter((p) => p.ts < e.ts).map((p) => p.contentId);
    return knn.score(new Set(history), e.contentId);
  });
}
