/**
 * Benchmarks the data plane behind the queue consumer, end to end through a local queue:
 * `npm run bench:consumer -- [--events N] [--visitors V] [--redeliver B] [--timeout S] [--state-dir D] [--held] [--beacons] [--json]`.
 *
 * 1. builds the worker as `wrangler deploy` would, from scripts/bench/counting-entry.ts (the real
 *    entry with its bindings counted), and starts it on workerd with the EVENTS queue's producer
 *    and consumer (batch settings from wrangler.toml) on fresh, migrated and seeded state;
 * 2. makes N/3 page views: a decision through `/v1/decide` for one of V identified visitors, and
 *    then three events about it (two impressions, a click) through `POST /v1/events`, 100 a request
 *    (or, with `--beacons`, as the script tag sends them: ./bench/page-views.ts);
 * 3. makes the first B consumer invocations of the events fail after their writes, so that the
 *    queue delivers those messages again: nothing may be counted twice;
 * 4. times the events from the first send until the consumer has counted all of them (the daily
 *    aggregates; it writes a batch's log rows right after), and reports what one page view cost:
 *    D1 statements, rows and bytes written, R2 operations, queue messages, and their price;
 * 5. checks that the aggregates add up to exactly what was sent, that the log (read with DuckDB,
 *    one row per kind and id) holds every accepted event once, and that the aggregates equal it.
 *
 * The rate-limiting bindings are deliberately not configured (the middleware skips an absent
 * binding): 600 requests a minute would cap the enqueue rate, not measure the consumer.
 * With `--json`, the last line of stdout is one JSON object of the figures.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { configOf } from "../worker/lib/config";
import { buildBundle } from "./bench/bundle";
import { type ConsumerBenchOptions, parseConsumerBenchArgs } from "./bench/consumer-args";
import { dataPlaneCostPerMillionDecisions } from "./bench/cost";
import type { Counts } from "./bench/counting-entry";
import { type RollupTotals, rollupTotals, waitForCounted } from "./bench/d1-watch";
import { enqueueAll, type Plan, resent } from "./bench/interactions";
import { countLog, type LogCounts } from "./bench/log-check";
import { cpuSnapshot, foreignCpuShare } from "./bench/machine";
import { decidePageViews, EVENTS_PER_PAGE_VIEW, type EventShape, planPageViewEvents, visitorCookies } from "./bench/page-views";
import { consumerOf, type QueueConsumer, readQueueConsumers, withQueueConsumers } from "./bench/queues";
import { BENCH_SITE, type BenchVisitor, seedBenchState } from "./bench/seed-state";
import { round } from "./bench/stats";
import {
  type Miniflare,
  miniflareOptions,
  readWranglerConfig,
  startWorkerd,
  stderrLogSink,
  stopAllWorkerd,
  stopWorkerd,
  throwawaySecrets,
} from "./bench/workerd";

const OUT = join("bench-out", "consumer");
const COUNTING_ENTRY = "scripts/bench/counting-entry.ts";
/** Requests in flight while deciding and enqueueing: enough to keep workerd busy without queueing in the client. */
const CONCURRENCY = 8;
/** The warm-up decision waits for at most one batch timeout; this leaves room for a slow first isolate. */
const WARMUP_TIMEOUT_MS = 60_000;
const RATE_LIMITER_NOTE = "rate limiters not configured (the middleware skips absent bindings)";
/** D1's size limit per database (Cloudflare's D1 limits page: 10 GB, not raisable), in bytes. */
const D1_MAX_BYTES = 10e9;

const say = (line: string) => console.log(line);
const label = (name: string) => name.padEnd(18);

type Setup = {
  mf: Miniflare;
  url: URL;
  d1: D1Database;
  visitor: BenchVisitor;
  signingKey: string;
  consumer: QueueConsumer;
  /** The ledger's window as wrangler.toml sets it (`LEDGER_DAYS`). */
  ledgerDays: number;
};

async function bench(setup: Setup, path: string, method = "GET"): Promise<Counts> {
  const res = await fetch(new URL(path, setup.url), { method });
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return (await res.json()) as Counts;
}

/** Builds the counted bundle and starts one workerd with the queue's producer and consumer on fresh, seeded state. */
async function start(stateDir: string): Promise<Setup> {
  const config = await readWranglerConfig();
  const consumer = consumerOf(config.queueProducers, await readQueueConsumers(), "EVENTS");
  const bundle = buildBundle(COUNTING_ENTRY, join(OUT, "bundle"));
  rmSync(stateDir, { recursive: true, force: true });
  const secrets = throwawaySecrets();
  const logs = stderrLogSink("workerd");
  const options = miniflareOptions({ bundle, config, secrets, stateDir, logs });
  const mf = startWorkerd(withQueueConsumers(options, [consumer]));
  try {
    const url = await mf.ready;
    const signingKey = secrets.ID_SIGNING_KEY as string;
    const visitor = await seedBenchState(mf, url, secrets);
    const { ledgerDays } = configOf(config.vars as Parameters<typeof configOf>[0]);
    return { mf, url, d1: await mf.getD1Database("DB"), visitor, signingKey, consumer, ledgerDays };
  } catch (err) {
    await stopWorkerd(mf);
    throw err;
  }
}

/**
 * The first decision's own queue message is the consumer's first batch (after max_batch_timeout):
 * once it is written the consumer path has run once, and the queue is empty when counting starts.
 */
async function warmUp(setup: Setup): Promise<void> {
  const [view] = await decidePageViews(setup.url, [setup.visitor.cookie], 1, setup.signingKey, 1);
  if (!view) throw new Error("no warm-up decision");
  await waitForCounted(setup.d1, "decisions", 1, performance.now() + WARMUP_TIMEOUT_MS).catch((err: unknown) => {
    throw new Error("the queue consumer never wrote the warm-up decision: is the consumer configured?", { cause: err });
  });
}

/**
 * One visitor per two page views, at most MAX_DEFAULT_VISITORS: locally every visitor's object keeps
 * its own SQLite files open while it lives, and with many thousands of live objects workerd reaches this
 * machine's limit of open files (20,000) and fails them with SQLITE_CANTOPEN (seen in a 200,000-event
 * run); in production the objects live on many machines.
 */
const MAX_DEFAULT_VISITORS = 5_000;
const defaultVisitors = (pageViews: number) => Math.min(MAX_DEFAULT_VISITORS, Math.max(1, Math.ceil(pageViews / 2)));

type Run = {
  held: boolean;
  shape: EventShape;
  pageViews: number;
  decideS: number;
  decideErrors: string[];
  enqueueS: number;
  totalS: number;
  foreignCpu: number | undefined;
};

/** Decides every page view, waits for their decisions, then enqueues and polls D1 at once, both timed from the first send. */
async function measure(setup: Setup, options: ConsumerBenchOptions): Promise<{ run: Run; plan: Plan }> {
  const pageViews = Math.ceil(options.events / EVENTS_PER_PAGE_VIEW);
  const cookies = await visitorCookies(options.visitors ?? defaultVisitors(pageViews), setup.signingKey);
  const before = cpuSnapshot();
  const decideStarted = performance.now();
  const decideErrors: string[] = [];
  const views = await decidePageViews(setup.url, cookies, pageViews, setup.signingKey, CONCURRENCY, decideErrors);
  const decideS = (performance.now() - decideStarted) / 1000;
  await waitForCounted(setup.d1, "decisions", pageViews + 1, performance.now() + options.timeoutS * 1000);
  const plan = planPageViewEvents(views, randomBytes(6).toString("hex"), options.shape);
  await bench(setup, `/__bench/redeliver?batches=${options.redeliver}`, "POST");
  if (options.held) await bench(setup, "/__bench/hold", "POST");
  const started = performance.now();
  const deadline = started + options.timeoutS * 1000;
  const [enqueued, drained] = await Promise.all([
    enqueueAll(setup.url, setup.visitor.cookie, plan, CONCURRENCY, deadline).then(async (at) => {
      if (options.held) await bench(setup, "/__bench/release", "POST");
      return at;
    }),
    waitForCounted(setup.d1, "events", plan.events, deadline),
  ]);
  return {
    plan,
    run: {
      held: options.held,
      shape: options.shape,
      pageViews,
      decideS,
      decideErrors,
      enqueueS: (enqueued - started) / 1000,
      totalS: (drained - started) / 1000,
      foreignCpu: foreignCpuShare(before, cpuSnapshot()),
    },
  };
}

const isExact = (plan: Plan, totals: RollupTotals) =>
  totals.impressions === plan.sent.impressions && totals.clicks === plan.sent.clicks && totals.conversions === 0 && totals.dismissals === 0;

/** The log holds every accepted event once (DuckDB, one row per kind and id), and the aggregates count what the log holds. */
function logCheck(plan: Plan, totals: RollupTotals, log: LogCounts) {
  const d = log.distinct;
  const rows = { decisions: d.decision ?? 0, impressions: d.impression ?? 0, clicks: d.click ?? 0 };
  return {
    ...rows,
    fileRows: log.fileRows,
    files: log.files,
    eventsEqualAccepted: rows.impressions === plan.sent.impressions && rows.clicks === plan.sent.clicks && !d.conversion && !d.dismiss,
    aggregatesEqualLog: totals.decisions === rows.decisions && totals.impressions === rows.impressions && totals.clicks === rows.clicks,
  };
}

function perPageView(counts: Counts, pageViews: number, ledgerDays: number) {
  const consumer = counts.d1.queue;
  const growth = counts.d1Size !== null && counts.d1SizeAtReset !== null ? counts.d1Size - counts.d1SizeAtReset : null;
  return {
    /** Statements the consumer sent to D1, all tables (its writes and its revocation reads). */
    d1Statements: round(consumer.statements / pageViews, 3),
    d1StatementsByTable: Object.fromEntries(Object.entries(consumer.byTable).map(([t, n]) => [t, round(n / pageViews, 3)])),
    d1RowsWritten: round(consumer.rowsWritten / pageViews, 2),
    /** Growth of the database file per page view, as D1 reports its size (what fills the 10 GB). */
    d1BytesWritten: growth === null ? null : round(growth / pageViews, 1),
    /**
     * The page views a day at which D1 fills, its growth being held `ledgerDays` (the ledger
     * forgets older days; the aggregates grow per key and day, not per page view, so counting
     * them here makes the figure low, not high).
     */
    d1FullAtPageViewsPerDay: growth === null || growth <= 0 ? null : Math.round(D1_MAX_BYTES / ((growth / pageViews) * ledgerDays)),
    ledgerDays,
    r2ClassA: round(counts.r2.classA / pageViews, 3),
    r2ClassB: round(counts.r2.classB / pageViews, 3),
    queueMessages: round(counts.queue.messagesSent / pageViews, 2),
  };
}

function figures(plan: Plan, run: Run, totals: RollupTotals, log: LogCounts, setup: Setup, counts: Counts) {
  const perPage = perPageView(counts, run.pageViews, setup.ledgerDays);
  return {
    /** How the events were sent: 100 to a request (`relay`) or as the script tag's beacons. */
    shape: run.shape,
    consumerEventsPerSec: round(plan.events / run.totalS),
    /** With `--held`: the consumer alone, from the release of the queued events until the last was counted. */
    consumerAloneEventsPerSec: run.held ? round(plan.events / (run.totalS - run.enqueueS)) : null,
    enqueueEventsPerSec: round(plan.events / run.enqueueS),
    decisionsPerSec: round(run.pageViews / run.decideS),
    /** Decisions answered with an error (and asked again): the first few, with how many there were. */
    decideErrors: { count: run.decideErrors.length, first: [...new Set(run.decideErrors)].slice(0, 3) },
    events: plan.events,
    pageViews: run.pageViews,
    seconds: round(run.totalS, 3),
    enqueueSeconds: round(run.enqueueS, 3),
    /** From the last accepted request until the last event was written: the consumer's backlog. */
    drainSeconds: round(run.totalS - run.enqueueS, 3),
    perPageView: perPage,
    /** The log and aggregates' operations at list prices (scripts/bench/cost.ts), per million decisions (page views). */
    costPerMillionDecisions: dataPlaneCostPerMillionDecisions(perPage),
    redeliveredMessages: counts.queue.redelivered,
    /** /v1/events requests that answered a 500 (Miniflare's entry worker) and were sent again. */
    eventRequestsResent: resent.length,
    consumerBatches: counts.queue.batches,
    exact: isExact(plan, totals),
    log: logCheck(plan, totals, log),
    sent: plan.sent,
    rollups: totals,
    batchSize: setup.consumer.maxBatchSize ?? null,
    batchTimeoutS: setup.consumer.maxBatchTimeout ?? null,
    requests: plan.requests.length,
    concurrency: CONCURRENCY,
    rateLimiters: "not configured",
    node: process.version,
    cpus: availableParallelism(),
    foreignCpuPct: run.foreignCpu === undefined ? null : round(run.foreignCpu * 100, 1),
  };
}
type Figures = ReturnType<typeof figures>;

function report(f: Figures): void {
  if (f.foreignCpuPct !== null && f.foreignCpuPct > 10) {
    say(`WARNING: other processes used ${f.foreignCpuPct}% of the CPUs during the run: its figures are low and noisy`);
  }
  const p = f.perPageView;
  say(
    `${label("consumer")}${f.consumerEventsPerSec} events/s end to end (${f.events} events in ${f.seconds} s, sent as ${f.shape === "beacons" ? "the tag's beacons" : "100 to a request"})`,
  );
  say(`${label("enqueue")}${f.enqueueEventsPerSec} events/s accepted by /v1/events (${f.requests} requests in ${f.enqueueSeconds} s)`);
  say(`${label("drain")}${f.drainSeconds} s from the last accepted request until the last event was written`);
  if (f.consumerAloneEventsPerSec !== null)
    say(
      `${label("consumer alone")}${f.consumerAloneEventsPerSec} events/s: every event queued with the consumer held, then released (the end-to-end figure above includes the wait)`,
    );
  say(
    `${label("decide")}${f.decisionsPerSec} decisions/s (${f.pageViews} page views, ${f.decideErrors.count} answered with an error and asked again)`,
  );
  for (const error of f.decideErrors.first) say(`${label("")}decide error: ${error}`);
  say(
    `${label("per page view")}D1: ${p.d1Statements} statements, ${p.d1RowsWritten} rows written, ${p.d1BytesWritten ?? "?"} bytes; R2: ${p.r2ClassA} class A, ${p.r2ClassB} class B; ${p.queueMessages} queue messages`,
  );
  say(`${label("D1 by table")}${JSON.stringify(p.d1StatementsByTable)}`);
  if (p.d1FullAtPageViewsPerDay !== null)
    say(
      `${label("D1 capacity")}${p.d1BytesWritten} bytes per page view held ${p.ledgerDays} days (the ledger's window, LEDGER_DAYS): D1's 10 GB is full at ${p.d1FullAtPageViewsPerDay.toLocaleString("en-US")} page views a day`,
    );
  say(
    `${label("redelivered")}${f.redeliveredMessages} messages delivered again after a failed invocation; ${f.eventRequestsResent} event requests sent again after a 500`,
  );
  const check = `impressions ${f.rollups.impressions}/${f.sent.impressions}, clicks ${f.rollups.clicks}/${f.sent.clicks}`;
  say(`${label("aggregates")}${f.exact ? "exact" : "NOT EXACT"}: ${check}, decisions ${f.rollups.decisions}`);
  const l = f.log;
  say(
    `${label("log (DuckDB)")}${l.eventsEqualAccepted ? "every accepted event once" : "NOT EQUAL to the accepted events"}: impressions ${l.impressions}, clicks ${l.clicks}, decisions ${l.decisions}; ${l.fileRows} rows in ${l.files} files (copies from redelivered batches read once)`,
  );
  say(`${label("aggregates = log")}${l.aggregatesEqualLog ? "yes" : "NO"} (decisions, impressions, clicks counted by DuckDB over the log)`);
  const c = f.costPerMillionDecisions;
  say(
    `${label("cost")}$${c.totalUsd} per million decisions: D1 $${c.d1Usd}, R2 $${c.r2Usd}, queue $${c.queueUsd} (list prices, scripts/bench/cost.ts)`,
  );
}

async function main(): Promise<boolean> {
  const options = parseConsumerBenchArgs(process.argv.slice(2));
  say(
    `edge-personalizer consumer bench: node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "?"}), ${options.events} events`,
  );
  const stateDir = options.stateDir ?? join(OUT, "state");
  say(`${label("state")}${stateDir} (the local stores' SQLite files)`);
  const setup = await start(stateDir);
  try {
    const { maxBatchSize, maxBatchTimeout, maxRetries } = setup.consumer;
    say(
      `${label("queue")}${setup.consumer.queue}: batches of ${maxBatchSize}, ${maxBatchTimeout} s timeout, ${maxRetries} retries; ${RATE_LIMITER_NOTE}`,
    );
    await warmUp(setup);
    await bench(setup, "/__bench/reset", "POST");
    const { run, plan } = await measure(setup, options);
    const counts = await bench(setup, "/__bench/counts");
    const totals = await rollupTotals(setup.d1, BENCH_SITE);
    const f = figures(plan, run, totals, await countLog(setup.mf, BENCH_SITE), setup, counts);
    report(f);
    if (options.json) say(JSON.stringify(f));
    return f.exact && f.log.eventsEqualAccepted && f.log.aggregatesEqualLog;
  } finally {
    await stopWorkerd(setup.mf);
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err).slice(0, 4000);
  const text = (err.stack ?? err.message).slice(0, 4000);
  return err.cause === undefined ? text : `${text}\ncaused by: ${describe(err.cause)}`;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping workerd\n`);
    void stopAllWorkerd().finally(() => process.exit(130));
  });
}

main().then(
  // Inexact aggregates or log are a broken consumer, not a slow one: the figures are printed, and the exit code says so.
  (exact) => process.exit(exact ? 0 : 1),
  async (err: unknown) => {
    process.stderr.write(`bench:consumer failed: ${describe(err)}\n`);
    await stopAllWorkerd();
    process.exit(1);
  },
);
