import type { CatalogueItem } from "../store/catalogue";
import type { DecidedItem } from "./schema";

/**
 * Plain functions over plain data: candidates in, ranked slots out. No I/O here.
 */

export type SlotRequest = { id: string; count: number };

/** Items that may show in a slot now: eligible for it and inside their schedule window. */
export function eligibleFor(slotId: string, items: readonly CatalogueItem[], now: number): CatalogueItem[] {
  return items.filter(
    (item) =>
      item.slotIds.includes(slotId) && (item.startsAt === null || item.startsAt <= now) && (item.endsAt === null || item.endsAt > now),
  );
}

/** The union of candidates over all requested slots, each once. */
export function candidatesFor(slots: readonly SlotRequest[], items: readonly CatalogueItem[], now: number): CatalogueItem[] {
  const byId = new Map<string, CatalogueItem>();
  for (const slot of slots) for (const item of eligibleFor(slot.id, items, now)) byId.set(item.id, item);
  return [...byId.values()];
}

const byEditorRank = (a: CatalogueItem, b: CatalogueItem) => a.defaultRank - b.defaultRank || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Fills slots in request order, each with its best `count` items not already shown on the page.
 * With scores, the model's order (ties broken by the editor's rank, then id, so the result is
 * deterministic); without, the editor's order.
 */
export function fillSlots(
  slots: readonly SlotRequest[],
  items: readonly CatalogueItem[],
  now: number,
  scores: ReadonlyMap<string, number> | null,
): { slot: string; items: DecidedItem[] }[] {
  const shown = new Set<string>();
  const order = scores
    ? (a: CatalogueItem, b: CatalogueItem) => (scores.get(b.id) ?? -1) - (scores.get(a.id) ?? -1) || byEditorRank(a, b)
    : byEditorRank;
  return slots.map((slot) => {
    const picked = eligibleFor(slot.id, items, now)
      .filter((item) => !shown.has(item.id))
      .sort(order)
      .slice(0, slot.count);
    for (const item of picked) shown.add(item.id);
    return {
      slot: slot.id,
      items: picked.map((item, i) => ({
        contentId: item.id,
        rank: i + 1,
        score: scores ? (scores.get(item.id) ?? null) : null,
        reason: scores ? "model" : "default",
        ...item.render,
      })),
    };
  });
}
