/**
 * SYNTHETIC interactions where only the order carries signal, for tests and the workerd fixture:
 * visitors walk a ring of items in order (item k, then k+1, ...) from a random start, with one step
 * in ten a random item. The next item follows from the last one, and every item is about as
 * popular as any other: a model that learns the order ranks the next item first; popularity cannot.
 * Items have a `shelf` attribute (k mod 4) so that the attribute inputs are exercised too.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createRandom } from "../random";

export const RING = { items: 60, visitors: 150, start: 1_700_000_000 };

/** Writes DIR/interactions.csv (with a label column of all 1 when `label`) and DIR/items.csv; returns their paths. */
export function writeRing(dir: string, options: { label?: boolean; seed?: number } = {}): { csv: string; items: string } {
  const random = createRandom(options.seed ?? 11);
  const label = options.label ? ",1" : "";
  const lines = [`user_id,item_id,timestamp${options.label ? ",label" : ""}`];
  for (let u = 0; u < RING.visitors; u++) {
    const start = random.int(RING.items);
    const steps = 6 + random.int(5);
    for (let k = 0; k < steps; k++) {
      const item = random.next() < 0.9 ? (start + k) % RING.items : random.int(RING.items);
      lines.push(`u${u},i${item},${RING.start + u * 10 + k * 3600}${label}`);
    }
  }
  // One visitor whose latest item nobody else took: held out, it must not get an embedding row.
  const t = RING.start;
  lines.push(
    `u-new,i0,${t}${label}`,
    `u-new,i1,${t + 3600}${label}`,
    `u-new,i2,${t + 7200}${label}`,
    `u-new,only-held-out,${t + 10_800}${label}`,
  );
  const csv = join(dir, "interactions.csv");
  const items = join(dir, "items.csv");
  writeFileSync(csv, `${lines.join("\n")}\n`);
  writeFileSync(items, `item_id,shelf\n${Array.from({ length: RING.items }, (_, k) => `i${k},shelf-${k % 4}`).join("\n")}\n`);
  return { csv, items };
}
