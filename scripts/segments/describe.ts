import type { Segment } from "../../worker/inference/segments";
import type { Dataset } from "../train/dataset";

/** What a marketer reads of a segment: the items and attribute values it takes more than everyone, and its CTR. */
export type Member = { userId: string; items: ReadonlySet<string> };

type Counted = { key: string; members: number; overall: number };

/** Values that at least `minimum` members have, by lift over everyone (then by share), the first `top`. */
function standOut(counts: Map<string, { members: number; overall: number }>, size: number, visitors: number, top: number) {
  const minimum = Math.max(2, Math.ceil(0.02 * size));
  const rows: Counted[] = [...counts].map(([key, c]) => ({ key, ...c }));
  const lift = (c: Counted) => c.members / size / (c.overall / visitors);
  return rows
    .filter((c) => c.members >= minimum)
    .sort((a, b) => lift(b) - lift(a) || b.members - a.members || (a.key < b.key ? -1 : 1))
    .slice(0, top)
    .map((c) => ({ key: c.key, visitors: c.members, share: c.members / size, lift: lift(c) }));
}

function tally(members: readonly Member[], all: Map<string, number>, valuesOf: (m: Member) => Iterable<string>) {
  const counts = new Map<string, { members: number; overall: number }>();
  for (const m of members) {
    for (const value of new Set(valuesOf(m))) {
      const c = counts.get(value) ?? { members: 0, overall: all.get(value) ?? 0 };
      c.members++;
      counts.set(value, c);
    }
  }
  return counts;
}

/** A member's attribute values as `user.key` / `item.key` and value; a text attribute with more than 100 distinct values (an id) or a number with more than 12 (a price) is left out. */
function attributeValues(dataset: Dataset) {
  const categorical = (rows: Iterable<Record<string, string | number>>) => {
    const distinct = new Map<string, { values: Set<string>; numeric: boolean }>();
    for (const r of rows) {
      for (const [k, v] of Object.entries(r)) {
        const d = distinct.get(k) ?? { values: new Set<string>(), numeric: true };
        d.values.add(String(v));
        d.numeric &&= typeof v === "number";
        distinct.set(k, d);
      }
    }
    return new Set([...distinct].filter(([, d]) => d.values.size <= (d.numeric ? 12 : 100)).map(([k]) => k));
  };
  const userKeys = categorical(dataset.users.values());
  const itemKeys = categorical(dataset.items.values());
  return (m: Member): string[] => {
    const values: string[] = [];
    for (const [k, v] of Object.entries(dataset.users.get(m.userId) ?? {})) if (userKeys.has(k)) values.push(`user.${k}\u0000${v}`);
    for (const id of m.items) {
      for (const [k, v] of Object.entries(dataset.items.get(id) ?? {})) if (itemKeys.has(k)) values.push(`item.${k}\u0000${v}`);
    }
    return values;
  };
}

export function describeSegments(
  dataset: Dataset,
  members: readonly Member[],
  assignment: Int32Array,
  centroids: readonly Float64Array[],
  top: number,
): Segment[] {
  const valuesOf = attributeValues(dataset);
  const overallItems = new Map<string, number>();
  const overallValues = new Map<string, number>();
  for (const m of members) {
    for (const id of m.items) overallItems.set(id, (overallItems.get(id) ?? 0) + 1);
    for (const v of new Set(valuesOf(m))) overallValues.set(v, (overallValues.get(v) ?? 0) + 1);
  }
  // Real impressions (label 0) exist only in logged decisions and labelled interactions: CTR is defined there.
  const labelled = dataset.examples.some((e) => e.label === 0);
  const groups = centroids.map((_, j) => members.filter((_, i) => assignment[i] === j));
  const order = groups
    .map((g, j) => ({ g, j }))
    .filter(({ g }) => g.length > 0)
    .sort((a, b) => b.g.length - a.g.length || a.j - b.j);
  return order.map(({ g, j }, rank) => {
    const ids = new Set(g.map((m) => m.userId));
    const shown = labelled ? dataset.examples.filter((e) => e.userId !== null && ids.has(e.userId)) : [];
    const clicks = shown.filter((e) => e.label === 1).length;
    return {
      id: `s${rank + 1}`,
      visitors: g.length,
      share: g.length / members.length,
      centroid: Array.from(centroids[j] as Float64Array, (x) => Number(x.toPrecision(6))),
      topItems: standOut(
        tally(g, overallItems, (m) => m.items),
        g.length,
        members.length,
        top,
      ).map((c) => ({
        contentId: c.key,
        visitors: c.visitors,
        share: c.share,
        lift: c.lift,
      })),
      topAttributes: standOut(tally(g, overallValues, valuesOf), g.length, members.length, top).map((c) => {
        const [attribute, value] = c.key.split("\u0000") as [string, string];
        return { attribute, value, share: c.share, lift: c.lift };
      }),
      ctr: labelled ? { clicks, impressions: shown.length, ctr: shown.length > 0 ? clicks / shown.length : null } : null,
    };
  });
}
