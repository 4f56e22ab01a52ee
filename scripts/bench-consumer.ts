/**
 * Benchmarks the queue consumer's throughput into D1, end to end through a local queue:
 * `npm run bench:consumer -- [--events N] [--timeout S] [--json]`.
 *
 * 1. builds the bundle as `wrangler deploy` would and starts it on workerd with the EVENTS queue's
 *    producer and consumer (batch settings from wrangler.toml), on a fresh, migrated and seeded D1;
 * 2. takes enough decisions for the identified bench visitor (opt-out site: measurement consent)
 *    that N events all count (one impression per shown item and one click each: /v1/events counts
 *    one of each kind per decision and item) and waits until the consumer has written them, so
 *    that the measured run starts on a warm consumer and an empty queue;
 * 3. sends the N impressions and clicks through `POST /v1/events`, 100 per request, as fast as
 *    the worker accepts them, and times from the first send until `SELECT count(*) FROM events`
 *    reaches N;
 * 4. checks that the roll-ups add up to exactly what was sent.
 *
 * The rate-limiting bindings are deliberately not configured (the middleware skips an absent
 * binding): 600 requests a minute would cap the enqueue rate, not measure the consumer.
 * With `--json`, the last line of stdout is one JSON object of the figures.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { buildBundle } from "./bench/bundle";
import { type ConsumerBenchOptions, parseConsumerBenchArgs } from "./bench/consumer-args";
import { type RollupTotals, rollupTotals, waitForRows } from "./bench/d1-watch";
import {
  enqueueAll,
  eventsPerDecision,
  type MeasuredDecision,
  measuredDecision,
  measuredDecisions,
  type Plan,
  planInteractions,
} from "./bench/interactions";
import { cpuSnapshot, foreignCpuShare } from "./bench/machine";
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
/** Requests in flight while enqueueing: enough to keep workerd busy without queueing in the client. */
const ENQUEUE_CONCURRENCY = 8;
/** The warm-up decision waits for at most one batch timeout; this leaves room for a slow first isolate. */
const WARMUP_TIMEOUT_MS = 60_000;
const RATE_LIMITER_NOTE = "rate limiters not configured (the middleware skips absent bindings)";

const say = (line: string) => console.log(line);
const label = (name: string) => name.padEnd(18);

type Setup = { mf: Miniflare; url: URL; d1: D1Database; visitor: BenchVisitor; signingKey: string; consumer: QueueConsumer };

/** Builds the bundle and starts one workerd with the queue's producer and consumer on fresh, seeded state. */
async function start(): Promise<Setup> {
  const config = await readWranglerConfig();
  const consumer = consumerOf(config.queueProducers, await readQueueConsumers(), "EVENTS");
  const bundle = buildBundle(config.main, join(OUT, "bundle"));
  const stateDir = join(OUT, "state");
  rmSync(stateDir, { recursive: true, force: true });
  const secrets = throwawaySecrets();
  const logs = stderrLogSink("workerd");
  const options = miniflareOptions({ bundle, config, secrets, stateDir, logs });
  const mf = startWorkerd(withQueueConsumers(options, [consumer]));
  try {
    const url = await mf.ready;
    const signingKey = secrets.ID_SIGNING_KEY as string;
    const visitor = await seedBenchState(mf, url, secrets);
    return { mf, url, d1: await mf.getD1Database("DB"), visitor, signingKey, consumer };
  } catch (err) {
    await stopWorkerd(mf);
    throw err;
  }
}

/**
 * The decisions' own queue messages are the consumer's first batches: once they are all in D1 the
 * consumer path has run, and the queue is empty when the clock starts.
 */
async function warmUp(setup: Setup, events: number): Promise<MeasuredDecision[]> {
  const first = await measuredDecision(setup.url, setup.visitor.cookie, setup.signingKey);
  const needed = Math.ceil(events / eventsPerDecision(first));
  const rest = await measuredDecisions(setup.url, setup.visitor.cookie, setup.signingKey, needed - 1);
  await waitForRows(setup.d1, "decisions", needed, performance.now() + WARMUP_TIMEOUT_MS).catch((err: unknown) => {
    throw new Error("the queue consumer never wrote the warm-up decisions: is the consumer configured?", { cause: err });
  });
  return [first, ...rest];
}

type Run = { enqueueS: number; totalS: number; foreignCpu: number | undefined };

/** Enqueues and polls D1 at once, both timed from the first send; either failing ends the run. */
async function measure(setup: Setup, plan: Plan, options: ConsumerBenchOptions): Promise<Run> {
  const before = cpuSnapshot();
  const started = performance.now();
  const deadline = started + options.timeoutS * 1000;
  const [enqueued, drained] = await Promise.all([
    enqueueAll(setup.url, setup.visitor.cookie, plan, ENQUEUE_CONCURRENCY, deadline),
    waitForRows(setup.d1, "events", plan.events, deadline),
  ]);
  return { enqueueS: (enqueued - started) / 1000, totalS: (drained - started) / 1000, foreignCpu: foreignCpuShare(before, cpuSnapshot()) };
}

const isExact = (plan: Plan, totals: RollupTotals) =>
  totals.impressions === plan.sent.impressions && totals.clicks === plan.sent.clicks && totals.conversions === 0 && totals.dismissals === 0;

function figures(plan: Plan, run: Run, totals: RollupTotals, setup: Setup, decisions: MeasuredDecision[]) {
  return {
    consumerEventsPerSec: round(plan.events / run.totalS),
    enqueueEventsPerSec: round(plan.events / run.enqueueS),
    events: plan.events,
    seconds: round(run.totalS, 3),
    enqueueSeconds: round(run.enqueueS, 3),
    /** From the last accepted request until the last event was in D1: the consumer's backlog. */
    drainSeconds: round(run.totalS - run.enqueueS, 3),
    exact: isExact(plan, totals),
    sent: plan.sent,
    rollups: totals,
    batchSize: setup.consumer.maxBatchSize ?? null,
    batchTimeoutS: setup.consumer.maxBatchTimeout ?? null,
    eventsPerRequest: plan.requests[0]?.events ?? 0,
    requests: plan.requests.length,
    enqueueConcurrency: ENQUEUE_CONCURRENCY,
    decisions: decisions.length,
    decisionMode: decisions[0]?.mode ?? null,
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
  say(`${label("consumer → D1")}${f.consumerEventsPerSec} events/s end to end (${f.events} events in ${f.seconds} s)`);
  say(`${label("enqueue")}${f.enqueueEventsPerSec} events/s accepted by /v1/events (${f.requests} requests in ${f.enqueueSeconds} s)`);
  say(`${label("drain")}${f.drainSeconds} s from the last accepted request until the last event was in D1`);
  const check = `impressions ${f.rollups.impressions}/${f.sent.impressions}, clicks ${f.rollups.clicks}/${f.sent.clicks}`;
  say(`${label("roll-ups")}${f.exact ? "exact" : "NOT EXACT"}: ${check}`);
}

async function main(): Promise<boolean> {
  const options = parseConsumerBenchArgs(process.argv.slice(2));
  say(
    `edge-personalizer consumer bench: node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "?"}), ${options.events} events`,
  );
  const setup = await start();
  try {
    const { maxBatchSize, maxBatchTimeout, maxRetries } = setup.consumer;
    say(
      `${label("queue")}${setup.consumer.queue}: batches of ${maxBatchSize}, ${maxBatchTimeout} s timeout, ${maxRetries} retries; ${RATE_LIMITER_NOTE}`,
    );
    if (options.events % (maxBatchSize ?? 1) !== 0)
      say(`${label("")}note: the last partial batch waits up to ${maxBatchTimeout} s for the batch timeout`);
    const decisions = await warmUp(setup, options.events);
    const plan = planInteractions(decisions, options.events, randomBytes(6).toString("hex"));
    const run = await measure(setup, plan, options);
    // The roll-up increment commits in the same transaction as its event row: complete once the count is.
    const f = figures(plan, run, await rollupTotals(setup.d1, BENCH_SITE), setup, decisions);
    report(f);
    if (options.json) say(JSON.stringify(f));
    return f.exact;
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
  // Inexact roll-ups are a broken consumer, not a slow one: the figures are printed, and the exit code says so.
  (exact) => process.exit(exact ? 0 : 1),
  async (err: unknown) => {
    process.stderr.write(`bench:consumer failed: ${describe(err)}\n`);
    await stopAllWorkerd();
    process.exit(1);
  },
);
