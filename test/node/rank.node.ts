import { describe, expect, it } from "vitest";
import { candidatesFor, fillSlots } from "../../worker/decisions/rank";
import type { CatalogueItem } from "../../worker/site/catalogue";

const item = (id: string, slotIds: string[], defaultRank: number, window: { startsAt?: number; endsAt?: number } = {}): CatalogueItem => ({
  id,
  slotIds,
  render: { title: `Title ${id}` },
  variants: [],
  categories: [],
  attributes: {},
  startsAt: window.startsAt ?? null,
  endsAt: window.endsAt ?? null,
  defaultRank,
});

const NOW = 1_000_000;
const items = [
  item("a", ["hero", "recs"], 1),
  item("b", ["hero", "recs"], 2),
  item("c", ["recs"], 3),
  item("d", ["recs"], 4),
  item("later", ["recs"], 0, { startsAt: NOW + 1 }),
  item("ended", ["recs"], 0, { endsAt: NOW }),
];

describe("filling slots", () => {
  it("never shows an item twice on a page, and honours counts", () => {
    const scores = new Map([
      ["a", 0.9],
      ["b", 0.5],
      ["c", 0.8],
      ["d", 0.1],
    ]);
    const slots = fillSlots(
      [
        { id: "hero", count: 1 },
        { id: "recs", count: 2 },
      ],
      items,
      NOW,
      scores,
    );
    expect(slots.map((s) => s.items.map((i) => i.contentId))).toEqual([["a"], ["c", "b"]]);
    expect(slots[1]?.items.map((i) => i.score)).toEqual([0.8, 0.5]);
  });

  it("uses the editor's rank without scores, and to break ties", () => {
    const noScores = fillSlots([{ id: "recs", count: 3 }], items, NOW, null);
    expect(noScores[0]?.items.map((i) => [i.contentId, i.reason])).toEqual([
      ["a", "default"],
      ["b", "default"],
      ["c", "default"],
    ]);
    const ties = fillSlots([{ id: "recs", count: 4 }], items, NOW, new Map(items.map((i) => [i.id, 0.5])));
    expect(ties[0]?.items.map((i) => i.contentId)).toEqual(["a", "b", "c", "d"]);
  });

  it("leaves out items outside their schedule window", () => {
    expect(candidatesFor([{ id: "recs", count: 10 }], items, NOW).map((i) => i.id)).toEqual(["a", "b", "c", "d"]);
    expect(candidatesFor([{ id: "recs", count: 10 }], items, NOW + 2).map((i) => i.id)).toContain("later");
  });

  it("returns fewer items than asked when the slot runs out", () => {
    const slots = fillSlots(
      [
        { id: "hero", count: 1 },
        { id: "recs", count: 10 },
      ],
      items,
      NOW,
      null,
    );
    expect(slots[1]?.items.map((i) => i.contentId)).toEqual(["b", "c", "d"]);
  });
});
