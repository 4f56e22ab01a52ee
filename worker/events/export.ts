import { z } from "zod";
import { decidedItemSchema } from "../wire/decide";
import type { DecisionEvent } from "../wire/events";

/**
 * The logged-bandit training format: one NDJSON line per shown item of a logged decision, with
 * the context the model saw, the probability the item was chosen with, and its outcome. Written by
 * `npm run export-events`; the training script reads the same schema.
 */
export const trainingExampleSchema = z.object({
  decisionId: z.string(),
  ts: z.number().int(),
  siteId: z.string(),
  /** Pseudonymous; present only for visitors with measurement consent. */
  visitorId: z.string().nullable(),
  mode: z.string(),
  modelVersion: z.string().nullable(),
  policy: z.string(),
  slot: z.string(),
  contentId: z.string(),
  /** 1-based position in the slot. */
  position: z.number().int().min(1),
  score: z.number().nullable(),
  propensity: z.number().min(0).max(1),
  context: z.record(z.string(), z.unknown()),
  impression: z.union([z.literal(0), z.literal(1)]),
  click: z.union([z.literal(0), z.literal(1)]),
  conversion: z.union([z.literal(0), z.literal(1)]),
  value: z.number(),
  /** The content variant shown, with the probability it was drawn with for its item. */
  variant: decidedItemSchema.shape.variant,
});
export type TrainingExample = z.infer<typeof trainingExampleSchema>;

export type LoggedDecision = Pick<DecisionEvent, "decisionId" | "siteId" | "visitorId" | "mode" | "modelVersion" | "context" | "slots"> & {
  ts: number;
};
export type LoggedEvent = { decisionId: string; slot: string; contentId: string; type: string; value: number | null };

/** Joins logged decisions with their events: every shown item becomes one example. */
export function toTrainingExamples(decisions: readonly LoggedDecision[], events: readonly LoggedEvent[]): TrainingExample[] {
  const outcomes = new Map<string, { impression: 0 | 1; click: 0 | 1; conversion: 0 | 1; value: number }>();
  for (const e of events) {
    const key = `${e.decisionId}\u0000${e.slot}\u0000${e.contentId}`;
    const o = outcomes.get(key) ?? { impression: 0, click: 0, conversion: 0, value: 0 };
    if (e.type === "impression") o.impression = 1;
    if (e.type === "click") o.click = 1;
    if (e.type === "conversion") {
      o.conversion = 1;
      o.value += e.value ?? 0;
    }
    outcomes.set(key, o);
  }
  return decisions.flatMap((d) =>
    d.slots.flatMap((slot) =>
      slot.items.map((item) => ({
        decisionId: d.decisionId,
        ts: d.ts,
        siteId: d.siteId,
        visitorId: d.visitorId,
        mode: d.mode,
        modelVersion: d.modelVersion,
        policy: slot.policy,
        slot: slot.slot,
        contentId: item.contentId,
        position: item.rank,
        score: item.score,
        propensity: item.propensity,
        ...(item.variant ? { variant: item.variant } : {}),
        context: d.context,
        ...(outcomes.get(`${d.decisionId}\u0000${slot.slot}\u0000${item.contentId}`) ?? {
          impression: 0,
          click: 0,
          conversion: 0,
          value: 0,
        }),
      })),
    ),
  );
}
