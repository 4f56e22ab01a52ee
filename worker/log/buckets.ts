import { sql } from "drizzle-orm";
import type { Database } from "../store/db";
import { logLedger } from "../store/schema";
import type { BucketAppend, LedgerEntry } from "./plan";

/**
 * The minute buckets' side of the ledger (worker/log/keys.ts): how a batch appends to them, and
 * what the isolate remembers of them so that D1 rarely has to search one.
 *
 * A bucket only grows, by appends of ",h1,h2,". An append is checked against what its plan did not
 * know: when the bucket is still at the version planned from, the plan saw every hash it lists and
 * the append is written as it is; otherwise only what was appended after the events the plan knew
 * (a prefix of the bucket's) is searched for the batch's hashes, and a hash found there turns the
 * events NULL, which fails the NOT NULL constraint and rolls the batch back to be planned again.
 * So D1's work per append is a copy of the row rather than a search of it per hash (searching a
 * bucket of 100,000 rows 1,000 times takes SQLite about 3 s), as long as the isolate knows its
 * buckets: it reads a bucket it has not seen before planning (worker/log/ledger.ts), remembers the
 * ones it writes, and after an append that another batch's came before, reads what it missed. Only
 * an append racing another's to the same bucket searches, and only what was appended since; that
 * search still walks the row to where the unknown part starts, once per hash (0.6 s per 1,000
 * hashes at 900 KB, a minute's bucket at 50 million page views a day), which is what a heavily
 * contended bucket costs.
 */

/** Characters of buckets remembered per isolate (a byte each), least recently used out. */
const REMEMBERED_CHARS = 16 * 1024 * 1024;
const remembered = new Map<string, { version: number; events: string }>();
let rememberedChars = 0;

function forget(key: string) {
  const known = remembered.get(key);
  if (!known) return;
  remembered.delete(key);
  rememberedChars -= known.events.length;
}

function remember(key: string, version: number, events: string) {
  forget(key);
  remembered.set(key, { version, events });
  rememberedChars += events.length;
  for (const [old, { events: oldEvents }] of remembered) {
    if (rememberedChars <= REMEMBERED_CHARS) break;
    remembered.delete(old);
    rememberedChars -= oldEvents.length;
  }
}

/** The buckets among `keys` that the isolate knows, as ledger entries. */
export function rememberedBuckets(keys: readonly string[]): [string, LedgerEntry][] {
  return keys.flatMap((key) => {
    const known = remembered.get(key);
    return known ? [[key, { version: known.version, decisions: 0, conversions: 0, value: 0, events: known.events }]] : [];
  });
}

/** `$[i]` of a json_each row aliased `alias`. */
const at = (alias: string, i: number) => sql.raw(`json_extract(${alias}.value, '$[${i}]')`);

/**
 * The appends as one upsert, returning each bucket's version after it. A row of `planned` is
 * [key, ",h1,h2,", the version planned from, where the unknown part starts (1-based: the last
 * comma of the known events)].
 */
export function appendStatement(db: Database, appends: readonly BucketAppend[]) {
  const planned = JSON.stringify(appends.map((a) => [a.key, `,${a.hashes.join(",")},`, a.version, Math.max(1, a.known.length)]));
  const listed = JSON.stringify(appends.flatMap((a) => a.hashes.map((hash) => [a.key, `,${hash},`])));
  const plannedFor = (i: number) =>
    sql`(SELECT ${at("p", i)} FROM json_each(${planned}) AS p WHERE CAST(${at("p", 0)} AS INTEGER) = ${logLedger.key})`;
  const listedInUnknownPart = sql`EXISTS (SELECT 1 FROM json_each(${listed}) AS l
    WHERE CAST(${at("l", 0)} AS INTEGER) = ${logLedger.key} AND instr(substr(${logLedger.events}, ${plannedFor(3)}), ${at("l", 1)}) > 0)`;
  return db
    .insert(logLedger)
    .select(sql`SELECT CAST(${at("n", 0)} AS INTEGER), 1, 0, 0, 0, ${at("n", 1)} FROM json_each(${planned}) AS n WHERE true`)
    .onConflictDoUpdate({
      target: logLedger.key,
      set: {
        version: sql`${logLedger.version} + 1`,
        events: sql`CASE WHEN ${logLedger.version} = ${plannedFor(2)} OR NOT ${listedInUnknownPart}
          THEN ${logLedger.events} || substr(excluded.events, 2) END`,
      },
    })
    .returning({ key: sql<string>`CAST(${logLedger.key} AS TEXT)`, version: logLedger.version });
}

/** The events of the buckets after appends that others came before, from where the isolate's knowledge ends. */
async function readMissed(db: Database, stale: readonly BucketAppend[]) {
  const from = JSON.stringify(stale.map((a) => [a.key, a.known.length + 1]));
  return db.all<{ key: string; version: number; missed: string }>(sql`
    SELECT CAST(${logLedger.key} AS TEXT) AS key, ${logLedger.version} AS version,
           substr(${logLedger.events}, ${at("f", 1)}) AS missed
    FROM json_each(${from}) AS f JOIN ${logLedger} ON ${logLedger.key} = CAST(${at("f", 0)} AS INTEGER)`);
}

const appended = (a: BucketAppend) => `${a.known || ","}${a.hashes.join(",")},`;

/**
 * After a committed batch: a bucket whose version grew by one (the append came right after what
 * was planned from) is known whole; one that others had appended to is read from where the
 * isolate's knowledge ended, so that the next batch's plan knows it whole again.
 */
export async function learnAppended(db: Database, appends: readonly BucketAppend[], versions: readonly { key: string; version: number }[]) {
  const versionOf = new Map(versions.map((v) => [v.key, v.version]));
  const stale: BucketAppend[] = [];
  for (const a of appends) {
    if (versionOf.get(a.key) === a.version + 1) remember(a.key, a.version + 1, appended(a));
    else stale.push(a);
  }
  if (!stale.length) return;
  const byKey = new Map(stale.map((a) => [a.key, a]));
  try {
    for (const { key, version, missed } of await readMissed(db, stale)) remember(key, version, `${byKey.get(key)?.known ?? ""}${missed}`);
  } catch {
    // The batch is committed whatever this read does: the next plan of these buckets searches them.
    for (const a of stale) forget(a.key);
  }
}
