import type { LogRow } from "../wire/log";
import { contributionsOf, groupsOf, outcomeOf } from "./contributions";
import { addCounters, type Counters, encodeKey, type Metric, zeroCounters } from "./metrics";

/**
 * One consumer batch as the writes it makes: the aggregates summed per key in memory (one upsert
 * per key), and the ledger entries that make those writes exact when the queue delivers a message
 * twice or a client sends an event twice.
 *
 * The ledger (D1 `log_ledger`) holds, per UTC day, an entry per decision and a tally per identified
 * visitor and group (holdout or experiment arm). A decision's entry lists the rows already counted
 * under it (the decision's own and its interactions', by a 48-bit hash of kind and id) and how many
 * conversions it counted: one row written per decision and batch rather than one per event, and
 * the conversion bound (an event token cannot count unlimited conversions) in the same row; the
 * conversions past it are refused, neither counted nor logged. A visitor's tally holds whether
 * they had a decision that day (1 or 0: all the group's visitors counter needs, so that their
 * later decisions write nothing), and their conversions and conversion value. An entry's version
 * grows by one with each change, and a write only succeeds on the version it was planned from
 * (worker/log/ledger.ts), so concurrent batches cannot both count the same event or visitor.
 *
 * Decisions that travel in an outbox message (worker/events/outbox.ts) are counted under their
 * message's entry instead, which lists the decisions of the message already counted: a message's
 * decisions cost one row, and a decision's own entry is first written when a client's event about
 * it is counted, whichever of the two the consumer sees first. Only the edge sends those messages,
 * each decision in one of them, so a decision is never counted under two entries.
 */
export type LedgerEntry = { version: number; decisions: number; conversions: number; value: number; events: string };
/** [key, version, decisions, conversions, value, events] */
export type LedgerWrite = [string, number, number, number, number, string];
export type AggregateRow = { siteId: string; day: string; metric: Metric; key: string; counters: Counters };

export type KeyedRow = {
  row: LogRow;
  /** The ledger key of the row's decision (or of its outbox message) on the row's day: its entry lists what was counted under it. */
  decisionKey: string;
  /** The row in its decision's entry: 12 hex digits of a hash of its kind and id. */
  eventHash: string;
  /** The ledger keys of the visitor's tallies in the row's groups (none without a visitor id). */
  tallies: { metric: "holdout" | "experiment"; key: string[]; tallyKey: string }[];
  /** For a conversion: how many conversions its decision may count. */
  bound: number | null;
};

const EPOCH_MS = Date.UTC(2020, 0, 1);
const DAY_MS = 24 * 60 * 60 * 1000;
/** Keys are the day since 2020-01-01 in the top 14 bits and a 49-bit SHA-256 prefix below (signed 64-bit, to 2064). */
const HASH_BITS = 49n;
const encoder = new TextEncoder();
const EVENT_HASH_BYTES = 6;

const dayNumber = (day: string) => BigInt(Math.round((Date.parse(`${day}T00:00:00Z`) - EPOCH_MS) / DAY_MS));

async function digestOf(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** The ledger key of `text` on `day`: a decimal string, since it does not fit a JavaScript number. */
export async function ledgerKey(day: string, text: string): Promise<string> {
  let hash = 0n;
  for (const byte of (await digestOf(text)).subarray(0, 7)) hash = (hash << 8n) | BigInt(byte);
  return ((dayNumber(day) << HASH_BITS) | (hash & ((1n << HASH_BITS) - 1n))).toString();
}

/** How a row appears in its decision's entry: a 48-bit hash as 12 hex digits (a decision holds a few rows, so a collision is about 1e-13 per decision). */
export async function eventHash(row: Pick<LogRow, "site_id" | "kind" | "id">): Promise<string> {
  const bytes = (await digestOf(eventText(row))).subarray(0, EVENT_HASH_BYTES);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The hashes a decision's entry lists, as a set. */
export function eventsOf(entry: Pick<LedgerEntry, "events">): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < entry.events.length; i += 2 * EVENT_HASH_BYTES) out.add(entry.events.slice(i, i + 2 * EVENT_HASH_BYTES));
  return out;
}

/** The ledger text of a decision: its entry's key is this text's, on the row's day. */
export const decisionText = (row: Pick<LogRow, "site_id" | "decision_id">) => `d\u0000${row.site_id}\u0000${row.decision_id}`;

/** The smallest key of `day`: entries below it belong to earlier days. */
export const firstKeyOf = (day: string) => (dayNumber(day) << HASH_BITS).toString();

/** The ledger text of an outbox message (`messageId`) that carried decisions of the row's site. */
const messageText = (row: Pick<LogRow, "site_id">, messageId: string) => `m\u0000${row.site_id}\u0000${messageId}`;

const eventText = (row: Pick<LogRow, "site_id" | "kind" | "id">) => `e\u0000${row.site_id}\u0000${row.kind}\u0000${row.id}`;

/** The conversion bound of a row (a conversion's decision's `maxConversions`), or undefined when none applies. */
export type ConversionBound = (row: LogRow) => number | undefined;

const boundOf = (row: LogRow, maxOf: ConversionBound): number | null =>
  (row.kind === "interaction" && row.event === "conversion" ? maxOf(row) : undefined) ?? null;

/** The outbox message a decision row came in (its id), or undefined for a row its decision's entry keys. */
export type MessageOf = (row: LogRow) => string | undefined;

function entryText(row: LogRow, messageOf: MessageOf): string {
  const messageId = row.kind === "decision" ? messageOf(row) : undefined;
  return messageId === undefined ? decisionText(row) : messageText(row, messageId);
}

export async function keyRows(
  rows: readonly LogRow[],
  maxOf: ConversionBound = () => undefined,
  messageOf: MessageOf = () => undefined,
): Promise<KeyedRow[]> {
  return Promise.all(
    rows.map(async (row) => ({
      row,
      decisionKey: await ledgerKey(row.day, entryText(row, messageOf)),
      eventHash: await eventHash(row),
      bound: boundOf(row, maxOf),
      tallies: row.visitor_id
        ? await Promise.all(
            groupsOf(row).map(async (g) => ({
              ...g,
              tallyKey: await ledgerKey(row.day, `t\u0000${row.site_id}\u0000${g.metric}\u0000${encodeKey(g.key)}\u0000${row.visitor_id}`),
            })),
          )
        : [],
    })),
  );
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

/** A decision's entry as the batch changes it: what it held, and the rows and conversions it will hold. */
type DecisionEntry = { before: LedgerEntry; events: Set<string>; added: string; conversions: number };

/**
 * Plans a batch against what the ledger is believed to hold (`known`; absent keys are believed
 * new). Rows already counted are left out; conversions past their decision's bound are refused;
 * every other row is counted once.
 */
export function planBatch(keyed: readonly KeyedRow[], known: ReadonlyMap<string, LedgerEntry>) {
  const aggregates = new Map<string, AggregateRow>();
  const add = (siteId: string, day: string, metric: Metric, key: string, counters: Partial<Counters>) => {
    const id = `${siteId}\u0000${day}\u0000${metric}\u0000${key}`;
    const row = aggregates.get(id) ?? { siteId, day, metric, key, counters: zeroCounters() };
    addCounters(row.counters, counters);
    aggregates.set(id, row);
  };
  const decisions = new Map<string, DecisionEntry>();
  const entryOf = (key: string) => {
    const before = known.get(key) ?? EMPTY;
    const entry = decisions.get(key) ?? { before, events: eventsOf(before), added: "", conversions: before.conversions };
    decisions.set(key, entry);
    return entry;
  };
  const tallies = new Map<string, Tally>();
  const counted: LogRow[] = [];
  const refused: LogRow[] = [];

  for (const { row, decisionKey, eventHash, tallies: groups, bound } of keyed) {
    const entry = entryOf(decisionKey);
    if (entry.events.has(eventHash)) continue;
    if (bound !== null) {
      if (entry.conversions >= bound) {
        refused.push(row);
        continue;
      }
      entry.conversions++;
    }
    entry.events.add(eventHash);
    entry.added += eventHash;
    counted.push(row);
    for (const c of contributionsOf(row)) add(row.site_id, row.day, c.metric, encodeKey(c.key), c.counters);
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
  const ledger: LedgerWrite[] = [];
  for (const [key, { before, added, conversions }] of decisions)
    if (added) ledger.push([key, before.version + 1, 0, conversions, 0, before.events + added]);
  for (const [tallyKey, tally] of tallies) {
    if (unchanged(tally)) continue;
    add(tally.siteId, tally.day, tally.metric, tally.key, visitorCounters(tally));
    const { decisions, conversions, value } = tally.after;
    ledger.push([tallyKey, tally.before.version + 1, decisions, conversions, value, ""]);
  }
  return { counted, refused, ledger, aggregates: [...aggregates.values()] };
}
export type BatchPlan = ReturnType<typeof planBatch>;
