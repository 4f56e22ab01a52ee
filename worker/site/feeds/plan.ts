import type { ItemInput } from "../../wire/catalogue";
import type { FeedRow } from "./rows";

/**
 * An import as a diff against the catalogue: what is added, what changes, what a full feed no
 * longer lists (archived), and every refused row with its line and reason. Planning is pure, so
 * a preview (`dryRun`) and the applied import are the same computation.
 */
export type ImportMode = "full" | "partial";

export type ImportPlan = {
  added: ItemInput[];
  changed: ItemInput[];
  unchanged: number;
  /** Ids of active items a full feed no longer lists. */
  archived: string[];
  refused: { line: number; id?: string; reason: string }[];
};

/** The stored fields an item input compares against (the same shape, as the store keeps it). */
export type CurrentItem = { input: ItemInput; active: boolean };

/** JSON with sorted keys and no undefined members: two inputs with the same content compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

const same = (a: ItemInput, b: ItemInput) => canonical(a) === canonical(b);

export function planImport(
  rows: readonly FeedRow[],
  current: ReadonlyMap<string, CurrentItem>,
  options: { mode: ImportMode; slots: ReadonlySet<string> },
): ImportPlan {
  const plan: ImportPlan = { added: [], changed: [], unchanged: 0, archived: [], refused: [] };
  const firstLine = new Map<string, number>();
  for (const row of rows) {
    if (!("item" in row)) {
      plan.refused.push(row);
      continue;
    }
    const { item, line } = row;
    const seen = firstLine.get(item.id);
    if (seen !== undefined) {
      plan.refused.push({ line, id: item.id, reason: `id: "${item.id}" is already listed at line ${seen}` });
      continue;
    }
    const unknownSlot = item.slots.find((slot) => !options.slots.has(slot));
    if (unknownSlot) {
      plan.refused.push({ line, id: item.id, reason: `slots: the site has no slot "${unknownSlot}"` });
      continue;
    }
    firstLine.set(item.id, line);
    const existing = current.get(item.id);
    if (!existing) plan.added.push(item);
    else if (!existing.active || !same(existing.input, item)) plan.changed.push(item);
    else plan.unchanged++;
  }
  if (options.mode === "full") {
    // A refused row leaves its item as it was: it is not archived for being unreadable.
    const named = new Set([...firstLine.keys(), ...plan.refused.flatMap((r) => (r.id ? [r.id] : []))]);
    for (const [id, item] of current) if (item.active && !named.has(id)) plan.archived.push(id);
  }
  return plan;
}
