/**
 * `npm run train -- [--obd DIR --policies random[,bts]] | [--interactions CSV [--items CSV] [--users CSV]]
 * | [--events NDJSON] --out DIR --version NAME [--family mlp|sequence] [...]`: scripts/train/pipeline.ts
 * (the mlp family) or scripts/train/sequence/pipeline.ts (the sequence family) does the work.
 * With no data flag it retrains the bundled default (models/default) on the OBD sample's random/ logs.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { RECENT_ITEMS_MAX } from "../../worker/inference/manifest";
import { parseStringFlags } from "../string-flags";
import type { DatasetSource } from "./dataset";
import { trainModel } from "./pipeline";
import { trainSequenceModel } from "./sequence/pipeline";

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
  --version NAME       manifest version, e.g. shop-seq-1 (required with a data flag)
  --family F           sequence (default for --interactions): each visitor's items in order, pooled by
                       self-attention, trained with a sampled softmax and held out leave-one-out;
                       mlp (default for --obd and --events): a click-probability MLP on a time split
  --timezone TZ        zone of hour/weekday for CSV/NDJSON timestamps (default UTC)
  --epochs N           maximum epochs (mlp: default 30; sequence: by data size; early stopping usually ends sooner)
  --seed N             seed of sampling, dropout and training (default 0)
  --bootstrap N        bootstrap resamples for the test intervals (default 1000)
  --build DIR          scratch directory for the encoded inputs (default: the OS temp dir, edge-personalizer-train/VERSION)
mlp family:
  --negatives N        sampled negatives per positive for implicit interactions (default 4)
  --hidden N           hidden units (default 32)
sequence family:
  --length N           the most recent items the model reads (default and at most ${RECENT_ITEMS_MAX})
  --time-budget S      CPU seconds of training after which no new epoch starts (default 600)
`;

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
    family: z.enum(["mlp", "sequence"]).optional(),
    length: count("length").max(RECENT_ITEMS_MAX, `--length is at most ${RECENT_ITEMS_MAX}`).optional(),
    "time-budget": count("time-budget").optional(),
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
    if (familyOf(a) === "sequence" && a.interactions === undefined && a.events === undefined) {
      ctx.addIssue({ code: "custom", message: "the sequence family needs visitors' histories: --interactions or --events" });
    }
    if (familyOf(a) === "mlp" && (a.length !== undefined || a["time-budget"] !== undefined)) {
      ctx.addIssue({ code: "custom", message: "--length and --time-budget are options of the sequence family" });
    }
  });

type Args = { obd?: string | undefined; interactions?: string | undefined; family?: "mlp" | "sequence" | undefined };
/** The family asked for, else sequence for interaction logs and mlp for logged decisions (OBD, events). */
const familyOf = (a: Args) => a.family ?? (a.interactions !== undefined ? "sequence" : "mlp");

function source(a: z.infer<typeof argsSchema>): DatasetSource {
  const files = { ...(a.items ? { items: a.items } : {}), ...(a.users ? { users: a.users } : {}) };
  const citation = a.citation ? { citation: a.citation } : {};
  if (a.interactions)
    return { kind: "interactions", csv: a.interactions, ...files, negatives: a.negatives, seed: a.seed, timezone: a.timezone, ...citation };
  if (a.events) return { kind: "events", ndjson: a.events, ...files, timezone: a.timezone, ...citation };
  return { kind: "obd", dir: a.obd ?? join("..", "shared", "data", "obd"), policies: a.policies };
}

async function main() {
  const a = parseStringFlags(Object.keys(argsSchema.shape), argsSchema, USAGE);
  const version = a.version ?? "obd-mlp-2";
  const build = a.build ?? join(tmpdir(), "edge-personalizer-train", version);
  const log = (line: string) => console.log(line);
  if (familyOf(a) === "sequence") {
    await trainSequenceModel({
      // Leave-one-out samples its own negatives; the examples are the positives.
      source: { ...source(a), ...(a.interactions ? { negatives: 0 } : {}) } as DatasetSource,
      out: a.out as string,
      build,
      version,
      seed: a.seed,
      ...(a.epochs === undefined ? {} : { epochs: a.epochs }),
      ...(a.length === undefined ? {} : { length: a.length }),
      ...(a["time-budget"] === undefined ? {} : { timeBudget: a["time-budget"] }),
      bootstrap: a.bootstrap,
      log,
    });
    return;
  }
  await trainModel({
    source: source(a),
    out: a.out ?? join("models", "default"),
    build,
    version,
    seed: a.seed,
    ...(a.epochs === undefined ? {} : { epochs: a.epochs }),
    ...(a.hidden === undefined ? {} : { hidden: a.hidden }),
    bootstrap: a.bootstrap,
    log,
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
