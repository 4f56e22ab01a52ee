import type { LogRow } from "../wire/log";
import { groupsOf } from "./contributions";
import { encodeKey } from "./metrics";

/**
 * Where the ledger (worker/log/plan.ts) marks each row of a batch as counted, as keys of D1's
 * `log_ledger`: a day in the top bits (so that the scheduled job forgets whole days) and a hash of
 * what the entry is about below.
 *
 * - An interaction that knows when its decision was made (every event the edge admits: its token
 *   carries the time) is listed in its **minute's bucket**: the entry of its site and the minute of
 *   its decision, which lists every interaction counted for the decisions of that minute. A page
 *   view's events arrive within seconds or minutes of its decision, so a consumer batch touches a
 *   bucket or two instead of an entry per decision: D1 is billed by the row written, whatever its
 *   size. A bucket only grows by appends that fail when one of their rows is already listed
 *   (worker/log/buckets.ts), so concurrent batches merge instead of racing for it.
 * - A decision is listed in its decision's entry, or, when it came in an outbox message
 *   (worker/events/outbox.ts), in the message's entry, which lists the message's decisions.
 * - An interaction without its decision's time (a message from before the edge recorded it) is
 *   listed in its decision's entry, as everything was before the buckets.
 *
 * A conversion's decision's entry also counts the decision's conversions against their bound,
 * wherever the conversion is listed.
 */
export type KeyedRow = {
  row: LogRow;
  /** The ledger key of the row's decision (or of its outbox message) on the row's day: its entry counts the decision's conversions. */
  decisionKey: string;
  /** The ledger key of the minute bucket that lists the row, or null when its decision's entry lists it. */
  bucketKey: string | null;
  /** The row as its listing holds it: 12 hex digits in an entry, 8 base64url characters in a bucket (48 bits of a hash of its kind and id). */
  eventHash: string;
  /** The ledger keys of the visitor's tallies in the row's groups (none without a visitor id). */
  tallies: { metric: "holdout" | "experiment"; key: string[]; tallyKey: string }[];
  /** For a conversion: how many conversions its decision may count. */
  bound: number | null;
};

const EPOCH_MS = Date.UTC(2020, 0, 1);
const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;
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

/** The smallest key of `day`: entries below it belong to earlier days. */
export const firstKeyOf = (day: string) => (dayNumber(day) << HASH_BITS).toString();

type Listed = Pick<LogRow, "site_id" | "kind" | "id">;

/** The 48 bits a listing holds of a row: a SHA-256 prefix of its site, kind and id. */
const listedBits = async (row: Listed) =>
  (await digestOf(`e\u0000${row.site_id}\u0000${row.kind}\u0000${row.id}`)).subarray(0, EVENT_HASH_BYTES);

/** How a decision's entry lists a row: 12 hex digits (a decision holds a few rows, so a collision is about 1e-13 per decision). */
export async function eventHash(row: Listed): Promise<string> {
  return Array.from(await listedBits(row), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * How a minute's bucket lists a row: the same 48 bits in base64url (8 characters; a comma between
 * them, which base64url never holds). A bucket of n rows holds a colliding pair with a chance of
 * about n² / 2⁴⁹: 2e-5 for a minute of 100,000 interactions (50 million page views a day), so one
 * interaction in several billion goes uncounted.
 */
export async function bucketHash(row: Listed): Promise<string> {
  return btoa(String.fromCharCode(...(await listedBits(row))))
    .replaceAll("+", "-")
    .replaceAll("/", "_");
}

/** The ledger text of a decision: its entry's key is this text's, on the row's day. */
export const decisionText = (row: Pick<LogRow, "site_id" | "decision_id">) => `d\u0000${row.site_id}\u0000${row.decision_id}`;

/** The ledger text of the bucket of a site's decisions made in the minute of `decidedAt`. */
export const bucketText = (row: Pick<LogRow, "site_id">, decidedAt: number) =>
  `b\u0000${row.site_id}\u0000${Math.floor(decidedAt / MINUTE_MS)}`;

/** The ledger text of an outbox message (`messageId`) that carried decisions of the row's site. */
const messageText = (row: Pick<LogRow, "site_id">, messageId: string) => `m\u0000${row.site_id}\u0000${messageId}`;

/** What the rows' events know beyond the rows, by function of the row. */
export type RowFacts = {
  /** A conversion's bound (its decision's `maxConversions`), or undefined when none applies. */
  boundOf?: (row: LogRow) => number | undefined;
  /** The outbox message a decision row came in (its id), or undefined for a row its decision's entry keys. */
  messageOf?: (row: LogRow) => string | undefined;
  /** When an interaction's decision was made (from its event token), or undefined when its event does not say. */
  decidedAtOf?: (row: LogRow) => number | undefined;
};
export type MessageOf = NonNullable<RowFacts["messageOf"]>;

const boundOf = (row: LogRow, facts: RowFacts): number | null =>
  (row.kind === "interaction" && row.event === "conversion" ? facts.boundOf?.(row) : undefined) ?? null;

function entryText(row: LogRow, facts: RowFacts): string {
  const messageId = row.kind === "decision" ? facts.messageOf?.(row) : undefined;
  return messageId === undefined ? decisionText(row) : messageText(row, messageId);
}

/** The minute of an interaction's decision, when its event says and it falls on the row's day (a row is dated by its decision). */
function decidedAtOf(row: LogRow, facts: RowFacts): number | undefined {
  const at = row.kind === "interaction" ? facts.decidedAtOf?.(row) : undefined;
  return at !== undefined && new Date(at).toISOString().slice(0, 10) === row.day ? at : undefined;
}

async function talliesOf(row: LogRow): Promise<KeyedRow["tallies"]> {
  if (!row.visitor_id) return [];
  return Promise.all(
    groupsOf(row).map(async (g) => ({
      ...g,
      tallyKey: await ledgerKey(row.day, `t\u0000${row.site_id}\u0000${g.metric}\u0000${encodeKey(g.key)}\u0000${row.visitor_id}`),
    })),
  );
}

async function keyRow(row: LogRow, facts: RowFacts): Promise<KeyedRow> {
  const decidedAt = decidedAtOf(row, facts);
  return {
    row,
    decisionKey: await ledgerKey(row.day, entryText(row, facts)),
    bucketKey: decidedAt === undefined ? null : await ledgerKey(row.day, bucketText(row, decidedAt)),
    eventHash: decidedAt === undefined ? await eventHash(row) : await bucketHash(row),
    bound: boundOf(row, facts),
    tallies: await talliesOf(row),
  };
}

export const keyRows = (rows: readonly LogRow[], facts: RowFacts = {}): Promise<KeyedRow[]> =>
  Promise.all(rows.map((row) => keyRow(row, facts)));
