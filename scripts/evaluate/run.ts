import { z } from "zod";
import type { Scorer } from "../../worker/inference/scorer";
import { type Dataset, type Example, loadDataset, timeSplit } from "../train/dataset";
import type { DataSource, EvaluateOptions } from "./args";
import { popularityCtr } from "./baselines";
import type { BootstrapOptions } from "./bootstrap";
import { type LeaveOneOutReport, leaveOneOutReport } from "./leave-one-out";
import { byItemScore, byModel, type ObservedCtr, observedCtr, offPolicyReport } from "./off-policy";
import type { PolicyValue } from "./ope";
import { type TimeSplitReport, timeSplitReport, type Unavailable } from "./time-split";

export type EvaluationReport = {
  model: { version: string; dir: string };
  /** `itemsKnownToModel`: items of the data in the model's catalogue; the others score as unknown ids. */
  data: { name: string; citation: string; examples: number; items: number; itemsKnownToModel: number; positives: number };
  protocol: EvaluateOptions["protocol"];
  seed: number;
  bootstrapResamples: number;
  /** Where the test period starts: the model's own split (manifest), or the last 20% of examples without one for this data. */
  splitFrom?: "manifest" | "last 20% of examples";
  timeSplit?: TimeSplitReport;
  offPolicy?: OffPolicySection;
  leaveOneOut?: LeaveOneOutReport;
};

export type OffPolicySection = {
  loggedData: string;
  targetPolicies: string;
  rewardModel: string;
  logging: {
    random: ObservedCtr & { window: string };
    bts: ObservedCtr & { window: string };
    btsTestWindow: ObservedCtr & { window: string };
  };
  estimates: Record<string, PolicyValue | Unavailable>;
};

/** The OBD logging policies whose logs the model was trained on, as training writes them in the manifest. */
const trainingObdSchema = z.object({
  data: z.object({ source: z.object({ kind: z.literal("obd"), policies: z.array(z.enum(["random", "bts"])).min(1) }) }),
});
const obdPoliciesOf = (scorer: Scorer) => {
  const training = trainingObdSchema.safeParse(scorer.manifest.training);
  return training.success ? training.data.data.source.policies : null;
};

/** The split the model was trained with, as training writes it in the manifest. */
const trainingSplitSchema = z.object({ split: z.object({ testFrom: z.string() }) });

/**
 * Where the test period starts: the model's own split when its manifest has one inside this data's
 * time range (a split from other data would make everything test, or nothing), else the last 20%.
 */
function testFromOf(scorer: Scorer, examples: readonly Example[]): { testFrom: number; splitFrom: EvaluationReport["splitFrom"] } {
  const training = trainingSplitSchema.safeParse(scorer.manifest.training);
  if (training.success) {
    const testFrom = Date.parse(training.data.split.testFrom);
    if (Number.isNaN(testFrom)) throw new Error(`manifest training.split.testFrom is not a date: "${training.data.split.testFrom}"`);
    const first = examples[0]?.ts ?? Number.NaN;
    const last = examples.at(-1)?.ts ?? Number.NaN;
    if (testFrom > first && testFrom <= last) return { testFrom, splitFrom: "manifest" };
  }
  return { testFrom: timeSplit(examples, { validation: 0.1, test: 0.2 }).testFrom, splitFrom: "last 20% of examples" };
}

/** Runs the protocol that the options ask for on the data they name; the report is what the CLI prints. */
export async function evaluate(options: EvaluateOptions, scorer: Scorer): Promise<EvaluationReport> {
  const bootstrap = { resamples: options.bootstrap, seed: options.seed };
  const known = new Set(scorer.manifest.catalogue);
  const header = (dataset: Pick<Dataset, "name" | "citation" | "items" | "positives">, examples: number) => ({
    model: { version: scorer.version, dir: options.model },
    data: {
      name: dataset.name,
      citation: dataset.citation,
      examples,
      items: dataset.items.size,
      itemsKnownToModel: [...dataset.items.keys()].filter((id) => known.has(id)).length,
      positives: dataset.positives.length,
    },
    protocol: options.protocol,
    seed: options.seed,
    bootstrapResamples: options.bootstrap,
  });

  if (options.data.kind === "obd") {
    const random = await loadDataset({ kind: "obd", dir: options.data.dir, policies: ["random"] });
    const bts = await loadDataset({ kind: "obd", dir: options.data.dir, policies: ["bts"] });
    // The time split is over the logs the model learned from (its manifest says which), so that its
    // test period is the one training held out; without that record, both policies' logs.
    const trainedOn = obdPoliciesOf(scorer) ?? ["random", "bts"];
    const examples = [...(trainedOn.includes("random") ? random.examples : []), ...(trainedOn.includes("bts") ? bts.examples : [])].sort(
      (a, b) => a.ts - b.ts,
    );
    const { testFrom, splitFrom } = testFromOf(scorer, examples);
    return {
      ...header({ ...random, name: `obd-${trainedOn.join("+")}` }, examples.length),
      splitFrom,
      timeSplit: await timeSplitReport({ scorer, examples, positives: [], items: random.items, testFrom, bootstrap }),
      offPolicy: await obdOffPolicy(scorer, random, bts, examples, testFrom, bootstrap),
    };
  }

  const dataset = await loadDataset(datasetSource(options.data, options));
  if (options.protocol === "leave-one-out") {
    return {
      ...header(dataset, dataset.examples.length),
      leaveOneOut: await leaveOneOutReport({ scorer, dataset, negatives: options.negatives, seed: options.seed, bootstrap }),
    };
  }
  const { testFrom, splitFrom } = testFromOf(scorer, dataset.examples);
  return {
    ...header(dataset, dataset.examples.length),
    splitFrom,
    timeSplit: await timeSplitReport({
      scorer,
      examples: dataset.examples,
      positives: dataset.positives,
      items: dataset.items,
      testFrom,
      bootstrap,
    }),
  };
}

function datasetSource(data: Exclude<DataSource, { kind: "obd" }>, options: EvaluateOptions) {
  const attributes = { ...(data.items ? { items: data.items } : {}), ...(data.users ? { users: data.users } : {}) };
  if (data.kind === "events") return { kind: "events" as const, ndjson: data.ndjson, ...attributes, timezone: options.timezone };
  // Leave-one-out samples its own negatives; the examples only give each positive's context.
  const negatives = options.protocol === "leave-one-out" ? 0 : options.negatives;
  return { kind: "interactions" as const, csv: data.csv, ...attributes, negatives, seed: options.seed, timezone: options.timezone };
}

/**
 * OBD: the learned policy against the logging policies. Estimated on the uniformly random policy's
 * rounds of the test period (unbiased, and unseen by training), next to what the random and the
 * production (Bernoulli Thompson Sampling) policies observed.
 */
async function obdOffPolicy(
  scorer: Scorer,
  random: Dataset,
  bts: Dataset,
  /** The logs the model learned from: popularity learns from the same ones. */
  trainedOn: readonly Example[],
  testFrom: number,
  bootstrap: BootstrapOptions,
): Promise<OffPolicySection> {
  const logged = random.examples.filter((e) => e.ts >= testFrom);
  // OBD's content ids carry the campaign ("men-3"); a round can only show its campaign's items.
  const campaignOf = (contentId: string) => contentId.slice(0, contentId.lastIndexOf("-"));
  const campaigns = new Map<string, string[]>();
  for (const id of [...random.items.keys()].sort()) campaigns.set(campaignOf(id), [...(campaigns.get(campaignOf(id)) ?? []), id]);
  const ctr = popularityCtr(trainedOn.filter((e) => e.ts < testFrom));
  return {
    loggedData: `random/ rounds at or after ${new Date(testFrom).toISOString()} (one per impression: round x position)`,
    targetPolicies:
      "deterministic rankings of the round's campaign items, the k-th ranked at position k (as the worker fills a slot); " +
      "model: by predicted click probability; popularity: by training CTR",
    rewardModel: "the model's predicted click probability (doubly robust, every policy)",
    logging: {
      random: { ...observedCtr(logged, bootstrap), window: "test period" },
      bts: { ...observedCtr(bts.examples, bootstrap), window: "all of bts/" },
      btsTestWindow: {
        ...observedCtr(
          bts.examples.filter((e) => e.ts >= testFrom),
          bootstrap,
        ),
        window: "test period",
      },
    },
    estimates: await offPolicyReport({
      scorer,
      logged,
      items: random.items,
      actionsOf: (e) => campaigns.get(campaignOf(e.contentId)) ?? [],
      policies: {
        model: byModel,
        popularity: byItemScore(ctr),
        itemKnn: { unavailable: "OBD has no user ids, so there is no history for item-kNN to compare with" },
      },
      bootstrap,
    }),
  };
}
