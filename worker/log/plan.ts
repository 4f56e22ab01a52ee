import type { LogRow } from "../wire/log";
import { contributionsOf, outcomeOf } from "./contributions";
import type { KeyedRow } from "./keys";
import { addBins, addCounters, type Bins, type Counters, encodeKey, type Metric, zeroCounters } from "./metrics";

/**
 * One consumer batch as the writes it makes: the aggregates summed per key in memory (one upsert
 * per key), and the ledger entries that make those writes exact when the queue delivers a message
 * twice or a client sends an event twice.
 *
 * The ledger (D1 `log_ledger`) holds, per UTC day, the rows already counted (by a 48-bit hash of
 * kind and id) in the listings worker/log/keys.ts names: interactions in the bucket of their
 * decision's minute, decisions in their decision's or outbox message's entry. A batch writes one
 * row per listing it adds to, not one per event. A decision's entry also counts its conversions
 * against their bound (an event token cannot count unlimited conversions); the conversions past it
 * are refused, neither counted nor logged. A visitor's tally (per identified visitor and group,
 * holdout or experiment arm) holds whether they had a decision that day (1 or 0: all the group's
 * visitors counter needs, so that their later decisions write nothing), and their conversions and
 * conversion value.
 *
 * Entries and tallies have a version that grows by one with each change, and a write only succeeds
 * on the version it was planned from; a bucket is appended to, and the append fails if it would
 * list a row twice (worker/log/ledger.ts, buckets.ts). So concurrent batches cannot both count the
 * same event or visitor, and a batch planned from a stale guess is planned again from the ledger
 * as it is.
 *
 * Decisions that travel in an outbox message (worker/events/outbox.ts) are listed under their
 * message's entry: a message's decisions cost one row. Only the edge sends those messages, each
 * decision in one of them, so a decision is never listed in two entries.
 */
export type LedgerEntry = { version: number; decisions: number; conversions: number; value: number; events: string };
/** [key, version, decisions, conversions, value, events] */
export type LedgerWrite = [string, number, number, number, number, string];
/**
 * A bucket's append: the hashes it lists from now on, and the bucket as the plan knew it (its
 * version and events; 0 and "" when unknown), against which D1 checks it (worker/log/buckets.ts).
 */
export type BucketAppend = { key: string; hashes: string[]; version: number; known: string };
export type AggregateRow = { siteId: string; day: string; metric: Metric; key: string; counters: Counters; bins: Bins | null };

const ENTRY_HASH_LENGTH = 12;

/** The hashes an entry or bucket lists, as a set (a bucket's are between commas, an entry's 12 hex digits each). */
export function eventsOf(entry: Pick<LedgerEntry, "events">): Set<string> {
  if (entry.events.startsWith(",")) return new Set(entry.events.split(",").filter(Boolean));
  const out = new Set<string>();
  for (let i = 0; i < entry.events.length; i += ENTRY_HASH_LENGTH) out.add(entry.events.slice(i, i + ENTRY_HASH_LENGTH));
  return out;
}

const EMPTY: LedgerEntry = { version: 0, decisions: 0, conversions: 0, value: 0, events: "" };

type Tally = { siteId: string; day: string; metric: "holdout" | "experiment"; key: string; before: LedgerEntry; after: LedgerEntry };

/** The per-visitor counters a tally's change adds to its group: new visitors and converters, and the change in squares. */
function visitorCounters({ before, after }: Tally): Partial<Counters> {
  return {
    visitors: before.decisions === 0 && after.decisions > 0 ? 1 : 0,
    converters: before.conversions === 0 && after.conversions > 0 ? 1 : 0,
    conversionsSq: after.conversions ** 2 - before.conversions ** 2,
    valueSq: after.value ** 2 - before.value ** 2,
  };
}

const unchanged = ({ before, after }: Tally) =>
  before.decisions === after.decisions && before.conversions === after.conversions && before.value === after.value;

/** A listing (a decision's entry or a minute's bucket) as the batch changes it: what it held, and the rows and conversions it will hold. */
type Listing = { before: LedgerEntry; events: Set<string>; added: string[]; conversions: number };

function listingsOf(known: ReadonlyMap<string, LedgerEntry>) {
  const listings = new Map<string, Listing>();
  const of = (key: string) => {
    const before = known.get(key) ?? EMPTY;
    const listing = listings.get(key) ?? { before, events: eventsOf(before), added: [], conversions: before.conversions };
    listings.set(key, listing);
    return listing;
  };
  return { listings, of };
}

/** Sums of the batch's counters per aggregate key, in memory. */
function aggregatesOf() {
  const rows = new Map<string, AggregateRow>();
  const add = (siteId: string, day: string, metric: Metric, key: string, counters: Partial<Counters>, bins?: Bins) => {
    const id = `${siteId}\u0000${day}\u0000${metric}\u0000${key}`;
    const row = rows.get(id) ?? { siteId, day, metric, key, counters: zeroCounters(), bins: null };
    addCounters(row.counters, counters);
    if (bins) row.bins = addBins(row.bins ?? {}, bins);
    rows.set(id, row);
  };
  return { rows, add };
}

/**
 * Plans a batch against what the ledger is believed to hold (`known`; absent keys are believed
 * new). Rows already counted are left out; conversions past their decision's bound are refused;
 * every other row is counted once.
 */
export function planBatch(keyed: readonly KeyedRow[], known: ReadonlyMap<string, LedgerEntry>) {
  const aggregates = aggregatesOf();
  const entries = listingsOf(known);
  const buckets = listingsOf(known);
  const tallies = new Map<string, Tally>();
  const counted: LogRow[] = [];
  const refused: LogRow[] = [];

  for (const { row, decisionKey, bucketKey, eventHash, tallies: groups, bound } of keyed) {
    const listing = bucketKey === null ? entries.of(decisionKey) : buckets.of(bucketKey);
    if (listing.events.has(eventHash)) continue;
    if (bound !== null) {
      const entry = entries.of(decisionKey);
      if (entry.conversions >= bound) {
        refused.push(row);
        continue;
      }
      entry.conversions++;
    }
    listing.events.add(eventHash);
    listing.added.push(eventHash);
    counted.push(row);
    for (const c of contributionsOf(row)) aggregates.add(row.site_id, row.day, c.metric, encodeKey(c.key), c.counters, c.bins);
    countInTallies(row, groups, known, tallies, aggregates.add);
  }
  const ledger: LedgerWrite[] = [];
  for (const [key, { before, added, conversions }] of entries.listings)
    if (added.length || conversions !== before.conversions)
      ledger.push([key, before.version + 1, 0, conversions, 0, before.events + added.join("")]);
  for (const [tallyKey, tally] of tallies) {
    if (unchanged(tally)) continue;
    aggregates.add(tally.siteId, tally.day, tally.metric, tally.key, visitorCounters(tally));
    const { decisions, conversions, value } = tally.after;
    ledger.push([tallyKey, tally.before.version + 1, decisions, conversions, value, ""]);
  }
  const appends: BucketAppend[] = [...buckets.listings].flatMap(([key, { before, added }]) =>
    added.length ? [{ key, hashes: added, version: before.version, known: before.events }] : [],
  );
  return { counted, refused, ledger, appends, aggregates: [...aggregates.rows.values()] };
}
export type BatchPlan = ReturnType<typeof planBatch>;

/** A counted row in its visitor's groups: the group's outcomes, and the visitor's tally where it changes. */
function countInTallies(
  row: LogRow,
  groups: KeyedRow["tallies"],
  known: ReadonlyMap<string, LedgerEntry>,
  tallies: Map<string, Tally>,
  add: ReturnType<typeof aggregatesOf>["add"],
) {
  const { impressions = 0, clicks = 0, conversions = 0, value = 0 } = row.kind === "interaction" ? outcomeOf(row) : {};
  for (const group of groups) {
    const key = encodeKey(group.key);
    add(row.site_id, row.day, group.metric, key, { impressions, clicks, conversions, value });
    if (row.kind === "interaction" && !conversions) continue;
    const before = known.get(group.tallyKey) ?? EMPTY;
    const tally = tallies.get(group.tallyKey) ?? {
      siteId: row.site_id,
      day: row.day,
      metric: group.metric,
      key,
      before,
      after: { ...before },
    };
    // Only whether the visitor had a decision matters (it makes them one of the group's visitors):
    // their later decisions that day leave the tally as it is, and unwritten.
    if (row.kind === "decision") tally.after.decisions = 1;
    else {
      tally.after.conversions += conversions;
      tally.after.value += value;
    }
    tallies.set(group.tallyKey, tally);
  }
}
