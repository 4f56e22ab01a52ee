import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { parseEvaluateArgs } from "../../scripts/evaluate/args";
import { recordingScorer, scoreDumpSchema, writeScoreDump } from "../../scripts/evaluate/dump";
import { evaluate } from "../../scripts/evaluate/run";
import { loadModelDir } from "../../scripts/evaluate/scorer";
import type { Scorer } from "../../worker/inference/scorer";

/**
 * `npm run evaluate` end to end on tiny files written here: an OBD-shaped directory and an
 * interactions CSV, built so that the right answer for the baselines is known by construction.
 */

const MODEL = "models/default";
let scorer: Scorer;
let dir: string;

beforeAll(async () => {
  scorer = await loadModelDir(MODEL);
  dir = mkdtempSync(join(tmpdir(), "ep-evaluate-"));
});

describe("parseEvaluateArgs", () => {
  it("needs exactly one data source and keeps leave-one-out away from OBD", () => {
    expect(() => parseEvaluateArgs(["--model", MODEL])).toThrow(/exactly one/);
    expect(() => parseEvaluateArgs(["--model", MODEL, "--obd", "a", "--events", "b"])).toThrow(/exactly one/);
    expect(() => parseEvaluateArgs(["--model", MODEL, "--obd", "a", "--protocol", "leave-one-out"])).toThrow(/user ids/);
    expect(() => parseEvaluateArgs(["--model", MODEL, "--obd", "a", "--bootstrap", "0"])).toThrow(/bootstrap/);
  });

  it("samples 99 negatives for leave-one-out and 4 per positive for a time split unless told", () => {
    const loo = parseEvaluateArgs(["--model", MODEL, "--interactions", "x.csv", "--protocol", "leave-one-out"]);
    expect(loo).toMatchObject({ data: { kind: "interactions", csv: "x.csv" }, negatives: 99, bootstrap: 1000, seed: 0 });
    expect(parseEvaluateArgs(["--model", MODEL, "--events", "e.ndjson"]).negatives).toBe(4);
    expect(parseEvaluateArgs(["--model", MODEL, "--events", "e.ndjson", "--negatives", "7"]).negatives).toBe(7);
  });
});

/** What the bundled model's manifest records of its training: the logs it learned from and where its test period starts. */
const trainingSchema = z.object({
  data: z.object({ source: z.object({ policies: z.array(z.string()) }) }),
  split: z.object({ testFrom: z.string().transform((s) => Date.parse(s)) }),
});
const HALF_HOUR = 30 * 60 * 1000;
const ITEMS = 3;

type Row = { policy: string; campaign: string; ts: number; item: number; position: number; click: 0 | 1 };

/**
 * One day of half-hourly rounds per policy and campaign, three items per campaign, every item at
 * every position. Item 2 is always clicked and the others never, so popularity ranks item 2 first,
 * then items 0 and 1 (a tie, broken by content id).
 */
function writeObd(root: string): Row[] {
  const rows: Row[] = [];
  for (const policy of ["random", "bts"]) {
    for (const campaign of ["men", "women"]) {
      const folder = join(root, policy, campaign);
      mkdirSync(folder, { recursive: true });
      const items = Array.from({ length: ITEMS }, (_, i) => `${i},${i},${(i - 1) * 0.5},a${i},b${i},c${i}`);
      writeFileSync(
        join(folder, "item_context.csv"),
        `,item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3\n${items.join("\n")}\n`,
      );
      const affinity = Array.from({ length: ITEMS }, (_, i) => `user-item_affinity_${i}`).join(",");
      const lines = [
        `,timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3,${affinity}`,
      ];
      for (let h = 0; h < 48; h++) {
        const row: Row = {
          policy,
          campaign,
          ts: Date.parse("2019-11-29T00:00:00Z") + h * HALF_HOUR,
          item: h % ITEMS,
          position: (Math.floor(h / ITEMS) % 3) + 1,
          click: h % ITEMS === 2 ? 1 : 0,
        };
        rows.push(row);
        const stamp = new Date(row.ts).toISOString().replace("T", " ").replace("Z", "000+00:00");
        lines.push(
          `${h},${stamp},${row.item},${row.position},${row.click},${1 / ITEMS},u0,u1,u2,u3,${new Array(ITEMS).fill("0.0").join(",")}`,
        );
      }
      writeFileSync(join(folder, `${campaign}.csv`), `${lines.join("\n")}\n`);
    }
  }
  return rows;
}

describe("evaluate on OBD-shaped data", () => {
  it("splits at the model's own test period, compares with popularity and estimates its value off-policy", async () => {
    const root = join(dir, "obd");
    const rows = writeObd(root);
    const recording = recordingScorer(scorer, 5);
    const options = parseEvaluateArgs(["--model", MODEL, "--obd", root, "--bootstrap", "50", "--seed", "3"]);
    const report = await evaluate(options, recording.scorer);

    const training = trainingSchema.parse(scorer.manifest.training);
    // The tiny logs span the day the bundled model's test period starts in.
    expect(training.split.testFrom).toBeGreaterThan(rows[0]?.ts ?? Number.NaN);
    const test = rows.filter((r) => r.ts >= training.split.testFrom);
    const trainedOnTest = test.filter((r) => training.data.source.policies.includes(r.policy));
    expect(report.splitFrom).toBe("manifest");
    expect(report.timeSplit?.test).toEqual({ examples: trainedOnTest.length, positives: trainedOnTest.filter((r) => r.click).length });
    expect(report.timeSplit?.model.auc).toBeGreaterThanOrEqual(0);
    expect(report.timeSplit?.itemKnn).toHaveProperty("unavailable");
    // Popularity ranks the only clicked item first: a perfect ranking of this test period.
    expect(report.timeSplit?.popularity.auc).toBe(1);

    const loggedTest = test.filter((r) => r.policy === "random");
    const off = report.offPolicy;
    if (!off) throw new Error("no off-policy section");
    expect(off.logging.random).toMatchObject({ impressions: loggedTest.length, clicks: loggedTest.filter((r) => r.click).length });
    expect(off.logging.bts.impressions).toBe(rows.filter((r) => r.policy === "bts").length);
    // By hand: popularity shows item k-th at position k as [2, 0, 1]; a logged impression counts
    // (weight 1 / propensity = 3) when it is the item the policy would have put at that position.
    const ranking = [2, 0, 1];
    const expectedIps =
      loggedTest.reduce((sum, r) => sum + (ranking[r.position - 1] === r.item ? ITEMS * r.click : 0), 0) / loggedTest.length;
    const popularity = off.estimates.popularity;
    if (!popularity || "unavailable" in popularity) throw new Error("no popularity estimate");
    expect(popularity.rounds).toBe(loggedTest.length);
    expect(popularity.matched).toBe(loggedTest.filter((r) => ranking[r.position - 1] === r.item).length);
    expect(popularity.ips.value).toBeCloseTo(expectedIps, 12);
    expect(off.estimates.itemKnn).toHaveProperty("unavailable");

    // The dump holds inputs and the scores this run got for them: scoring them again gives the same.
    const path = join(dir, "scores.json");
    writeScoreDump(path, recording.dump());
    const dump = scoreDumpSchema.parse(JSON.parse(readFileSync(path, "utf8")));
    expect(dump.samples).toHaveLength(5);
    for (const sample of dump.samples) {
      expect(Array.from(await scorer.score(sample.profile, sample.context, sample.items))).toEqual(sample.scores);
    }
  });
});

describe("evaluate on an interactions CSV, leave-one-out", () => {
  it("ranks each user's latest item; item-kNN finds it from other users' histories, popularity cannot", async () => {
    // Ten groups of three items (a, b, c); three users per group take them in rotated orders (a b c,
    // b c a, c a b), so every user's held-out item was taken with both of their others by the other
    // two users. With the held-out ones left out, every item has exactly two takers.
    const lines = ["user_id,item_id,timestamp"];
    for (let group = 0; group < 10; group++) {
      for (let u = 0; u < 3; u++) {
        for (let step = 0; step < 3; step++) {
          lines.push(`user-${group}-${u},item-${3 * group + ((u + step) % 3)},${1_700_000_000 + group * 100 + u * 10 + step}`);
        }
      }
    }
    const items = ["item_id,genre", ...Array.from({ length: 30 }, (_, i) => `item-${i},g${i % 3}`)];
    writeFileSync(join(dir, "interactions.csv"), `${lines.join("\n")}\n`);
    writeFileSync(join(dir, "items.csv"), `${items.join("\n")}\n`);
    const options = parseEvaluateArgs([
      ...["--model", MODEL, "--interactions", join(dir, "interactions.csv"), "--items", join(dir, "items.csv")],
      ...["--protocol", "leave-one-out", "--negatives", "20", "--bootstrap", "50"],
    ]);
    const report = await evaluate(options, scorer);
    const loo = report.leaveOneOut;
    if (!loo) throw new Error("no leave-one-out section");
    expect(loo.users).toBe(30);
    expect(loo).toMatchObject({ negatives: 20, fewestNegatives: 20, usersWithoutNegatives: 0 });
    expect(loo.itemKnn.hitRate).toBe(1);
    expect(loo.itemKnn.ndcg).toBe(1);
    // Popularity ties everything (two takers each): HR@10 is the chance of the top 10 of 21, 10/21.
    expect(loo.popularity.hitRate).toBeCloseTo(10 / 21, 12);
    expect(loo.model.hitRate).toBeGreaterThanOrEqual(0);
    expect(loo.model.hitRate).toBeLessThanOrEqual(1);
    expect(loo.model.ndcg).toBeLessThanOrEqual(loo.model.hitRate);
    // Same seed, same sampled negatives: the figures repeat.
    expect((await evaluate(options, scorer)).leaveOneOut).toEqual(loo);
  });
});

describe("evaluate on exported events, time split", () => {
  it("falls back to the last 20% when the model's own split lies outside the data, and scores every test example", async () => {
    // Two decisions a day for ten days in 2026: the bundled model's split (2019) cannot apply.
    const lines = Array.from({ length: 20 }, (_, d) =>
      [1, 2].map((position) =>
        JSON.stringify({
          decisionId: `d${d}`,
          ts: Date.parse("2026-01-01T00:00:00Z") + d * 12 * 3600_000,
          siteId: "demo",
          visitorId: `v${d % 4}`,
          mode: "personalized",
          modelVersion: scorer.version,
          policy: "model",
          slot: "recommendations",
          contentId: `men-${(d + position) % 5}`,
          position,
          score: null,
          propensity: 1,
          context: { hour: d % 24, dayOfWeek: d % 7, device: "desktop" },
          impression: 1,
          click: position === 1 ? 1 : 0,
          conversion: 0,
          value: 0,
        }),
      ),
    ).flat();
    writeFileSync(join(dir, "events.ndjson"), `${lines.join("\n")}\n`);
    const options = parseEvaluateArgs(["--model", MODEL, "--events", join(dir, "events.ndjson"), "--bootstrap", "50"]);
    const report = await evaluate(options, scorer);
    expect(report.splitFrom).toBe("last 20% of examples");
    const t = report.timeSplit;
    if (!t) throw new Error("no time split");
    expect(t.train.examples + t.test.examples).toBe(lines.length);
    expect(t.test.examples).toBe(8);
    // Clicks and non-clicks in the test period: every figure is defined.
    expect(t.test.positives).toBe(4);
    for (const figures of [t.model, t.popularity, t.itemKnn]) expect(figures).toHaveProperty("auc", expect.any(Number));
    expect(report.data.itemsKnownToModel).toBe(5);
  });
});
