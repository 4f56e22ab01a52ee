/**
 * `npm run train -- [--obd DIR --policies random[,bts]] | [--interactions CSV [--items CSV] [--users CSV]]
 * | [--events NDJSON] --out DIR --version NAME [...]`: scripts/train/pipeline.ts does the work.
 * With no data flag it retrains the bundled default (models/default) on the OBD sample's random/ logs.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import type { DatasetSource } from "./dataset";
import { trainModel } from "./pipeline";

const USAGE = `usage: npm run train -- [data] [--out DIR --version NAME] [options]
data (one of; none = the bundled default: --obd ../shared/data/obd --policies random --out models/default --version obd-mlp-2):
  --obd DIR            the Open Bandit Dataset sample (DIR/{random,bts}/{men,women}/)
  --policies LIST      OBD logging policies to train on: random, bts or random,bts (default random)
  --interactions CSV   user_id,item_id,timestamp[,label][,position][,propensity]
  --events NDJSON      what \`npm run export-events\` writes
  --items CSV          item_id + attribute columns (with --interactions or --events)
  --users CSV          user_id + attribute columns (with --interactions or --events)
  --citation TEXT      where the CSV/NDJSON data came from (printed in the model card)
options:
  --out DIR            model directory to write (required with a data flag)
  --version NAME       manifest version, e.g. shop-mlp-1 (required with a data flag)
  --negatives N        sampled negatives per positive for implicit interactions (default 4)
  --timezone TZ        zone of hour/weekday for CSV/NDJSON timestamps (default UTC)
  --epochs N           maximum epochs (default 30; early stopping usually ends sooner)
  --hidden N           hidden units (default 32)
  --seed N             seed of sampling, dropout and training (default 0)
  --bootstrap N        bootstrap resamples for the test AUC intervals (default 1000)
  --build DIR          scratch directory for the encoded rows (default: the OS temp dir, edge-personalizer-train/VERSION)`;

const count = (name: string) => z.coerce.number().int(`--${name} must be an integer`).positive(`--${name} must be positive`);
const argsSchema = z
  .object({
    obd: z.string().optional(),
    policies: z
      .string()
      .default("random")
      .transform((s) => s.split(","))
      .pipe(z.array(z.enum(["random", "bts"])).min(1)),
    interactions: z.string().optional(),
    events: z.string().optional(),
    items: z.string().optional(),
    users: z.string().optional(),
    citation: z.string().optional(),
    out: z.string().optional(),
    version: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, "--version: letters, digits, . _ - (max 64)")
      .optional(),
    negatives: count("negatives").default(4),
    timezone: z.string().default("UTC"),
    epochs: count("epochs").optional(),
    hidden: count("hidden").optional(),
    seed: z.coerce.number().int().min(0).default(0),
    bootstrap: count("bootstrap").default(1000),
    build: z.string().optional(),
  })
  .superRefine((a, ctx) => {
    const sources = [a.obd, a.interactions, a.events].filter((s) => s !== undefined).length;
    if (sources > 1) ctx.addIssue({ code: "custom", message: "give at most one of --obd, --interactions, --events" });
    if (sources === 1 && (a.out === undefined || a.version === undefined)) {
      ctx.addIssue({ code: "custom", message: "--out and --version are required with a data flag" });
    }
    if ((a.items !== undefined || a.users !== undefined) && a.interactions === undefined && a.events === undefined) {
      ctx.addIssue({ code: "custom", message: "--items and --users go with --interactions or --events" });
    }
  });

function source(a: z.infer<typeof argsSchema>): DatasetSource {
  const files = { ...(a.items ? { items: a.items } : {}), ...(a.users ? { users: a.users } : {}) };
  const citation = a.citation ? { citation: a.citation } : {};
  if (a.interactions)
    return { kind: "interactions", csv: a.interactions, ...files, negatives: a.negatives, seed: a.seed, timezone: a.timezone, ...citation };
  if (a.events) return { kind: "events", ndjson: a.events, ...files, timezone: a.timezone, ...citation };
  return { kind: "obd", dir: a.obd ?? join("..", "shared", "data", "obd"), policies: a.policies };
}

async function main() {
  const names = Object.keys(argsSchema.shape);
  const { values } = parseArgs({
    options: { ...Object.fromEntries(names.map((name) => [name, { type: "string" as const }])), help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${USAGE}`);
  const a = parsed.data;
  const version = a.version ?? "obd-mlp-2";
  await trainModel({
    source: source(a),
    out: a.out ?? join("models", "default"),
    build: a.build ?? join(tmpdir(), "edge-personalizer-train", version),
    version,
    seed: a.seed,
    ...(a.epochs === undefined ? {} : { epochs: a.epochs }),
    ...(a.hidden === undefined ? {} : { hidden: a.hidden }),
    bootstrap: a.bootstrap,
    log: (line) => console.log(line),
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
