/**
 * Training data in the shapes the worker sees: every example is (visitor profile as of its time,
 * request context, candidate item, label). Three sources: the Open Bandit Dataset sample, a generic
 * interactions CSV (+ item and user attribute CSVs), and the NDJSON that `npm run export-events`
 * writes. Visitor histories become profiles through the event consumer's own `applyInteractions`,
 * so a profile here is what KV would hold for that visitor at that moment.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";
import { localTime } from "../../worker/decisions/context";
import { trainingExampleSchema } from "../../worker/events/export";
import type { RequestContext, VisitorProfile } from "../../worker/inference/encode";
import { servedVariantFeatures } from "../../worker/variants/choose";
import { applyInteractions, type StoredProfile } from "../../worker/visitors/features";
import { decisionEventSchema, type InteractionEvent } from "../../worker/wire/events";
import { columns, readAttributes, readCsv } from "./csv";
import { createRandom } from "./random";

export type Example = {
  ts: number; // epoch ms
  userId: string | null;
  profile: VisitorProfile | null; // as of ts: history strictly before ts, plus user attributes
  context: RequestContext & { position?: string };
  contentId: string;
  label: 0 | 1;
  propensity: number | null; // logging policy's probability of this item (bandit logs), else null
  round: string; // examples shown/sampled together (a logged decision, an OBD round, a positive with its sampled negatives)
  variant?: Record<string, string | number>; // the content variant shown, as item features (worker/variants/choose.ts)
};
/** `events`: how many of the visitor's history events come before this one in the data's order (ties in time in file order). */
export type Positive = { userId: string; contentId: string; ts: number; events: number };
export type Dataset = {
  name: string;
  citation: string; // where the data came from
  items: Map<string, Record<string, string | number>>; // item attributes by content id
  users: Map<string, Record<string, string | number>>;
  examples: Example[]; // ascending ts
  positives: Positive[]; // ascending ts; for leave-one-out and item-kNN
  /**
   * History strictly before ts + attributes; with `events`, the visitor's first `events` history
   * events instead (a positive's `events`: everything before it in the data's order, ties in time included).
   */
  profileAt(userId: string, ts: number, events?: number): VisitorProfile | null;
  /** What KV would hold for each visitor after the whole history (with their attributes): profiles.ndjson. */
  storedProfiles(): Map<string, StoredProfile>;
};
export type DatasetSource =
  | { kind: "obd"; dir: string; policies: ("random" | "bts")[] }
  | {
      kind: "interactions";
      csv: string;
      items?: string;
      users?: string;
      negatives: number;
      seed: number;
      timezone: string;
      /** Where the data came from (model card); defaults to the file's path. */
      citation?: string;
    }
  | { kind: "events"; ndjson: string; items?: string; users?: string; timezone: string; citation?: string };

export async function loadDataset(source: DatasetSource): Promise<Dataset> {
  switch (source.kind) {
    case "obd":
      return loadObd(source.dir, source.policies);
    case "interactions":
      return loadInteractions(source);
    case "events":
      return loadEvents(source);
  }
}

/**
 * Splits on time by example count: the first examples train, the last `test` share tests, the
 * `validation` share before it validates. Examples with the same ts (a round) stay together.
 */
export function timeSplit(
  examples: readonly Example[],
  shares: { validation: number; test: number },
): { train: Example[]; validation: Example[]; test: Example[]; validationFrom: number; testFrom: number } {
  if (examples.length === 0) throw new Error("no examples to split");
  const at = (share: number) => (examples[Math.min(examples.length - 1, Math.floor(examples.length * share))] as Example).ts;
  const validationFrom = at(1 - shares.validation - shares.test);
  const testFrom = at(1 - shares.test);
  return {
    train: examples.filter((e) => e.ts < validationFrom),
    validation: examples.filter((e) => e.ts >= validationFrom && e.ts < testFrom),
    test: examples.filter((e) => e.ts >= testFrom),
    validationFrom,
    testFrom,
  };
}

// ---------------------------------------------------------------------------------------------
// Visitor histories -> profiles, exactly as the event consumer builds them online.

type HistoryEvent = { ts: number; contentId: string; kind: "impression" | "click" | "conversion" };

/** One visitor's interactions, folded with `applyInteractions` in time order; later queries resume. */
class History {
  readonly events: HistoryEvent[] = [];
  contentIds: ReadonlySet<string> = new Set();
  private folded: { count: number; profile: StoredProfile | null } = { count: 0, profile: null };

  constructor(private readonly visitorId: string) {}

  /** How many events are strictly before `ts`. */
  private countBefore(ts: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.events[mid] as HistoryEvent).ts < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The stored profile after every event strictly before `ts`, or after the first `events` (null before the first one). */
  before(ts: number, events?: number): StoredProfile | null {
    const lo = events ?? this.countBefore(ts);
    if (lo < this.folded.count) this.folded = { count: 0, profile: null };
    let { count, profile } = this.folded;
    for (; count < lo; count++) {
      const e = this.events[count] as HistoryEvent;
      profile = applyInteractions(profile, [this.asInteraction(e, count)], e.ts);
    }
    this.folded = { count, profile };
    return profile;
  }

  private asInteraction(e: HistoryEvent, index: number): InteractionEvent {
    return {
      type: "interaction",
      siteId: "training",
      visitorId: this.visitorId,
      measurement: true,
      personalization: true,
      bot: false,
      eventId: `history-${index}`,
      kind: e.kind,
      decisionId: "",
      slot: "",
      contentId: e.contentId,
      policy: "",
      modelVersion: "",
      ts: e.ts,
    };
  }
}

class Histories {
  private readonly byUser = new Map<string, History>();

  /** Adds an event; returns how many of the visitor's events came before it (events arrive in time order). */
  add(userId: string, event: HistoryEvent): number {
    let history = this.byUser.get(userId);
    if (!history) {
      history = new History(userId);
      this.byUser.set(userId, history);
    }
    history.events.push(event);
    return history.events.length - 1;
  }

  /** Sorts every history by time (stable: same-time events keep their file order). */
  seal(): void {
    for (const h of this.byUser.values()) {
      h.events.sort((a, b) => a.ts - b.ts);
      h.contentIds = new Set(h.events.map((e) => e.contentId));
    }
  }

  stored(userId: string, ts: number, events?: number): StoredProfile | null {
    return this.byUser.get(userId)?.before(ts, events) ?? null;
  }

  /** Every item in the visitor's whole history. */
  contentIds(userId: string): ReadonlySet<string> {
    return this.byUser.get(userId)?.contentIds ?? new Set();
  }

  /** Every visitor's profile after their whole history. */
  final(users: Dataset["users"]): Map<string, StoredProfile> {
    const out = new Map<string, StoredProfile>();
    for (const userId of new Set([...users.keys(), ...this.byUser.keys()])) {
      const stored = this.stored(userId, Number.POSITIVE_INFINITY) ?? { v: 1 as const, attributes: {}, itemAffinity: {}, recent: [] };
      out.set(userId, { ...stored, attributes: users.get(userId) ?? {} });
    }
    return out;
  }

  profileAt(users: Dataset["users"], userId: string, ts: number, events?: number): VisitorProfile | null {
    const stored = this.stored(userId, ts, events);
    const attributes = users.get(userId);
    if (!stored && !attributes) return null;
    const profile: VisitorProfile = { attributes: attributes ?? {}, itemAffinity: stored?.itemAffinity ?? {} };
    // `recent` as the event consumer keeps it (clicks and conversions, most recent first), for a visitor with a history.
    return this.byUser.has(userId) ? { ...profile, recent: stored?.recent ?? [] } : profile;
  }
}

// ---------------------------------------------------------------------------------------------
// Open Bandit Dataset sample.

const OBD_CAMPAIGNS = ["men", "women"] as const;
const OBD_TIMEZONE = "Asia/Tokyo"; // the site is Japanese; the worker passes the visitor's local time
export const OBD_CITATION =
  "Open Bandit Dataset, small sample (the obd/ folder of the zr-obp repository, Apache-2.0): Yuta Saito, Shunsuke Aihara, " +
  "Megumi Matsutani, Yusuke Narita. Open Bandit Dataset and Pipeline: Towards Realistic and Reproducible Off-Policy Evaluation. arXiv:2008.07146.";

/** Item ids overlap between campaigns, so the content id carries the campaign. */
const obdContentId = (campaign: string, itemId: string) => `${campaign}-${Number(itemId)}`;

/** OBD timestamps look like "2019-11-24 00:03:13.442536+00:00". */
function parseIsoLike(raw: string): number | undefined {
  let s = raw.trim().replace(" ", "T");
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s)) s += "Z"; // no offset: UTC, not the machine's zone
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}

function loadObd(dir: string, policies: readonly ("random" | "bts")[]): Dataset {
  if (policies.length === 0) throw new Error("OBD: no policies to load");
  // The bts folder hashes item_feature_1..3 with another salt (a 1:1 relabelling of the same
  // items); the random folder's values are every item's attributes, whichever policy logged it.
  const items = new Map<string, Record<string, string | number>>();
  for (const campaign of OBD_CAMPAIGNS) {
    for (const [itemId, attributes] of readAttributes(join(dir, "random", campaign, "item_context.csv"), "item_id")) {
      // The file's unnamed first column is a row index, not an attribute.
      const { "": _index, ...rest } = attributes;
      items.set(obdContentId(campaign, itemId), rest);
    }
  }
  const examples: Example[] = [];
  for (const policy of policies) {
    for (const campaign of OBD_CAMPAIGNS) {
      const csv = readCsv(join(dir, policy, campaign, `${campaign}.csv`));
      const col = columns(csv, ["timestamp", "item_id", "position", "click", "propensity_score"]);
      const userColumns = csv.header.flatMap((name, i) => (name.startsWith("user_feature_") ? [{ name, i }] : []));
      const affinityColumns = csv.header.flatMap((name, i) =>
        name.startsWith("user-item_affinity_") ? [{ contentId: obdContentId(campaign, name.slice("user-item_affinity_".length)), i }] : [],
      );
      for (const { line, fields } of csv.records) {
        const field = (i: number) => fields[i] ?? "";
        const ts = parseIsoLike(field(col.timestamp));
        if (ts === undefined) throw new Error(`${csv.path}:${line}: bad timestamp "${field(col.timestamp)}"`);
        const itemAffinity: Record<string, number> = {};
        for (const { contentId, i } of affinityColumns) {
          const v = Number(field(i));
          if (v !== 0 && Number.isFinite(v)) itemAffinity[contentId] = v;
        }
        examples.push({
          ts,
          userId: null,
          // OBD has no user ids: each row's own user features and affinities are the visitor's profile.
          profile: { attributes: Object.fromEntries(userColumns.map(({ name, i }) => [name, field(i)])), itemAffinity },
          context: { ...localTime(new Date(ts), OBD_TIMEZONE), position: field(col.position) },
          contentId: obdContentId(campaign, field(col.item_id)),
          label: field(col.click) === "1" ? 1 : 0,
          propensity: Number(field(col.propensity_score)),
          round: `${policy}/${campaign}/${line}`,
        });
      }
    }
  }
  examples.sort((a, b) => a.ts - b.ts);
  return withoutVisitors({ name: `obd-${policies.join("+")}`, citation: OBD_CITATION, items, examples });
}

/** A dataset without visitor ids (as OBD is): no users, no histories, no profiles to export. */
export function withoutVisitors(data: Pick<Dataset, "name" | "citation" | "items" | "examples">): Dataset {
  return { ...data, users: new Map(), positives: [], profileAt: () => null, storedProfiles: () => new Map() };
}

// ---------------------------------------------------------------------------------------------
// Generic interactions CSV: user_id,item_id,timestamp[,label][,position][,propensity].

/** ISO 8601 (a bare date-time is UTC), or a Unix epoch in seconds (below 1e11) or milliseconds. */
function parseTimestamp(raw: string): number | undefined {
  const s = raw.trim();
  if (/^\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    return Math.round(n < 1e11 ? n * 1000 : n);
  }
  return parseIsoLike(s);
}

const labelSchema = z.enum(["0", "1"]).transform((v) => (v === "1" ? 1 : 0));
const propensitySchema = z.coerce.number().gt(0).max(1);

type Interaction = { userId: string; contentId: string; ts: number; label: 0 | 1 | null; position?: string; propensity: number | null };

function readInteractions(path: string): Interaction[] {
  const csv = readCsv(path);
  const col = columns(csv, ["user_id", "item_id", "timestamp"], ["label", "position", "propensity"]);
  const rows = csv.records.map(({ line, fields }): Interaction => {
    const field = (i: number | undefined) => (i === undefined ? "" : (fields[i] ?? "").trim());
    const fail = (message: string): never => {
      throw new Error(`${path}:${line}: ${message}`);
    };
    const userId = field(col.user_id) || fail("empty user_id");
    const contentId = field(col.item_id) || fail("empty item_id");
    const ts = parseTimestamp(field(col.timestamp)) ?? fail(`bad timestamp "${field(col.timestamp)}"`);
    const label = col.label === undefined ? null : labelSchema.safeParse(field(col.label));
    const propensity = col.propensity === undefined ? null : propensitySchema.safeParse(field(col.propensity));
    if (label && !label.success) fail(`label must be 0 or 1, got "${field(col.label)}"`);
    if (propensity && !propensity.success) fail(`propensity must be in (0, 1], got "${field(col.propensity)}"`);
    const position = field(col.position);
    return {
      userId,
      contentId,
      ts,
      label: label?.success ? (label.data as 0 | 1) : null,
      ...(position ? { position } : {}),
      propensity: propensity?.success ? propensity.data : null,
    };
  });
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.ts - b.r.ts || a.i - b.i)
    .map(({ r }) => r);
}

function loadInteractions(source: Extract<DatasetSource, { kind: "interactions" }>): Dataset {
  const rows = readInteractions(source.csv);
  const items = source.items ? readAttributes(source.items, "item_id") : new Map<string, Record<string, string | number>>();
  const users = source.users ? readAttributes(source.users, "user_id") : new Map<string, Record<string, string | number>>();
  for (const r of rows) if (!items.has(r.contentId)) items.set(r.contentId, {});

  // Without a label column every row is a positive (implicit feedback); with one, 0 rows were shown
  // and not taken: impressions in the visitor's history, negatives as examples. A label column of
  // nothing but 1 says no more than no column: implicit feedback too (negatives are sampled).
  const implicit = rows.every((r) => r.label === null) || rows.every((r) => r.label === 1);
  if (!implicit && rows.some((r) => r.label === null)) throw new Error(`${source.csv}: label column with empty cells`);
  const histories = new Histories();
  // Rows are in time order (ties in file order), as each history's events are.
  const order = rows.map((r) =>
    histories.add(r.userId, { ts: r.ts, contentId: r.contentId, kind: r.label === 0 ? "impression" : "click" }),
  );
  histories.seal();
  const profileAt = (userId: string, ts: number, events?: number) => histories.profileAt(users, userId, ts, events);

  const contextAt = (ts: number, position: string | undefined) => ({
    ...localTime(new Date(ts), source.timezone),
    ...(position ? { position } : {}),
  });
  const examples: Example[] = [];
  const catalogue = [...items.keys()];
  const random = createRandom(source.seed);
  rows.forEach((r, i) => {
    const profile = profileAt(r.userId, r.ts);
    const context = contextAt(r.ts, r.position);
    const base = { ts: r.ts, userId: r.userId, profile, context, propensity: r.propensity };
    if (!implicit) {
      examples.push({ ...base, contentId: r.contentId, label: r.label === 1 ? 1 : 0, round: `${r.userId}@${r.ts}` });
      return;
    }
    const round = `${r.userId}@${r.ts}#${i}`;
    examples.push({ ...base, contentId: r.contentId, label: 1, round });
    for (const contentId of sampleUnseen(catalogue, histories.contentIds(r.userId), source.negatives, random)) {
      examples.push({ ...base, contentId, label: 0, propensity: null, round });
    }
  });
  return {
    name: basename(source.csv).replace(/\.csv$/i, ""),
    citation: source.citation ?? `interactions CSV ${source.csv}`,
    items,
    users,
    examples,
    positives: rows.flatMap((r, i) =>
      r.label === 0 ? [] : [{ userId: r.userId, contentId: r.contentId, ts: r.ts, events: order[i] as number }],
    ),
    profileAt,
    storedProfiles: () => histories.final(users),
  };
}

/** Up to `n` distinct items the visitor never interacted with (in the whole file), uniformly. */
function sampleUnseen(
  catalogue: readonly string[],
  seen: ReadonlySet<string>,
  n: number,
  random: ReturnType<typeof createRandom>,
): string[] {
  const unseen = catalogue.length - seen.size;
  const picked = new Set<string>();
  if (unseen <= n) {
    for (const id of catalogue) if (!seen.has(id)) picked.add(id);
    return [...picked];
  }
  while (picked.size < n) {
    const id = catalogue[random.int(catalogue.length)] as string;
    if (!seen.has(id)) picked.add(id);
  }
  return [...picked];
}

// ---------------------------------------------------------------------------------------------
// NDJSON from `npm run export-events` (worker/events/export.ts: trainingExampleSchema).

/** The export's line, with the logged context read as the decision logged it (unknown keys dropped). */
const loggedExampleSchema = trainingExampleSchema.extend({ context: decisionEventSchema.shape.context });

function loadEvents(source: Extract<DatasetSource, { kind: "events" }>): Dataset {
  const lines = readFileSync(source.ndjson, "utf8").split("\n");
  const logged = lines.flatMap((text, i) => {
    if (text.trim() === "") return [];
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`${source.ndjson}:${i + 1}: not JSON`);
    }
    const parsed = loggedExampleSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${source.ndjson}:${i + 1}: ${issue ? `${issue.path.join(".") || "(line)"}: ${issue.message}` : "invalid"}`);
    }
    return [parsed.data];
  });
  logged.sort((a, b) => a.ts - b.ts);
  const items = source.items ? readAttributes(source.items, "item_id") : new Map<string, Record<string, string | number>>();
  const users = source.users ? readAttributes(source.users, "user_id") : new Map<string, Record<string, string | number>>();
  for (const e of logged) if (!items.has(e.contentId)) items.set(e.contentId, {});

  const histories = new Histories();
  const positives: Positive[] = [];
  for (const e of logged) {
    if (!e.visitorId) continue;
    for (const kind of ["impression", "click", "conversion"] as const) {
      if (e[kind] !== 1) continue;
      const events = histories.add(e.visitorId, { ts: e.ts, contentId: e.contentId, kind });
      if (kind === "click") positives.push({ userId: e.visitorId, contentId: e.contentId, ts: e.ts, events });
    }
  }
  histories.seal();
  const profileAt = (userId: string, ts: number, events?: number) => histories.profileAt(users, userId, ts, events);

  const examples = logged.map((e): Example => {
    return {
      ts: e.ts,
      userId: e.visitorId,
      profile: e.visitorId ? profileAt(e.visitorId, e.ts) : null,
      // The decision logged the visitor's local hour and weekday; lines without them fall back to `timezone`.
      context: { ...localTime(new Date(e.ts), source.timezone), ...e.context, position: String(e.position) },
      contentId: e.contentId,
      label: e.click,
      // The joint probability of the item and its variant, both drawn by the logging policy.
      propensity: e.propensity * (e.variant?.propensity ?? 1),
      round: e.decisionId,
      ...(e.variant ? { variant: servedVariantFeatures(e.variant) } : {}),
    };
  });
  return {
    name: basename(source.ndjson).replace(/\.ndjson$/i, ""),
    citation: source.citation ?? `events exported by npm run export-events: ${source.ndjson}`,
    items,
    users,
    examples,
    positives,
    profileAt,
    storedProfiles: () => histories.final(users),
  };
}
