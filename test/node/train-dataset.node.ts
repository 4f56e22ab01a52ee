import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Dataset, type Example, loadDataset, timeSplit } from "../../scripts/train/dataset";
import { buildFeatureSpecs, DEFAULT_FEATURE_OPTIONS } from "../../scripts/train/featurize";
import { applyInteractions, type StoredProfile, storedProfileSchema } from "../../worker/visitors/features";
import type { InteractionEvent } from "../../worker/wire/events";

const dir = () => mkdtempSync(join(tmpdir(), "train-dataset-"));
const write = (path: string, lines: string[]) => writeFileSync(path, `${lines.join("\n")}\n`);

const DAY = 24 * 60 * 60 * 1000;
const T0 = Date.parse("2025-01-06T12:00:00Z"); // a Monday

/** Three users over ten items; u1 takes i1, i2 and i3 on consecutive days, u2 takes i1 twice. */
function interactionsDir(extra: { label?: boolean } = {}): string {
  const d = dir();
  const rows: [string, string, number, number?][] = [
    ["u1", "i1", T0],
    ["u2", "i1", T0 + 1000],
    ["u1", "i2", T0 + DAY],
    ["u3", "i4", T0 + DAY],
    ["u1", "i3", T0 + 2 * DAY, 0],
    ["u2", "i1", T0 + 3 * DAY],
  ];
  write(join(d, "interactions.csv"), [
    `user_id,item_id,timestamp${extra.label ? ",label" : ""}`,
    ...rows.map(([u, i, ts, label]) => `${u},${i},${new Date(ts).toISOString()}${extra.label ? `,${label ?? 1}` : ""}`),
  ]);
  write(join(d, "items.csv"), [
    "item_id,genre,price",
    ...Array.from({ length: 10 }, (_, k) => `i${k},${k % 2 ? "drama" : "news"},${k + 0.5}`),
  ]);
  write(join(d, "users.csv"), ["user_id,age_band,visits", "u1,25-34,3", "u2,55+,10"]);
  return d;
}

const loadInteractions = (d: string, negatives = 3) =>
  loadDataset({
    kind: "interactions",
    csv: join(d, "interactions.csv"),
    items: join(d, "items.csv"),
    users: join(d, "users.csv"),
    negatives,
    seed: 7,
    timezone: "Asia/Tokyo",
  });

/** What the event consumer would have stored after these (contentId, ts, kind) events, one batch each. */
function consumerProfile(events: [string, number, InteractionEvent["kind"]][]): StoredProfile | null {
  return events.reduce<StoredProfile | null>(
    (profile, [contentId, ts, kind], i) =>
      applyInteractions(
        profile,
        [
          {
            type: "interaction",
            siteId: "s",
            visitorId: "v",
            measurement: true,
            personalization: true,
            bot: false,
            eventId: `e${i}`,
            kind,
            decisionId: "d",
            slot: "x",
            contentId,
            policy: "p",
            modelVersion: "m",
            ts,
          },
        ],
        ts,
      ),
    null,
  );
}

const roundsOf = (dataset: Dataset) => {
  const rounds = new Map<string, Example[]>();
  for (const e of dataset.examples) rounds.set(e.round, [...(rounds.get(e.round) ?? []), e]);
  return rounds;
};

describe("the interactions CSV reader", () => {
  it("makes every row a positive with its sampled negatives in one round, never an item the user ever took", async () => {
    const dataset = await loadInteractions(interactionsDir());
    const rounds = roundsOf(dataset);
    expect(rounds.size).toBe(6);
    const taken = new Map([
      ["u1", new Set(["i1", "i2", "i3"])],
      ["u2", new Set(["i1"])],
      ["u3", new Set(["i4"])],
    ]);
    for (const examples of rounds.values()) {
      const [positive, ...negatives] = examples;
      expect(positive?.label).toBe(1);
      expect(negatives).toHaveLength(3);
      expect(new Set(negatives.map((e) => e.contentId)).size).toBe(3);
      for (const n of negatives) {
        expect(n.label).toBe(0);
        expect(n.ts).toBe(positive?.ts);
        expect(n.profile).toBe(positive?.profile);
        expect(taken.get(n.userId as string)?.has(n.contentId)).toBe(false);
      }
    }
    expect(dataset.positives.map((p) => `${p.userId}:${p.contentId}`)).toEqual(["u1:i1", "u2:i1", "u1:i2", "u3:i4", "u1:i3", "u2:i1"]);
  });

  it("gives each example the profile of the history strictly before it, as the event consumer computes it", async () => {
    const dataset = await loadInteractions(interactionsDir());
    const positive = (userId: string, contentId: string, ts: number) =>
      dataset.examples.find((e) => e.userId === userId && e.contentId === contentId && e.ts === ts && e.label === 1);

    // u1's first row: attributes only (nothing taken yet); u3 has neither attributes nor history.
    expect(positive("u1", "i1", T0)?.profile).toEqual({ attributes: { age_band: "25-34", visits: 3 }, itemAffinity: {}, recent: [] });
    expect(positive("u3", "i4", T0 + DAY)?.profile).toBeNull();
    // u1 on day 2 sees i1 and i2 but not i3, taken at that very moment.
    const day2 = positive("u1", "i3", T0 + 2 * DAY)?.profile;
    expect(Object.keys(day2?.itemAffinity ?? {}).sort()).toEqual(["i1", "i2"]);
    // The same history in order, most recent first, for the sequence family.
    expect(day2?.recent).toEqual([
      { id: "i2", ts: T0 + DAY },
      { id: "i1", ts: T0 },
    ]);
    const expected = consumerProfile([
      ["i1", T0, "click"],
      ["i2", T0 + DAY, "click"],
    ]);
    for (const [id, value] of Object.entries(expected?.itemAffinity ?? {})) expect(day2?.itemAffinity?.[id]).toBeCloseTo(value, 12);
    // u2's repeat: one decayed click by day 3, which profileAt reports for any time after it.
    const repeat = positive("u2", "i1", T0 + 3 * DAY)?.profile;
    expect(repeat?.itemAffinity?.i1).toBeCloseTo(consumerProfile([["i1", T0 + 1000, "click"]])?.itemAffinity.i1 ?? Number.NaN, 12);
    expect(dataset.profileAt("u2", T0 + 1000)?.itemAffinity).toEqual({});
    expect(dataset.profileAt("u2", T0 + 10 * DAY)?.itemAffinity?.i1).toBeGreaterThan(1);
  });

  it("orders a visitor's same-time positives as the file does, for a held-out item's profile", async () => {
    const d = dir();
    write(join(d, "interactions.csv"), ["user_id,item_id,timestamp", "u9,a,1000", "u9,b,1000", "u9,c,1000"]);
    const dataset = await loadDataset({ kind: "interactions", csv: join(d, "interactions.csv"), negatives: 0, seed: 1, timezone: "UTC" });
    expect(dataset.positives.map((p) => [p.contentId, p.events])).toEqual([
      ["a", 0],
      ["b", 1],
      ["c", 2],
    ]);
    // Strictly before the second: nothing; before c in the file's order: b, then a.
    expect(dataset.profileAt("u9", 1_000_000)).toBeNull();
    expect(dataset.profileAt("u9", 1_000_000, 2)?.recent?.map((r) => r.id)).toEqual(["b", "a"]);
  });

  it("exports what the visitor's object would hold after their whole history, with the visitor's attributes", async () => {
    const stored = (await loadInteractions(interactionsDir({ label: true }))).storedProfiles();
    expect([...stored.keys()].sort()).toEqual(["u1", "u2", "u3"]);
    const u1 = stored.get("u1");
    const consumer = consumerProfile([
      ["i1", T0, "click"],
      ["i2", T0 + DAY, "click"],
      ["i3", T0 + 2 * DAY, "impression"],
    ]);
    expect(u1?.attributes).toEqual({ age_band: "25-34", visits: 3 });
    // The clicks, latest first; the impression changes nothing.
    expect(u1?.recent).toEqual([
      { id: "i2", ts: T0 + DAY },
      { id: "i1", ts: T0 },
    ]);
    expect(u1?.updatedAt).toBe(T0 + 2 * DAY);
    for (const [id, value] of Object.entries(consumer?.itemAffinity ?? {})) expect(u1?.itemAffinity[id]).toBeCloseTo(value, 12);
    for (const profile of stored.values()) expect(storedProfileSchema.safeParse(profile).success).toBe(true);
  });

  it("takes hour and weekday in the given time zone, and reads attribute columns as numbers or categories", async () => {
    const dataset = await loadInteractions(interactionsDir());
    // 12:00 UTC on Monday is 21:00 on Monday in Tokyo.
    expect(dataset.examples[0]?.context).toEqual({ hour: 21, dayOfWeek: 1 });
    expect(dataset.items.get("i3")).toEqual({ genre: "drama", price: 3.5 });
    expect(dataset.users.get("u2")).toEqual({ age_band: "55+", visits: 10 });
  });

  it("with a label column, keeps shown-not-taken rows as negatives and as impressions that add no affinity", async () => {
    const dataset = await loadInteractions(interactionsDir({ label: true }));
    expect(dataset.examples).toHaveLength(6);
    expect(dataset.examples.map((e) => e.label)).toEqual([1, 1, 1, 1, 0, 1]);
    expect(dataset.positives.map((p) => p.contentId)).not.toContain("i3");
    expect(Object.keys(dataset.profileAt("u1", T0 + 5 * DAY)?.itemAffinity ?? {}).sort()).toEqual(["i1", "i2"]);
  });

  it("names the line of a bad row", async () => {
    const d = interactionsDir();
    write(join(d, "interactions.csv"), ["user_id,item_id,timestamp", "u1,i1,2025-01-06T12:00:00Z", "u1,i2,yesterday"]);
    await expect(loadInteractions(d)).rejects.toThrow(/interactions\.csv:3: bad timestamp "yesterday"/);
  });
});

describe("the events NDJSON reader", () => {
  const line = (overrides: Record<string, unknown> = {}) =>
    JSON.stringify({
      decisionId: "d1",
      ts: T0,
      siteId: "demo",
      visitorId: "v1",
      mode: "personalized",
      modelVersion: "m1",
      policy: "model",
      slot: "hero",
      contentId: "c1",
      position: 1,
      score: 0.1,
      propensity: 1,
      context: { hour: 9, dayOfWeek: 2, country: "JP", device: "mobile", unknownKey: "dropped" },
      impression: 1,
      click: 1,
      conversion: 0,
      value: 0,
      ...overrides,
    });

  it("reads logged decisions: label = click, the logged context and position, history from earlier clicks", async () => {
    const path = join(dir(), "events.ndjson");
    write(path, [line(), "", line({ decisionId: "d2", ts: T0 + DAY, contentId: "c2", position: 2, click: 0 })]);
    const dataset = await loadDataset({ kind: "events", ndjson: path, timezone: "UTC" });
    expect(dataset.examples.map((e) => [e.round, e.label, e.context.position])).toEqual([
      ["d1", 1, "1"],
      ["d2", 0, "2"],
    ]);
    expect(dataset.examples[0]?.context).toEqual({ hour: 9, dayOfWeek: 2, country: "JP", device: "mobile", position: "1" });
    expect(dataset.examples[0]?.profile).toBeNull();
    expect(Object.keys(dataset.examples[1]?.profile?.itemAffinity ?? {})).toEqual(["c1"]);
    // The click is the visitor's second history event: the impression of the same decision came first.
    expect(dataset.positives).toEqual([{ userId: "v1", contentId: "c1", ts: T0, events: 1 }]);
    expect(dataset.examples[1]?.profile?.recent).toEqual([{ id: "c1", ts: T0 }]);
  });

  it("learns variants: the shown variant's features become item features, and the propensity the joint one", async () => {
    const path = join(dir(), "events.ndjson");
    const variant = (id: string, title: string) => ({
      id,
      language: "fr",
      components: { title, cta: "cta-1" },
      synthetic: id === "b",
      reason: "model",
      propensity: 0.5,
    });
    write(
      path,
      Array.from({ length: 12 }, (_, i) =>
        line({
          decisionId: `d${i}`,
          ts: T0 + i * DAY,
          propensity: 0.8,
          variant: variant(i % 2 ? "a" : "b", i % 2 ? "title-1" : "title-2"),
        }),
      ),
    );
    const dataset = await loadDataset({ kind: "events", ndjson: path, timezone: "UTC" });
    expect(dataset.examples[0]).toMatchObject({
      propensity: 0.4,
      variant: { variant: "b", variantLanguage: "fr", synthetic: 1, component_title: "title-2", component_cta: "cta-1" },
    });
    const specs = buildFeatureSpecs(dataset.examples, dataset, { ...DEFAULT_FEATURE_OPTIONS, minCount: 1 });
    const titles = specs.find((f) => f.kind === "categorical" && f.key === "component_title");
    expect(titles?.kind === "categorical" && titles.vocabulary).toEqual(["title-1", "title-2"]);
  });

  it("rejects a malformed line with an error naming the line and the field", async () => {
    const path = join(dir(), "events.ndjson");
    write(path, [line(), line({ decisionId: "d2" }), line({ click: 2 })]);
    await expect(loadDataset({ kind: "events", ndjson: path, timezone: "UTC" })).rejects.toThrow(/events\.ndjson:3: click: /);
    write(path, [line(), "{not json"]);
    await expect(loadDataset({ kind: "events", ndjson: path, timezone: "UTC" })).rejects.toThrow(/events\.ndjson:2: not JSON/);
  });
});

describe("the Open Bandit Dataset reader", () => {
  it("gives each logged row its own user features and affinities as the profile, Tokyo time and the campaign's content ids", async () => {
    const d = dir();
    for (const campaign of ["men", "women"]) {
      mkdirSync(join(d, "random", campaign), { recursive: true });
      write(join(d, "random", campaign, "item_context.csv"), [",item_id,item_feature_0,item_feature_1", "0,0,-0.5,aa", "1,1,0.5,bb"]);
      write(join(d, "random", campaign, `${campaign}.csv`), [
        ",timestamp,item_id,position,click,propensity_score,user_feature_0,user-item_affinity_0,user-item_affinity_1",
        `0,2019-11-24 15:00:00.5+00:00,1,2,${campaign === "men" ? 1 : 0},0.5,hash-a,0.0,2.0`,
      ]);
    }
    const dataset = await loadDataset({ kind: "obd", dir: d, policies: ["random"] });
    expect([...dataset.items.keys()]).toEqual(["men-0", "men-1", "women-0", "women-1"]);
    expect(dataset.items.get("men-1")).toEqual({ item_feature_0: 0.5, item_feature_1: "bb" });
    const [men] = dataset.examples;
    expect(men).toMatchObject({
      userId: null,
      contentId: "men-1",
      label: 1,
      propensity: 0.5,
      context: { hour: 0, dayOfWeek: 1, position: "2" },
      profile: { attributes: { user_feature_0: "hash-a" }, itemAffinity: { "men-1": 2 } },
    });
    expect(dataset.positives).toEqual([]);
  });
});

describe("timeSplit", () => {
  it("splits by time at the given shares of examples and never inside a round", async () => {
    const dataset = await loadInteractions(interactionsDir(), 2);
    const split = timeSplit(dataset.examples, { validation: 0.2, test: 0.3 });
    expect(split.train.length + split.validation.length + split.test.length).toBe(dataset.examples.length);
    expect(split.train.every((e) => e.ts < split.validationFrom)).toBe(true);
    expect(split.test.every((e) => e.ts >= split.testFrom)).toBe(true);
    const part = new Map<string, string>();
    for (const [name, examples] of Object.entries({ train: split.train, validation: split.validation, test: split.test })) {
      for (const e of examples) {
        expect(part.get(e.round) ?? name).toBe(name);
        part.set(e.round, name);
      }
    }
  });
});
