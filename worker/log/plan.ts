import type { LogRow } from "../wire/log";
import { contributionsOf, groupsOf, outcomeOf } from "./contributions";
import { addCounters, type Counters, encodeKey, type Metric, zeroCounters } from "./metrics";

/**
 * One consumer batch as the writes it makes: the aggregates summed per key in memory (one upsert
 * per key), and the ledger entries that make those writes exact when the queue delivers a message
 * twice or a client sends an event twice.
 *
 * The ledger (D1 `log_ledger`) holds, per UTC day, an entry for every row already counted (by kind
 * and id), and a tally per identified visitor and group (holdout or experiment arm): the visitor's
 * decisions, conversions and conversion value that day. A tally's version grows by one with each
 * change, and a write only succeeds on the version it was planned from (worker/log/write.ts), so
 * concurrent batches cannot both count the same visitor or event. A decision's conversions have a
 * tally of their own, so that no more than the site's bound per decision are counted (an event token
 * cannot count unlimited conversions); the ones past it are refused, and neither counted nor logged.
 */
export type LedgerEntry = { version: number; decisions: number; conversions: number; value: number };
/** [key, version, decisions, conversions, value] */
export type LedgerWrite = [string, number, number, number, number];
export type AggregateRow = { siteId: string; day: string; metric: Metric; key: string; counters: Counters };

export type KeyedRow = {
  row: LogRow;
  /** The ledger key of the row itself (its kind and id, on its day). */
  eventKey: string;
  /** The ledger keys of the visitor's tallies in the row's groups (none without a visitor id). */
  tallies: { metric: "holdout" | "experiment"; key: string[]; tallyKey: string }[];
  /** For a conversion: its decision's conversion tally, and how many conversions the decision may count. */
  bound: { key: string; max: number } | null;
};

const EPOCH_MS = Date.UTC(2020, 0, 1);
const DAY_MS = 24 * 60 * 60 * 1000;
/** Keys are the day since 2020-01-01 in the top 14 bits and a 49-bit SHA-256 prefix below (signed 64-bit, to 2064). */
const HASH_BITS = 49n;
const encoder = new TextEncoder();

const dayNumber = (day: string) => BigInt(Math.round((Date.parse(`${day}T00:00:00Z`) - EPOCH_MS) / DAY_MS));

/** The ledger key of `text` on `day`: a decimal string, since it does not fit a JavaScript number. */
export async function ledgerKey(day: string, text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  let hash = 0n;
  for (const byte of digest.subarray(0, 7)) hash = (hash << 8n) | BigInt(byte);
  return ((dayNumber(day) << HASH_BITS) | (hash & ((1n << HASH_BITS) - 1n))).toString();
}

/** The smallest key of `day`: entries below it belong to earlier days. */
export const firstKeyOf = (day: string) => (dayNumber(day) << HASH_BITS).toString();

export const eventText = (row: Pick<LogRow, "site_id" | "kind" | "id">) => `e\u0000${row.site_id}\u0000${row.kind}\u0000${row.id}`;

/** The conversion bound of a row (a conversion's decision's `maxConversions`), or undefined when none applies. */
export type ConversionBound = (row: LogRow) => number | undefined;

async function boundOf(row: LogRow, maxOf: ConversionBound): Promise<KeyedRow["bound"]> {
  const max = row.kind === "interaction" && row.event === "conversion" ? maxOf(row) : undefined;
  if (max === undefined) return null;
  return { key: await ledgerKey(row.day, `c\u0000${row.site_id}\u0000${row.decision_id}`), max };
}

export async function keyRows(rows: readonly LogRow[], maxOf: ConversionBound = () => undefined): Promise<KeyedRow[]> {
  return Promise.all(
    rows.map(async (row) => ({
      row,
      eventKey: await ledgerKey(row.day, eventText(row)),
      bound: await boundOf(row, maxOf),
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

const EMPTY: LedgerEntry = { version: 0, decisions: 0, conversions: 0, value: 0 };

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
  const ledger = new Map<string, LedgerWrite>();
  const tallies = new Map<string, Tally>();
  const counted: LogRow[] = [];
  const refused: LogRow[] = [];
  const conversionsOf = new Map<string, { before: LedgerEntry; count: number }>();

  for (const { row, eventKey, tallies: groups, bound } of keyed) {
    if (known.has(eventKey) || ledger.has(eventKey)) continue;
    if (bound) {
      const before = known.get(bound.key) ?? EMPTY;
      const tally = conversionsOf.get(bound.key) ?? { before, count: before.conversions };
      conversionsOf.set(bound.key, tally);
      if (tally.count >= bound.max) {
        refused.push(row);
        continue;
      }
      tally.count++;
    }
    ledger.set(eventKey, [eventKey, 1, 0, 0, 0]);
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
      if (row.kind === "decision") tally.after.decisions++;
      else {
        tally.after.conversions += conversions;
        tally.after.value += value;
      }
      tallies.set(group.tallyKey, tally);
    }
  }
  for (const [tallyKey, tally] of tallies) {
    add(tally.siteId, tally.day, tally.metric, tally.key, visitorCounters(tally));
    const { decisions, conversions, value } = tally.after;
    ledger.set(tallyKey, [tallyKey, tally.before.version + 1, decisions, conversions, value]);
  }
  for (const [key, { before, count }] of conversionsOf)
    if (count !== before.conversions) ledger.set(key, [key, before.version + 1, 0, count, 0]);
  return { counted, refused, ledger: [...ledger.values()], aggregates: [...aggregates.values()] };
}
export type BatchPlan = ReturnType<typeof planBatch>;
