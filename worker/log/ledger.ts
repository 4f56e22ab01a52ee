import { sql } from "drizzle-orm";
import type { Database } from "../store/db";
import { dailyAggregates, logLedger } from "../store/schema";
import type { LogRow } from "../wire/log";
import { appendStatement, learnAppended, rememberedBuckets } from "./buckets";
import { firstKeyOf, type KeyedRow, keyRows, type RowFacts } from "./keys";
import { counterNames } from "./metrics";
import { type AggregateRow, type BatchPlan, type LedgerEntry, type LedgerWrite, planBatch } from "./plan";
import { dayOf } from "./rows";

/**
 * The D1 side of a consumer batch: up to three statements in one transaction, each one upsert of
 * every key at once (the rows travel as one JSON parameter, expanded with `json_each`, since D1
 * binds at most 100 parameters):
 *
 * 1. the ledger entries (worker/log/plan.ts): one per decision or outbox message whose entry the
 *    batch adds to, one per visitor tally it changes. An entry is written only on the version it was
 *    planned from: otherwise its version becomes NULL, the NOT NULL constraint fails and the whole
 *    transaction rolls back. That happens when another batch changed the same entry or tally first;
 *    the batch is then planned again from the ledger as it is.
 * 2. the appends to the minute buckets (worker/log/keys.ts, buckets.ts), one per bucket: a bucket
 *    takes the batch's hashes unless it already lists one of them, in which case its events become
 *    NULL and the transaction rolls back the same way. Batches counting different events of the
 *    same minute (all of them, at any traffic) merge without conflict; only two that count the same
 *    event do not.
 * 3. the daily aggregates, each key's counters added in one statement.
 *
 * The isolate remembers the entries and buckets it wrote, so a batch usually plans right the first
 * time without reading the ledger; a wrong guess (a client's replay, a redelivered message, another
 * isolate's write) costs a failed transaction and a read, never a wrong count.
 */

/**
 * How many days back rows are counted into the aggregates, and the ledger keeps them (`LEDGER_DAYS`,
 * worker/lib/config.ts); older rows are only logged. Its default, 7 days: an event token lives 24
 * hours and a queue keeps an unconsumed message 4 days, so a row can arrive about 6 days after its
 * decision when the consumer was down for days.
 */
export type LedgerWindow = { now: number; days: number };
const MAX_ATTEMPTS = 4;
const REMEMBERED = 100_000;

const remembered = new Map<string, LedgerEntry>();

function remember(writes: readonly LedgerWrite[]) {
  for (const [key, version, decisions, conversions, value, events] of writes) {
    remembered.delete(key);
    remembered.set(key, { version, decisions, conversions, value, events });
  }
  for (const key of remembered.keys()) {
    if (remembered.size <= REMEMBERED) break;
    remembered.delete(key);
  }
}

const keysOf = (keyed: readonly KeyedRow[]) => [
  ...new Set(keyed.flatMap((k) => [k.decisionKey, ...(k.bucketKey === null ? [] : [k.bucketKey]), ...k.tallies.map((t) => t.tallyKey)])),
];

function fromMemory(keys: readonly string[]): Map<string, LedgerEntry> {
  return new Map([
    ...keys.flatMap((key) => (remembered.has(key) ? [[key, remembered.get(key) as LedgerEntry] as const] : [])),
    ...rememberedBuckets(keys),
  ]);
}

/** The ledger's entries for these keys, as they are now. */
export async function readLedger(db: Database, keys: readonly string[]): Promise<Map<string, LedgerEntry>> {
  const rows = await db.all<{ key: string } & LedgerEntry>(sql`
    SELECT CAST(${logLedger.key} AS TEXT) AS key, ${logLedger.version} AS version, ${logLedger.decisions} AS decisions,
           ${logLedger.conversions} AS conversions, ${logLedger.value} AS value, ${logLedger.events} AS events
    FROM ${logLedger} WHERE ${logLedger.key} IN (SELECT CAST(value AS INTEGER) FROM json_each(${JSON.stringify(keys)}))`);
  return new Map(rows.map(({ key, ...entry }) => [key, entry]));
}

const column = (i: number) => sql.raw(`json_extract(value, '$[${i}]')`);

function ledgerStatement(db: Database, writes: readonly LedgerWrite[]) {
  const excluded = (name: string) => sql.raw(`excluded.${name}`);
  return db
    .insert(logLedger)
    .select(
      sql`SELECT CAST(${column(0)} AS INTEGER), ${column(1)}, ${column(2)}, ${column(3)}, ${column(4)}, ${column(5)} FROM json_each(${JSON.stringify(writes)}) WHERE true`,
    )
    .onConflictDoUpdate({
      target: logLedger.key,
      set: {
        version: sql`CASE WHEN ${logLedger.version} + 1 = excluded.version THEN excluded.version END`,
        decisions: excluded("decisions"),
        conversions: excluded("conversions"),
        value: excluded("value"),
        events: excluded("events"),
      },
    });
}

/**
 * A histogram's bins after an upsert: the row's and the batch's counts added bin by bin (SQLite's
 * JSON functions, so that concurrent batches merge in D1 as the counters do).
 */
const mergedBins = sql`CASE WHEN excluded.bins IS NULL THEN ${dailyAggregates.bins} WHEN ${dailyAggregates.bins} IS NULL THEN excluded.bins ELSE (
  SELECT json_group_object(label, total) FROM (
    SELECT bin.label, sum(bin.n) AS total FROM (
      SELECT kept.key AS label, kept.value AS n FROM json_each(${dailyAggregates.bins}) AS kept
      UNION ALL SELECT added.key, added.value FROM json_each(excluded.bins) AS added
    ) AS bin GROUP BY bin.label
  )
) END`;

/** Column by column in the table's order (drizzle inserts a SELECT into every column): the site, metric, day, key, the counters, the bins. */
function aggregatesStatement(db: Database, rows: readonly AggregateRow[]) {
  const values = rows.map((r) => [r.siteId, r.metric, r.day, r.key, ...counterNames.map((name) => r.counters[name]), r.bins]);
  const picks = sql.raw(Array.from({ length: 5 + counterNames.length }, (_, i) => `json_extract(value, '$[${i}]')`).join(", "));
  const set = {
    ...Object.fromEntries(
      counterNames.map((name) => [name, sql`${dailyAggregates[name]} + ${sql.raw(`excluded.${dailyAggregates[name].name}`)}`]),
    ),
    bins: mergedBins,
  };
  return db
    .insert(dailyAggregates)
    .select(sql`SELECT ${picks} FROM json_each(${JSON.stringify(values)}) WHERE true`)
    .onConflictDoUpdate({ target: [dailyAggregates.siteId, dailyAggregates.metric, dailyAggregates.day, dailyAggregates.key], set });
}

/** A write that lost a race for a ledger entry (or planned from a stale guess): plan again. */
function isLedgerConflict(err: unknown): boolean {
  for (let e: unknown = err; e; e = (e as { cause?: unknown }).cause) {
    if (/constraint failed: log_ledger/i.test(String((e as { message?: unknown }).message ?? e))) return true;
  }
  return false;
}

/** The batch's statements in one transaction; returns the buckets' versions after their appends. */
async function commit(db: Database, plan: BatchPlan): Promise<{ key: string; version: number }[]> {
  const entries = plan.ledger.length ? [ledgerStatement(db, plan.ledger)] : [];
  const appends = plan.appends.length ? [appendStatement(db, plan.appends)] : [];
  const [first, ...rest] = [...entries, ...appends, ...(plan.aggregates.length ? [aggregatesStatement(db, plan.aggregates)] : [])];
  if (!first) return [];
  const results = await db.batch([first, ...rest]);
  return appends.length ? (results[entries.length] as { key: string; version: number }[]) : [];
}

/** The first day of the ledger's window. */
const oldestDay = ({ now, days }: LedgerWindow) => dayOf(now - (days - 1) * 24 * 60 * 60 * 1000);

/**
 * `known` with the buckets the isolate has not seen read from D1 (those that exist): a plan made
 * without a bucket would send D1 a search of all of it per hash (worker/log/buckets.ts), where one
 * read lets the append be written as it is. A bucket read here is usually a minute's first batch's.
 */
async function withUnseenBuckets(db: Database, keyed: readonly KeyedRow[], known: Map<string, LedgerEntry>) {
  const unseen = [...new Set(keyed.flatMap((k) => (k.bucketKey === null || known.has(k.bucketKey) ? [] : [k.bucketKey])))];
  if (unseen.length) for (const [key, entry] of await readLedger(db, unseen)) known.set(key, entry);
  return known;
}

/** The rows the aggregates may count: from the window's days (the ledger's memory), and not from the future. */
export function countable(rows: readonly LogRow[], window: LedgerWindow): LogRow[] {
  const { now } = window;
  const oldest = oldestDay(window);
  const newest = dayOf(now + 24 * 60 * 60 * 1000);
  return rows.filter((row) => row.day >= oldest && row.day <= newest);
}

/**
 * Counts a batch's rows into the daily aggregates exactly once; returns the rows it counted and the
 * conversions it refused (past their decision's bound: `maxOf`).
 */
export async function writeAggregates(
  db: Database,
  rows: readonly LogRow[],
  window: LedgerWindow,
  facts?: RowFacts,
): Promise<Pick<BatchPlan, "counted" | "refused">> {
  const keyed = await keyRows(countable(rows, window), facts);
  if (keyed.length === 0) return { counted: [], refused: [] };
  const keys = keysOf(keyed);
  let known = await withUnseenBuckets(db, keyed, fromMemory(keys));
  for (let attempt = 1; ; attempt++) {
    const plan = planBatch(keyed, known);
    try {
      const versions = await commit(db, plan);
      remember(plan.ledger);
      await learnAppended(db, plan.appends, versions);
      return { counted: plan.counted, refused: plan.refused };
    } catch (err) {
      if (!isLedgerConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      known = await readLedger(db, keys);
    }
  }
}

/** Forgets ledger entries of days before the window (the scheduled job). */
export async function pruneLedger(db: Database, window: LedgerWindow): Promise<void> {
  await db.run(sql`DELETE FROM ${logLedger} WHERE ${logLedger.key} < CAST(${firstKeyOf(oldestDay(window))} AS INTEGER)`);
}
