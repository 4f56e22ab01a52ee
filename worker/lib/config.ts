import { z } from "zod";

/**
 * The worker's `[vars]` (wrangler.toml), read once per isolate into typed values. A value that is
 * set but not valid fails loudly (a bad deploy must not serve with a silently different setting);
 * a missing or empty one takes the default written here.
 */
const milliseconds = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? fallback : Number(value)))
    .pipe(z.number().int("a whole number of milliseconds").min(0));

const days = (fallback: number, least = 1, why = "") =>
  z
    .string()
    .optional()
    .transform((value) => (value === undefined || value.trim() === "" ? fallback : Number(value)))
    .pipe(
      z
        .number()
        .int("a whole number of days")
        .min(least, `at least ${least} day${least > 1 ? "s" : ""}${why}`),
    );

const varsSchema = z.object({
  /** How long a cold isolate waits for the model before serving editor defaults (0: never). */
  MODEL_LOAD_BUDGET_MS: milliseconds(0),
  /** How long the catalogue, site config and serving config are cached per isolate. */
  CONFIG_TTL_MS: milliseconds(30_000),
  /** `secure`: `__Host-` cookies over HTTPS on the site's own host; `dev`: plain names over http. */
  COOKIE_MODE: z.enum(["dev", "secure"]).default("dev"),
  /** Where visitors' Durable Objects live: none (near the first request) or a jurisdiction. */
  VISITOR_JURISDICTION: z.enum(["eu", "fedramp", "fedramp-high", "us"]).optional(),
  /** How long a decision waits for the visitor's object before serving without it. */
  VISITOR_STATE_TIMEOUT_MS: milliseconds(250),
  /** Model sessions an isolate keeps (least recently used out). */
  MODEL_SESSIONS_MAX: z.coerce.number().int("a whole number of sessions").min(1).default(4),
  /** Where the raw log goes: batch files on R2, or a Pipelines stream (worker/log/sinks.ts). */
  LOG_SINK: z.enum(["r2", "pipelines"]).default("r2"),
  /** How long an isolate gathers decision events before queueing them as one message (worker/events/outbox.ts). */
  LOG_BATCH_WINDOW_MS: milliseconds(1_000),
  /** Days of raw log kept; older partitions are deleted. */
  RETENTION_DAYS: days(90),
  /** Days of daily aggregates kept in D1. */
  AGGREGATE_RETENTION_DAYS: days(400),
  /** Days back that events are counted into the aggregates, the ledger's window (worker/log/ledger.ts). */
  LEDGER_DAYS: days(7, 2, ": a row is dated by its decision, up to a day before its event arrives"),
});

export type Config = {
  modelLoadBudgetMs: number;
  configTtlMs: number;
  secureCookies: boolean;
  visitorJurisdiction: DurableObjectJurisdiction | null;
  visitorStateTimeoutMs: number;
  modelSessionsMax: number;
  logSink: "r2" | "pipelines";
  logBatchWindowMs: number;
  retentionDays: number;
  aggregateRetentionDays: number;
  ledgerDays: number;
};

type Vars =
  | "MODEL_LOAD_BUDGET_MS"
  | "CONFIG_TTL_MS"
  | "COOKIE_MODE"
  | "VISITOR_JURISDICTION"
  | "VISITOR_STATE_TIMEOUT_MS"
  | "MODEL_SESSIONS_MAX"
  | "LOG_SINK"
  | "LOG_BATCH_WINDOW_MS"
  | "RETENTION_DAYS"
  | "AGGREGATE_RETENTION_DAYS"
  | "LEDGER_DAYS";
/** An unset or empty var takes its default. */
const setOrUndefined = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value);

const parsed = new WeakMap<object, Config>();

export function configOf(env: Pick<Env, Vars>): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const vars = varsSchema.safeParse({
    MODEL_LOAD_BUDGET_MS: env.MODEL_LOAD_BUDGET_MS,
    CONFIG_TTL_MS: env.CONFIG_TTL_MS,
    COOKIE_MODE: setOrUndefined(env.COOKIE_MODE),
    VISITOR_JURISDICTION: setOrUndefined(env.VISITOR_JURISDICTION),
    VISITOR_STATE_TIMEOUT_MS: env.VISITOR_STATE_TIMEOUT_MS,
    MODEL_SESSIONS_MAX: setOrUndefined(env.MODEL_SESSIONS_MAX),
    LOG_SINK: setOrUndefined(env.LOG_SINK),
    LOG_BATCH_WINDOW_MS: env.LOG_BATCH_WINDOW_MS,
    RETENTION_DAYS: env.RETENTION_DAYS,
    AGGREGATE_RETENTION_DAYS: env.AGGREGATE_RETENTION_DAYS,
    LEDGER_DAYS: env.LEDGER_DAYS,
  });
  if (!vars.success) throw new Error(`wrangler.toml [vars]: ${z.prettifyError(vars.error)}`);
  const config: Config = {
    modelLoadBudgetMs: vars.data.MODEL_LOAD_BUDGET_MS,
    configTtlMs: vars.data.CONFIG_TTL_MS,
    secureCookies: vars.data.COOKIE_MODE === "secure",
    visitorJurisdiction: vars.data.VISITOR_JURISDICTION ?? null,
    visitorStateTimeoutMs: vars.data.VISITOR_STATE_TIMEOUT_MS,
    modelSessionsMax: vars.data.MODEL_SESSIONS_MAX,
    logSink: vars.data.LOG_SINK,
    logBatchWindowMs: vars.data.LOG_BATCH_WINDOW_MS,
    retentionDays: vars.data.RETENTION_DAYS,
    aggregateRetentionDays: vars.data.AGGREGATE_RETENTION_DAYS,
    ledgerDays: vars.data.LEDGER_DAYS,
  };
  parsed.set(env, config);
  return config;
}
