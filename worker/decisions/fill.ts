import type { Preview } from "../experiments/preview";
import type { RequestContext, VisitorProfile } from "../inference/encode";
import type { Scorer } from "../inference/model";
import type { SitePolicy } from "../site/policy";
import { asVariant, chooseVariants } from "../variants/choose";
import type { DecidedSlot, SlotPolicy } from "../wire/decide";
import type { DecisionEvent } from "../wire/events";
import type { DecisionDeps } from "./deps";
import { pinsOf } from "./pool";
import { fillSlots, fillSlotsWithPolicy, type RankedItem, type SlotRequest } from "./rank";
import { type Scoring, scoresOf } from "./score";

export type Shadows = NonNullable<DecisionEvent["shadow"]>;

/** Phase 4 of a decision: the slots as shown, and what shadow models would have shown instead. */
export type Filling = {
  slots: DecidedSlot[];
  /** The scored candidates as their chosen variants, with the score each competed with. */
  candidates: RankedItem[];
  scores: Map<string, number>;
  shadow: Shadows;
};

/** What each shadow model would have shown; a failing shadow is left out, never shown. */
async function shadowFills(
  shadows: readonly Scorer[],
  slots: readonly SlotRequest[],
  ranked: readonly RankedItem[],
  candidates: readonly RankedItem[],
  now: number,
  profile: VisitorProfile | null,
  context: RequestContext,
): Promise<Shadows> {
  const fills: Shadows = [];
  // Each item as the variant the served model chose for it.
  const rows = candidates.map((item) => ({ item, variant: item.variants.find((v) => v.id === item.variant?.id) }));
  for (const shadow of shadows) {
    try {
      const rowScores = await scoresOf(shadow, profile, context, rows);
      const scores = new Map(candidates.map((item, i) => [item.id, rowScores[i] ?? 0]));
      const filled = fillSlots(slots, ranked, now, scores);
      fills.push({
        version: shadow.version,
        slots: filled.map((slot) => ({ slot: slot.slot, items: slot.items.map((i) => i.contentId) })),
      });
    } catch {
      // Shadows are observation only.
    }
  }
  return fills;
}

/**
 * Chooses each item's variant from the scores (or its own content without them), then fills the
 * slots: with the model's scores under the site's exploration and pins, else in the editor's
 * order (`holdout` marks the holdout's).
 */
export async function fill(
  scoring: Scoring,
  input: {
    slots: readonly SlotRequest[];
    policy: SitePolicy;
    holdout: boolean;
    preview: Preview | null;
    now: number;
    context: RequestContext;
  },
  deps: DecisionDeps,
): Promise<Filling> {
  const { scored, profile, pool, rows, fallback } = scoring;
  const { slots, policy, holdout, now } = input;
  const choices = chooseVariants(rows, scored?.rowScores ?? null, policy.variants.coldStart, deps.random);
  const ranked = pool.map((item) => asVariant(item, choices.get(item.id)));
  const candidates = scored ? ranked.filter((item) => choices.has(item.id)) : [];
  const scores = new Map(candidates.map((item) => [item.id, choices.get(item.id)?.score ?? 0]));
  const shadow = scored?.served.shadows.length
    ? await shadowFills(scored.served.shadows, slots, ranked, candidates, now, profile, input.context)
    : [];
  const slotPolicy: SlotPolicy = holdout ? "holdout" : scored ? "model" : "editor-default";
  const fills = scored
    ? fillSlotsWithPolicy(slots, ranked, now, scores, {
        exploration: policy.exploration,
        pins: pinsOf(policy, input.preview, scoring.segment),
        random: deps.random,
      })
    : fillSlots(slots, ranked, now, null, holdout ? "holdout" : "default");
  return {
    slots: fills.map((slot) => ({ ...slot, policy: slotPolicy, ...(fallback ? { fallback } : {}) })),
    candidates,
    scores,
    shadow,
  };
}
