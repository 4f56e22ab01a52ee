import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../store/db";
import { decisions, events, featureDrift, rollups, variantRollups } from "../store/schema";
import type { DecisionEvent, InteractionEvent } from "../wire/events";

/**
 * Idempotent writes to D1. The raw event insert is ignored when its `event_id` exists, and the
 * roll-up increment that follows it in the same transaction only applies when that insert
 * changed a row (`changes() = 1`), so a redelivered event counts once.
 */
const dayOf = (ts: number) => new Date(ts).toISOString().slice(0, 10);

function decisionStatements(db: Database, e: DecisionEvent): BatchItem<"sqlite">[] {
  const drift = e.drift && e.modelVersion ? [driftStatement(db, e.siteId, e.modelVersion, dayOf(e.ts), e.drift)] : [];
  return [
    db
      .insert(decisions)
      .values({
        id: e.decisionId,
        siteId: e.siteId,
        visitorId: e.visitorId,
        ts: new Date(e.ts),
        mode: e.mode,
        modelVersion: e.modelVersion,
        context: e.context,
        slots: e.slots,
        arm: e.arm ?? null,
        shadow: e.shadow?.length ? e.shadow : null,
        holdout: e.holdout ?? false,
        assignments: e.assignments?.length ? e.assignments : null,
        segments: e.segments ?? null,
        modeReason: e.modeReason ?? null,
      })
      .onConflictDoNothing(),
    ...drift,
  ];
}

/** One statement for all features' bins (json_each), counted only when the decision was new. */
function driftStatement(db: Database, siteId: string, modelVersion: string, day: string, bins: Record<string, string>) {
  return db
    .insert(featureDrift)
    .select(sql`SELECT ${siteId}, ${modelVersion}, ${day}, key, value, 1 FROM json_each(${JSON.stringify(bins)}) WHERE changes() = 1`)
    .onConflictDoUpdate({
      target: [featureDrift.siteId, featureDrift.modelVersion, featureDrift.day, featureDrift.feature, featureDrift.bin],
      set: { count: sql`${featureDrift.count} + excluded.count` },
    });
}

function interactionStatements(db: Database, e: InteractionEvent): BatchItem<"sqlite">[] {
  const day = dayOf(e.ts);
  const n = (kind: InteractionEvent["kind"]) => (e.kind === kind ? 1 : 0);
  const value = e.kind === "conversion" ? (e.value ?? 0) : 0;
  return [
    db
      .insert(events)
      .values({
        eventId: e.eventId,
        siteId: e.siteId,
        decisionId: e.decisionId,
        visitorId: e.visitorId,
        type: e.kind,
        slot: e.slot,
        contentId: e.contentId,
        policy: e.policy,
        modelVersion: e.modelVersion,
        ts: new Date(e.ts),
        day,
        value: e.value ?? null,
        currency: e.currency ?? null,
        variantId: e.variantId ?? null,
        variantReason: e.variantReason ?? null,
      })
      .onConflictDoNothing(),
    db
      .insert(rollups)
      .select(
        sql`SELECT ${e.siteId}, ${day}, ${e.slot}, ${e.contentId}, ${e.policy}, ${e.modelVersion},
                   ${n("impression")}, ${n("click")}, ${n("conversion")}, ${n("dismiss")}, ${value}
            WHERE changes() = 1`,
      )
      .onConflictDoUpdate({
        target: [rollups.siteId, rollups.day, rollups.slot, rollups.contentId, rollups.policy, rollups.modelVersion],
        set: {
          impressions: sql`${rollups.impressions} + excluded.impressions`,
          clicks: sql`${rollups.clicks} + excluded.clicks`,
          conversions: sql`${rollups.conversions} + excluded.conversions`,
          dismissals: sql`${rollups.dismissals} + excluded.dismissals`,
          value: sql`${rollups.value} + excluded.value`,
        },
      }),
    // Chained on the roll-up's own change, which happened only if the event was new.
    ...(e.variantId
      ? [
          db
            .insert(variantRollups)
            .select(
              sql`SELECT ${e.siteId}, ${e.contentId}, ${e.variantId}, ${day}, ${n("impression")}, ${n("click")}, ${n("conversion")},
                         ${e.kind === "impression" && e.variantReason === "cold-start" ? 1 : 0}
                  WHERE changes() = 1`,
            )
            .onConflictDoUpdate({
              target: [variantRollups.siteId, variantRollups.contentId, variantRollups.variantId, variantRollups.day],
              set: {
                impressions: sql`${variantRollups.impressions} + excluded.impressions`,
                clicks: sql`${variantRollups.clicks} + excluded.clicks`,
                conversions: sql`${variantRollups.conversions} + excluded.conversions`,
                coldStartImpressions: sql`${variantRollups.coldStartImpressions} + excluded.cold_start_impressions`,
              },
            }),
        ]
      : []),
  ];
}

export function statementsFor(db: Database, e: DecisionEvent | InteractionEvent): BatchItem<"sqlite">[] {
  return e.type === "decision" ? decisionStatements(db, e) : interactionStatements(db, e);
}

/** Writes many events in one transaction. */
export async function writeEvents(db: Database, list: readonly (DecisionEvent | InteractionEvent)[]): Promise<void> {
  const [first, ...rest] = list.flatMap((e) => statementsFor(db, e));
  if (first) await db.batch([first, ...rest]);
}
