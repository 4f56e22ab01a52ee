import { choosePositions, type Pin } from "../experiments/explore";
import type { CatalogueItem } from "../site/catalogue";
import type { Exploration } from "../site/policy";
import type { ServedVariant } from "../variants/choose";
import type { DecidedItem, ItemReason } from "../wire/decide";

/**
 * Plain functions over plain data: candidates in, ranked slots out. No I/O here.
 */

export type SlotRequest = { id: string; count: number };

/** A catalogue item as this decision shows it: as its chosen variant, if it has one. */
export type RankedItem = CatalogueItem & { variant?: ServedVariant };

/** Items that may show in a slot now: eligible for it and inside their schedule window. */
export function eligibleFor<T extends CatalogueItem>(slotId: string, items: readonly T[], now: number): T[] {
  return items.filter(
    (item) =>
      item.slotIds.includes(slotId) && (item.startsAt === null || item.startsAt <= now) && (item.endsAt === null || item.endsAt > now),
  );
}

/** The union of candidates over all requested slots, each once. */
export function candidatesFor<T extends CatalogueItem>(slots: readonly SlotRequest[], items: readonly T[], now: number): T[] {
  const byId = new Map<string, T>();
  for (const slot of slots) for (const item of eligibleFor(slot.id, items, now)) byId.set(item.id, item);
  return [...byId.values()];
}

const byEditorRank = (a: CatalogueItem, b: CatalogueItem) => a.defaultRank - b.defaultRank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const modelOrder = (scores: ReadonlyMap<string, number>) => (a: CatalogueItem, b: CatalogueItem) =>
  (scores.get(b.id) ?? -1) - (scores.get(a.id) ?? -1) || byEditorRank(a, b);

const decided = (item: RankedItem, rank: number, score: number | null, reason: ItemReason, propensity: number): DecidedItem => ({
  contentId: item.id,
  rank,
  score,
  reason,
  propensity,
  ...item.render,
  ...(item.variant ? { variant: item.variant } : {}),
});

/**
 * Fills slots in request order, each with its best `count` items not already shown on the page.
 * With scores, the model's order (ties broken by the editor's rank, then id, so the result is
 * deterministic); without, the editor's order (`reason`: "default", or "holdout" for the holdout).
 */
export function fillSlots(
  slots: readonly SlotRequest[],
  items: readonly RankedItem[],
  now: number,
  scores: ReadonlyMap<string, number> | null,
  defaultReason: Extract<ItemReason, "default" | "holdout"> = "default",
): { slot: string; items: DecidedItem[] }[] {
  const shown = new Set<string>();
  const order = scores ? modelOrder(scores) : byEditorRank;
  return slots.map((slot) => {
    const picked = eligibleFor(slot.id, items, now)
      .filter((item) => !shown.has(item.id))
      .sort(order)
      .slice(0, slot.count);
    for (const item of picked) shown.add(item.id);
    return {
      slot: slot.id,
      items: picked.map((item, i) =>
        decided(item, i + 1, scores ? (scores.get(item.id) ?? null) : null, scores ? "model" : defaultReason, 1),
      ),
    };
  });
}

/**
 * The model's fill with the site's exploration policy and pins: each position is drawn from
 * the remaining candidates (./experiments/explore.ts) and carries the exact probability it was
 * drawn with. With no exploration and no pins this is `fillSlots` with the model's scores.
 */
export function fillSlotsWithPolicy(
  slots: readonly SlotRequest[],
  items: readonly RankedItem[],
  now: number,
  scores: ReadonlyMap<string, number>,
  options: { exploration: Exploration; pins: readonly (Pin & { slot: string })[]; random: () => number },
): { slot: string; items: DecidedItem[] }[] {
  const shown = new Set<string>();
  return slots.map((slot) => {
    const ordered = eligibleFor(slot.id, items, now)
      .filter((item) => !shown.has(item.id))
      .sort(modelOrder(scores));
    const pin = options.pins.find((p) => p.slot === slot.id);
    const chosen = choosePositions(ordered, scores, slot.count, options.exploration, pin, options.random);
    for (const { item } of chosen) shown.add(item.id);
    return {
      slot: slot.id,
      items: chosen.map(({ item, reason, propensity }, i) => decided(item, i + 1, scores.get(item.id) ?? null, reason, propensity)),
    };
  });
}
