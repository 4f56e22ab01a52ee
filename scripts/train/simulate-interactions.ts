/**
 * Writes the SYNTHETIC interactions dataset (scripts/train/simulate.ts explains what it holds):
 * `npx tsx scripts/train/simulate-interactions.ts [--out DIR] [--users N] [--items N]
 * [--interactions N] [--days N] [--seed N]` -> DIR/interactions.csv, items.csv, users.csv.
 */
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { DEFAULT_SIMULATION, simulateInteractions, writeSimulation } from "./simulate";

const USAGE = `usage: npx tsx scripts/train/simulate-interactions.ts [--out DIR] [--users N] [--items N] [--interactions N] [--days N] [--seed N]
  defaults: --out scripts/train/out/synthetic, ${Object.entries(DEFAULT_SIMULATION)
    .filter(([k]) => k !== "start")
    .map(([k, v]) => `--${k} ${v}`)
    .join(", ")}`;

const count = z.coerce.number().int().positive();
const argsSchema = z.object({
  out: z.string().default("scripts/train/out/synthetic"),
  users: count.default(DEFAULT_SIMULATION.users),
  items: count.min(10).default(DEFAULT_SIMULATION.items),
  interactions: count.default(DEFAULT_SIMULATION.interactions),
  days: count.default(DEFAULT_SIMULATION.days),
  seed: z.coerce.number().int().min(0).default(DEFAULT_SIMULATION.seed),
});

function main() {
  const { values } = parseArgs({
    options: Object.fromEntries(
      ["out", "users", "items", "interactions", "days", "seed"].map((name) => [name, { type: "string" as const }]),
    ),
    strict: true,
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${USAGE}`);
  const { out, ...options } = parsed.data;
  const started = Date.now();
  const simulation = simulateInteractions({ ...options, start: DEFAULT_SIMULATION.start });
  mkdirSync(out, { recursive: true });
  writeSimulation(out, simulation);
  console.log(
    `wrote ${out}/{interactions,items,users}.csv: ${simulation.interactions.length} interactions, ${simulation.users.length} users, ` +
      `${simulation.items.length} items (SYNTHETIC, seed ${options.seed}) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

try {
  main();
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
