import { parseArgs } from "node:util";
import { z } from "zod";
import { DUMP_SAMPLES } from "./dump";

export const USAGE = `usage: npm run evaluate -- --model DIR (--obd DIR | --interactions CSV | --events NDJSON) [options]
  --model DIR          a model directory: manifest.json and the .onnx it names (e.g. models/default)
  --obd DIR            the Open Bandit Dataset sample (random/ and bts/): time-split metrics and off-policy estimates
  --interactions CSV   user_id,item_id,timestamp[,label][,position][,propensity] (+ --items CSV, --users CSV)
  --events NDJSON      what \`npm run export-events\` writes (+ --items CSV, --users CSV)
  --protocol P         time-split (default) or leave-one-out (interactions and events only)
  --negatives N        leave-one-out: items ranked against the held-out one (default 99);
                       time-split on implicit feedback: negatives sampled per positive (default 4)
  --bootstrap N        bootstrap resamples for the 95% intervals (default 1000)
  --seed N             seed of every sample and resample (default 0)
  --timezone TZ        the zone of local hour and weekday for CSV/NDJSON timestamps (default UTC)
  --dump-scores FILE   write the first ${DUMP_SAMPLES} inputs scored, with their scores (JSON)
Prints one JSON line on stdout; a readable summary on stderr.`;

const count = (name: string) => z.coerce.number().int(`--${name} must be an integer`).positive(`--${name} must be positive`).optional();

const argsSchema = z
  .object({
    model: z.string({ error: "--model DIR is required" }),
    obd: z.string().optional(),
    interactions: z.string().optional(),
    events: z.string().optional(),
    items: z.string().optional(),
    users: z.string().optional(),
    protocol: z.enum(["time-split", "leave-one-out"]).default("time-split"),
    negatives: count("negatives"),
    bootstrap: count("bootstrap").default(1000),
    seed: z.coerce.number().int().min(0).default(0),
    timezone: z.string().default("UTC"),
    "dump-scores": z.string().optional(),
  })
  .superRefine((a, ctx) => {
    const sources = [a.obd, a.interactions, a.events].filter((s) => s !== undefined).length;
    if (sources !== 1) ctx.addIssue({ code: "custom", message: "give exactly one of --obd, --interactions, --events" });
    if (a.obd !== undefined && a.protocol === "leave-one-out") {
      ctx.addIssue({ code: "custom", path: ["protocol"], message: "leave-one-out needs user ids, which the Open Bandit Dataset lacks" });
    }
    if (a.obd !== undefined && (a.items !== undefined || a.users !== undefined)) {
      ctx.addIssue({ code: "custom", message: "--items and --users go with --interactions or --events" });
    }
  });

export type DataSource =
  | { kind: "obd"; dir: string }
  | { kind: "interactions"; csv: string; items?: string; users?: string }
  | { kind: "events"; ndjson: string; items?: string; users?: string };

export type EvaluateOptions = {
  model: string;
  data: DataSource;
  protocol: "time-split" | "leave-one-out";
  negatives: number;
  bootstrap: number;
  seed: number;
  timezone: string;
  dumpScores?: string;
};

export function parseEvaluateArgs(argv: readonly string[]): EvaluateOptions {
  const names = [
    "model",
    "obd",
    "interactions",
    "events",
    "items",
    "users",
    "protocol",
    "negatives",
    "bootstrap",
    "seed",
    "timezone",
    "dump-scores",
  ];
  const { values } = parseArgs({
    args: [...argv],
    options: { ...Object.fromEntries(names.map((name) => [name, { type: "string" as const }])), help: { type: "boolean" } },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`${z.prettifyError(parsed.error)}\n${USAGE}`);
  const a = parsed.data;
  const attributes = { ...(a.items ? { items: a.items } : {}), ...(a.users ? { users: a.users } : {}) };
  const data: DataSource = a.obd
    ? { kind: "obd", dir: a.obd }
    : a.interactions
      ? { kind: "interactions", csv: a.interactions, ...attributes }
      : { kind: "events", ndjson: a.events as string, ...attributes };
  return {
    model: a.model,
    data,
    protocol: a.protocol,
    negatives: a.negatives ?? (a.protocol === "leave-one-out" ? 99 : 4),
    bootstrap: a.bootstrap,
    seed: a.seed,
    timezone: a.timezone,
    ...(a["dump-scores"] ? { dumpScores: a["dump-scores"] } : {}),
  };
}
