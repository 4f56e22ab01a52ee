import type { MessageOf } from "../log/keys";
import { type LedgerWindow, writeAggregates } from "../log/ledger";
import { distinctRows, toLogRow } from "../log/rows";
import type { LogSink } from "../log/sinks";
import { readPolicy } from "../site/policy";
import type { Database } from "../store/db";
import type { DecisionEvent, InteractionEvent } from "../wire/events";
import type { LogRow } from "../wire/log";

/**
 * The consumer's write step: the batch's decisions and events are counted into the daily
 * aggregates in D1, each row once however often the queue or a client delivers it
 * (worker/log/ledger.ts), then written to the log as rows of its one schema (R2 batch files or the
 * Pipelines stream). A message is acknowledged only when both are done; one written twice is read
 * once (readers keep the first row of each kind and id), and counted once. A conversion past its
 * decision's bound (the site's `events.maxConversionsPerDecision`) is neither counted nor logged.
 */
export type LogTarget = { db: Database; sink: LogSink; ledgerDays: number };
type Loggable = DecisionEvent | InteractionEvent;

export const rowsOf = (list: readonly Loggable[]): LogRow[] => distinctRows(list.map(toLogRow));

/** Into the log: one write of the whole batch (a file per partition, or one send to the stream). */
export async function logEvents(sink: LogSink, list: readonly Loggable[], batchId: string): Promise<void> {
  const rows = rowsOf(list);
  if (rows.length) await sink.write(rows, batchId);
}

const DEFAULT_MAX_CONVERSIONS = readPolicy({}).events.maxConversionsPerDecision;

/** Each conversion's bound, by its event id. */
function conversionBounds(list: readonly Loggable[]): Map<string, number> {
  return new Map(
    list.flatMap((e) =>
      e.type === "interaction" && e.kind === "conversion" ? [[e.eventId, e.maxConversions ?? DEFAULT_MAX_CONVERSIONS] as const] : [],
    ),
  );
}

/** When each interaction's decision was made, by its event id (the first event of an id, as its row is), for those whose token said: all the edge admits. */
function decisionTimes(list: readonly Loggable[]): Map<string, number> {
  const times = new Map<string, number>();
  for (const e of list)
    if (e.type === "interaction" && e.decidedAt !== undefined && !times.has(e.eventId)) times.set(e.eventId, e.decidedAt);
  return times;
}

/**
 * Into the daily aggregates, each row once (one D1 transaction); returns the ids of the conversions
 * refused. `messageOf` names the outbox message a decision came in, whose ledger entry counts it.
 */
export async function countEvents(
  db: Database,
  list: readonly Loggable[],
  window: LedgerWindow,
  messageOf?: MessageOf,
): Promise<Set<string>> {
  const bounds = conversionBounds(list);
  const decidedAt = decisionTimes(list);
  const { refused } = await writeAggregates(db, rowsOf(list), window, {
    boundOf: (row) => bounds.get(row.id),
    decidedAtOf: (row) => decidedAt.get(row.id),
    messageOf,
  });
  return new Set(refused.map((row) => row.id));
}

/** Whether an event is one that its batch's count refused. */
export const isRefused = (refused: ReadonlySet<string>) => (e: Loggable) =>
  e.type === "interaction" && e.kind === "conversion" && refused.has(e.eventId);

export async function writeEvents(target: LogTarget, list: readonly Loggable[], batchId: string, now = Date.now()): Promise<void> {
  const refused = await countEvents(target.db, list, { now, days: target.ledgerDays });
  await logEvents(
    target.sink,
    list.filter((e) => !isRefused(refused)(e)),
    batchId,
  );
}
