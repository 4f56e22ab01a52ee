import type { DecisionEvent, InteractionEvent } from "../wire/events";
import { LOG_SCHEMA_VERSION, type LogRow } from "../wire/log";

/** The UTC day an event counts for: its partition in the log and its day in the aggregates. */
export const dayOf = (ts: number) => new Date(ts).toISOString().slice(0, 10);

const NO_DECISION_FIELDS = {
  mode: null,
  mode_reason: null,
  arm: null,
  context: null,
  slots: null,
  shadow: null,
  drift: null,
} as const;

const NO_INTERACTION_FIELDS = {
  event: null,
  slot: null,
  content_id: null,
  policy: null,
  value: null,
  currency: null,
  variant_id: null,
  variant_reason: null,
} as const;

/** What a decision's row and its events' rows have in common: who, when, which model and which groups. */
function sharedFields(
  e: DecisionEvent | InteractionEvent,
): Pick<
  LogRow,
  "v" | "site_id" | "ts" | "decision_id" | "visitor_id" | "model_version" | "channel" | "holdout" | "assignments" | "segments"
> {
  return {
    v: LOG_SCHEMA_VERSION,
    site_id: e.siteId,
    ts: e.ts,
    decision_id: e.decisionId,
    visitor_id: e.visitorId,
    model_version: e.modelVersion,
    channel: e.channel ?? null,
    holdout: e.holdout ?? false,
    assignments: e.assignments?.length ? e.assignments : null,
    segments: e.segments ?? null,
  };
}

function decisionRow(e: DecisionEvent): LogRow {
  return {
    kind: "decision",
    id: e.decisionId,
    day: dayOf(e.ts),
    ...sharedFields(e),
    ...NO_INTERACTION_FIELDS,
    mode: e.mode,
    mode_reason: e.modeReason ?? null,
    arm: e.arm ?? null,
    context: e.context,
    slots: e.slots,
    shadow: e.shadow?.length ? e.shadow : null,
    drift: e.drift ?? null,
  };
}

function interactionRow(e: InteractionEvent): LogRow {
  return {
    kind: "interaction",
    id: e.eventId,
    // Dated by its decision, never by the client's clock (worker/events/admit.ts).
    day: dayOf(e.decidedAt ?? e.ts),
    ...sharedFields(e),
    ...NO_DECISION_FIELDS,
    event: e.kind,
    slot: e.slot,
    content_id: e.contentId,
    policy: e.policy,
    value: e.value ?? null,
    currency: e.currency ?? null,
    variant_id: e.variantId ?? null,
    variant_reason: e.variantReason ?? null,
  };
}

/** A logged decision or interaction as a row of the log's one schema. */
export const toLogRow = (e: DecisionEvent | InteractionEvent): LogRow => (e.type === "decision" ? decisionRow(e) : interactionRow(e));

/** The rows of a batch without repeats: the first of each (kind, id) is kept, as every reader keeps it. */
export function distinctRows(rows: readonly LogRow[]): LogRow[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const key = `${row.kind}\u0000${row.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
