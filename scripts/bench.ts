/**
 * Benchmarks the production bundle on workerd: `npm run bench -- [--duration S] [--connections N] [--quick] [--json]`.
 *
 * 1. builds the bundle as `wrangler deploy` would and measures its upload size;
 * 2. seeds D1/KV state, then times a fresh workerd process to its first decision (and first model decision);
 * 3. loads `/health/live` (the baseline) and `/v1/decide` with autocannon on workerd's own socket
 *    (the `wrangler dev` proxy would cap every route at its own limit);
 *    and the edge-rewriting route against the same origin page served plainly; each route's
 *    throughput and latency, and workerd's CPU time per request;
 * 4. loads /demo/tag in Chromium and times navigation start to filled slots, against the same page
 *    without the tag (skipped when Debian's chromium is missing);
 * 5. times one batched `score()` of 1/50/200 candidates inside workerd through a harness worker;
 * 6. counts every binding call of decisions and page views through a counting entry
 *    (bench/counting-worker.ts): remote calls on a decision's critical path, D1 queries per
 *    decision, and the cost of a page view at Cloudflare's list prices (bench/prices.ts).
 *
 * Targets are informational: the script exits 0 unless something is broken. With `--json`, the
 * last line of stdout is one JSON object of the figures.
 */
import { readFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { type BenchOptions, parseBenchArgs } from "./bench/args";
import { type Bundle, buildBundle } from "./bench/bundle";
import { CHROMIUM, chromiumAvailable } from "./bench/chromium";
import { type ColdStart, measureColdStart } from "./bench/cold";
import { inferMicrosPerRun } from "./bench/infer";
import { type DecisionTally, decisionTally, type LoadResult, loadTest } from "./bench/load";
import { cpuSnapshot, foreignCpuShare } from "./bench/machine";
import { measureOperations, type Operations } from "./bench/operations";
import { measurePageTimings, type PageTimings } from "./bench/page-timing";
import { PRICES_READ_ON } from "./bench/prices";
import {
  DECIDE_BODY,
  DECIDE_PATH,
  decideHeaders,
  EDGE_PAGE_PATH,
  HELLO_PATH,
  ORIGIN_PAGE_PATH,
  TAG_PAGE_PATH,
  TAG_PATH,
} from "./bench/requests";
import { type BenchVisitor, seedBenchState } from "./bench/seed-state";
import { round } from "./bench/stats";
import {
  type LogSink,
  type Miniflare,
  miniflareOptions,
  readWranglerConfig,
  startWorkerd,
  stderrLogSink,
  stopAllWorkerd,
  stopWorkerd,
  throwawaySecrets,
  type WranglerConfig,
} from "./bench/workerd";

const OUT = "bench-out";
const MiB = 1024 * 1024;
const TARGETS = {
  tagGzipBytes: 3 * 1024,
  ratio: 0.5,
  decideP99Ms: 25,
  inferUsPer50: 150,
  bundleGzipBytes: 10 * MiB,
  freePlanGzipBytes: 3 * MiB,
  remoteCalls: { identified: 1, anonymous: 0 },
  costPerMillionUsd: 2,
};
/** Cloudflare sets `request.cf`; locally it is fixed so that every decision sees the same context. */
const BENCH_CF = { country: "JP", timezone: "Asia/Tokyo", colo: "NRT" };

/**
 * Runs a phase and reports what share of the machine's CPU other processes took meanwhile: the load
 * generator and workerd share these CPUs, so anything else running lowers every figure.
 */
async function observed<T>(phase: () => Promise<T>): Promise<{ result: T; foreignCpu: number | undefined }> {
  const before = cpuSnapshot();
  const result = await phase();
  return { result, foreignCpu: foreignCpuShare(before, cpuSnapshot()) };
}

const FOREIGN_CPU_WARNING = 0.1;

function warnIfBusy(phase: string, foreignCpu: number | undefined): void {
  if (foreignCpu !== undefined && foreignCpu > FOREIGN_CPU_WARNING) {
    say(`WARNING: other processes used ${(foreignCpu * 100).toFixed(0)}% of the CPUs during ${phase}: its figures are low and noisy`);
  }
}

/** Runs `use` with a workerd that is stopped afterwards, whatever happens. */
async function withWorkerd<T>(mf: Miniflare, use: (mf: Miniflare) => Promise<T>): Promise<T> {
  try {
    return await use(mf);
  } finally {
    await stopWorkerd(mf);
  }
}

const say = (line: string) => console.log(line);
const percentOrNull = (share: number | undefined) => (share === undefined ? null : round(share * 100, 1));
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const label = (name: string) => name.padEnd(18);

/** The production bundle, and the harness and counting workers built with the same wrangler.toml rules. */
function buildBundles(config: WranglerConfig): { app: Bundle; infer: Bundle; counting: Bundle } {
  const app = buildBundle(config.main, join(OUT, "bundle"));
  const infer = buildBundle("scripts/bench/infer-worker.ts", join(OUT, "infer"));
  const counting = buildBundle("scripts/bench/counting-worker.ts", join(OUT, "counting"));
  return { app, infer, counting };
}

function reportBundle(bundle: Bundle): void {
  const gzip = bundle.gzipBytes;
  say(
    `${label("bundle")}${mb(bundle.rawBytes)} raw, ${mb(gzip)} gzip = ${(gzip / MiB).toFixed(2)} MiB (wrangler: ${bundle.wranglerGzipKiB ?? "?"} KiB)` +
      `   ${verdict(gzip <= TARGETS.bundleGzipBytes)} ≤ 10 MiB paid, ${verdict(gzip <= TARGETS.freePlanGzipBytes)} ≤ 3 MiB free`,
  );
  const gz = (path: string) => gzipSync(readFileSync(path), { level: 9 }).byteLength;
  say(
    `${label("console script")}${gz("worker/http/console/assets/console.client.js")} bytes gzip as served, + uPlot ${gz("node_modules/uplot/dist/uPlot.iife.min.js")}`,
  );
}

/** Seeds D1 and KV in a throwaway workerd whose state directory the measured one then reuses. */
async function seedState(
  app: Bundle,
  config: WranglerConfig,
  secrets: ReturnType<typeof throwawaySecrets>,
  stateDir: string,
  logs: LogSink,
) {
  rmSync(stateDir, { recursive: true, force: true });
  const mf = startWorkerd(miniflareOptions({ bundle: app, config, secrets, stateDir, cf: BENCH_CF, logs }));
  return withWorkerd(mf, async (seeding) => seedBenchState(seeding, await seeding.ready, secrets));
}

function reportCold(cold: ColdStart): void {
  const fallback = cold.first.fallbacks.length > 0 ? `, fallback ${cold.first.fallbacks.join("+")}` : "";
  say(
    `${label("cold start")}${round(cold.coldStartMs)} ms to the first decision = ${round(cold.readyMs)} ms workerd start + ` +
      `${round(cold.firstRequestMs)} ms first request (${cold.first.mode}: ${cold.first.modeReason}${fallback})`,
  );
  say(`${label("")}${round(cold.coldModelMs)} ms to the first model decision (${cold.attempts} request${cold.attempts === 1 ? "" : "s"})`);
}

type Load = {
  hello: LoadResult;
  decide: LoadResult;
  decideTally: DecisionTally;
  anon: LoadResult;
  anonTally: DecisionTally;
  passThrough: LoadResult;
  rewrite: LoadResult;
  foreignCpu: number | undefined;
};

/**
 * Three routes, one after another on the same warm workerd: the hello baseline, decide for
 * identified visitors (LOAD_VISITORS of them in turn, each with a profile: one call to that
 * visitor's Durable Object per request) and decide for an anonymous visitor (the model on context
 * only, no per-request storage), which separates the model's cost from the local storage
 * simulators'.
 */
async function runLoad(url: URL, visitor: BenchVisitor, options: BenchOptions): Promise<Load> {
  const timing = { warmupS: options.warmupS, durationS: options.durationS };
  const connections = options.connections;
  const decideSpec = (cookies: readonly string[] = []) => {
    let next = 0;
    return {
      url: new URL(DECIDE_PATH, url).href,
      connections,
      method: "POST" as const,
      headers: decideHeaders(),
      body: DECIDE_BODY,
      // Each request as the next visitor in turn, so that concurrent requests meet different objects.
      ...(cookies.length > 0
        ? {
            requests: [
              {
                setupRequest: (r: { headers?: Record<string, string> }) => ({
                  ...r,
                  headers: { ...r.headers, cookie: cookies[next++ % cookies.length] as string },
                }),
              },
            ],
          }
        : {}),
    };
  };
  const decideTally = decisionTally("personalized");
  const anonTally = decisionTally("contextual");
  const { result, foreignCpu } = await observed(async () => ({
    hello: await loadTest({ url: new URL(HELLO_PATH, url).href, connections }, timing),
    decide: await loadTest(decideSpec(visitor.loadCookies), timing, decideTally.verify),
    anon: await loadTest(decideSpec(), timing, anonTally.verify),
    // The edge-rewriting route against the same origin page served plainly, in the same run.
    passThrough: await loadTest({ url: new URL(ORIGIN_PAGE_PATH, url).href, connections }, timing),
    rewrite: await loadTest({ url: new URL(EDGE_PAGE_PATH, url).href, connections, headers: decideHeaders() }, timing),
  }));
  return { ...result, decideTally, anonTally, foreignCpu };
}

function loadLine(name: string, r: LoadResult): string {
  return `${label(name)}${round(r.rps)} req/s   p50 ${r.p50Ms.toFixed(2)} ms   p99 ${r.p99Ms.toFixed(2)} ms   (${r.requests} requests, ${r.non2xx} non-2xx, ${r.errors} errors)`;
}

function checkLine(r: LoadResult, tally: DecisionTally): string {
  const ok = r.requests - r.mismatches;
  const warning =
    r.mismatches > 0 || r.non2xx > 0 || r.errors > 0 ? `   WARNING: not every answer was a 2xx ${tally.expectedMode} model decision` : "";
  return `${label("")}${ok}/${r.requests} ${tally.expectedMode} by the model; modes ${JSON.stringify(tally.modes)}, reasons ${JSON.stringify(tally.reasons)}${warning}`;
}

/**
 * The ratios by workerd's CPU time per request rather than by throughput (the time the machine's
 * other processes take is not in it; on this shared machine it still moves by a quarter or more
 * between runs, as req/s does, so compare figures of the same run).
 */
function cpuRatios({ hello, decide, anon }: Load) {
  const [h, d, a] = [hello.cpuMsPerRequest, decide.cpuMsPerRequest, anon.cpuMsPerRequest];
  if (h === undefined || d === undefined || a === undefined || d === 0 || a === 0) return null;
  return { hello: round(h, 3), decide: round(d, 3), anonymous: round(a, 3), ratio: round(h / d, 3), anonRatio: round(h / a, 3) };
}

function reportLoad(load: Load): void {
  const { hello, decide, decideTally, anon, anonTally, passThrough, rewrite, foreignCpu } = load;
  warnIfBusy("the load tests", foreignCpu);
  say(loadLine("hello", hello));
  say(`${loadLine("decide", decide)}   ${verdict(decide.p99Ms <= TARGETS.decideP99Ms)} p99 ≤ ${TARGETS.decideP99Ms} ms`);
  say(checkLine(decide, decideTally));
  const ratio = decide.rps / hello.rps;
  say(`${label("ratio")}decide/hello = ${ratio.toFixed(2)}   ${verdict(ratio >= TARGETS.ratio)} ≥ ${TARGETS.ratio}`);
  const cpu = cpuRatios(load);
  if (cpu)
    say(
      `${label("")}by workerd's CPU time per request: hello ${cpu.hello} ms, decide ${cpu.decide} ms, anonymous ${cpu.anonymous} ms; hello/decide = ${cpu.ratio}, hello/anonymous = ${cpu.anonRatio}`,
    );
  say(loadLine("decide anonymous", anon));
  say(checkLine(anon, anonTally));
  say(
    `${label("")}anonymous/hello = ${(anon.rps / hello.rps).toFixed(2)} (no call to a visitor's object; the queued event leaves after the answer)`,
  );
  say(loadLine("origin page", passThrough));
  say(loadLine("edge rewrite", rewrite));
  say(
    `${label("")}rewrite/pass-through = ${(rewrite.rps / passThrough.rps).toFixed(2)} (one decision per page, slots filled while streaming)`,
  );
}

/** Time to filled slots in Chromium, or null (with the reason said) when there is no Chromium. */
async function runPageTimings(url: URL, visitor: BenchVisitor, options: BenchOptions): Promise<PageTimings | null> {
  if (!chromiumAvailable()) {
    say(`${label("tag in Chromium")}skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
    return null;
  }
  const paths = { tagPath: TAG_PAGE_PATH, plainPath: ORIGIN_PAGE_PATH };
  const { result, foreignCpu } = await observed(() => measurePageTimings(url, paths, visitor.cookie, options.pageLoads));
  warnIfBusy("the Chromium page loads", foreignCpu);
  return result;
}

const ms = (d: { medianMs: number; p95Ms: number }) => `median ${d.medianMs.toFixed(0)} ms, p95 ${d.p95Ms.toFixed(0)} ms`;

function reportPageTimings(t: PageTimings): void {
  say(`${label("tag page")}navigation start to every slot filled: ${ms(t.filled)} (${t.loads} loads, personalized visitor)`);
  say(`${label("")}its decide request: ${ms(t.decide)}; ${t.overDefaultTimeout}/${t.loads} over the default 300 ms timeout`);
  say(`${label("page without tag")}first contentful paint: ${ms(t.plainPaint)}; DOMContentLoaded: ${ms(t.plainContentLoaded)}`);
  say(`${label("")}filled slots/first paint without the tag = ${(t.filled.medianMs / t.plainPaint.medianMs).toFixed(2)} (medians)`);
}

/** The tag as the worker serves it, gzip level 9: what a visitor downloads. */
async function servedTagGzipBytes(url: URL): Promise<number> {
  const res = await fetch(new URL(TAG_PATH, url));
  if (!res.ok) throw new Error(`${TAG_PATH}: HTTP ${res.status}`);
  return gzipSync(Buffer.from(await res.arrayBuffer()), { level: 9 }).byteLength;
}

type Infer = { per1: number; per50: number; per200: number; foreignCpu: number | undefined };

/** µs per score() for batches of 1, 50 and 200 candidates, in a workerd running the harness worker alone. */
async function runInfer(infer: Bundle, config: WranglerConfig, options: BenchOptions, logs: LogSink): Promise<Infer> {
  const mf = startWorkerd(miniflareOptions({ bundle: infer, config, secrets: {}, logs }));
  return withWorkerd(mf, async (harness) => {
    const url = await harness.ready;
    const measure = (batch: number) => inferMicrosPerRun(url, batch, options.inferRuns, options.inferRepeats);
    const { result, foreignCpu } = await observed(async () => ({
      per50: await measure(50),
      per1: await measure(1),
      per200: await measure(200),
    }));
    return { ...result, foreignCpu };
  });
}

type Served = { load: Load; pages: PageTimings | null; tagGzipBytes: number };

const usd = (n: number) => `$${n.toFixed(n < 0.01 ? 4 : 3)}`;

function reportOperations(ops: Operations): void {
  const { remoteCallsPerDecision: calls, remoteCallsAfterAnswerPerDecision: after, d1QueriesPerDecision: d1 } = ops;
  say(
    `${label("remote calls")}per decision before the answer: identified ${calls.identified} ${JSON.stringify(ops.identifiedCriticalPath)}, anonymous ${calls.anonymous}` +
      `   ${verdict(calls.identified <= TARGETS.remoteCalls.identified && calls.anonymous <= TARGETS.remoteCalls.anonymous)} ≤ 1 / 0`,
  );
  say(`${label("")}after the answer: identified ${after.identified}, anonymous ${after.anonymous} (the queued event, caps' counts)`);
  say(
    `${label("D1 queries")}per decision: identified ${d1.identified}, anonymous ${d1.anonymous}   ${verdict(d1.identified + d1.anonymous === 0)} 0 warm`,
  );
  const { total, storageAndQueue, breakdown } = ops.costPerMillionDecisionsUsd;
  say(
    `${label("cost")}${usd(total)} per million page views (1 decision + 3 events; list prices of ${PRICES_READ_ON})   ${verdict(total <= TARGETS.costPerMillionUsd)} ≤ $${TARGETS.costPerMillionUsd}`,
  );
  say(
    `${label("")}${usd(storageAndQueue)} of it without Workers requests and CPU (D1, KV, Durable Objects, queue, R2: the operations the data plane's cost model prices)   ${verdict(storageAndQueue <= TARGETS.costPerMillionUsd)} ≤ $${TARGETS.costPerMillionUsd}`,
  );
  const parts = Object.entries(breakdown)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${usd(v)} (${ops.perPageView[k as keyof typeof ops.perPageView]}/view)`);
  say(`${label("")}${parts.join(", ")}`);
  const { batches, windowS } = ops.consumerBatches;
  say(
    `${label("")}the page views' events in ${batches} consumer batches (${windowS} s window): what a batch writes once is shared by ${round(ops.pageViews / Math.max(1, batches), 1)} page views`,
  );
}

function figures(
  options: BenchOptions,
  bundle: Bundle,
  cold: ColdStart,
  { load, pages, tagGzipBytes }: Served,
  infer: Infer,
  ops: Operations,
) {
  const { hello, decide, anon, passThrough, rewrite } = load;
  const ratio = decide.rps / hello.rps;
  return {
    decideRps: round(decide.rps),
    helloRps: round(hello.rps),
    ratio: round(ratio, 3),
    decideP50Ms: round(decide.p50Ms, 2),
    decideP99Ms: round(decide.p99Ms, 2),
    helloP50Ms: round(hello.p50Ms, 2),
    helloP99Ms: round(hello.p99Ms, 2),
    decideAnonRps: round(anon.rps),
    decideAnonP50Ms: round(anon.p50Ms, 2),
    decideAnonP99Ms: round(anon.p99Ms, 2),
    anonRatio: round(anon.rps / hello.rps, 3),
    cpuPerRequest: cpuRatios(load),
    coldStartMs: round(cold.coldStartMs),
    coldReadyMs: round(cold.readyMs),
    coldFirstRequestMs: round(cold.firstRequestMs),
    coldModelMs: round(cold.coldModelMs),
    coldFirstMode: cold.first.mode,
    coldFirstFallbacks: cold.first.fallbacks,
    bundleGzipBytes: bundle.gzipBytes,
    tagGzipBytes,
    passThroughRps: round(passThrough.rps),
    rewriteRps: round(rewrite.rps),
    rewriteRatio: round(rewrite.rps / passThrough.rps, 3),
    /** Chromium: navigation start to filled slots on /demo/tag, and the same page's first paint without the tag. */
    tagFilledMedianMs: pages ? round(pages.filled.medianMs, 1) : null,
    tagFilledP95Ms: pages ? round(pages.filled.p95Ms, 1) : null,
    tagDecideMedianMs: pages ? round(pages.decide.medianMs, 1) : null,
    plainPaintMedianMs: pages ? round(pages.plainPaint.medianMs, 1) : null,
    plainPaintP95Ms: pages ? round(pages.plainPaint.p95Ms, 1) : null,
    plainContentLoadedMedianMs: pages ? round(pages.plainContentLoaded.medianMs, 1) : null,
    filledToPaintRatio: pages ? round(pages.filled.medianMs / pages.plainPaint.medianMs, 2) : null,
    pageLoads: pages?.loads ?? 0,
    bundleRawBytes: bundle.rawBytes,
    inferUsPer1: round(infer.per1, 1),
    inferUsPer50: round(infer.per50, 1),
    inferUsPer200: round(infer.per200, 1),
    remoteCallsPerDecision: ops.remoteCallsPerDecision,
    remoteCallsAfterAnswerPerDecision: ops.remoteCallsAfterAnswerPerDecision,
    d1QueriesPerDecision: ops.d1QueriesPerDecision,
    costPerMillionDecisionsUsd: { ...ops.costPerMillionDecisionsUsd, pricesReadOn: PRICES_READ_ON },
    operationsPerPageView: ops.perPageView,
    consumerBatches: ops.consumerBatches,
    decideRequests: decide.requests,
    decideNon2xx: decide.non2xx,
    decideErrors: decide.errors,
    decideNotPersonalized: decide.mismatches,
    decideModes: load.decideTally.modes,
    decideAnonNon2xx: anon.non2xx,
    decideAnonNotContextual: anon.mismatches,
    helloNon2xx: hello.non2xx,
    connections: options.connections,
    durationS: options.durationS,
    quick: options.quick,
    node: process.version,
    cpus: availableParallelism(),
    /** Share of all CPUs that other processes used while this run measured: high means low, noisy figures. */
    foreignCpuPct: { load: percentOrNull(load.foreignCpu), infer: percentOrNull(infer.foreignCpu) },
    pass: {
      ratio: ratio >= TARGETS.ratio,
      decideP99Ms: decide.p99Ms <= TARGETS.decideP99Ms,
      inferUsPer50: infer.per50 <= TARGETS.inferUsPer50,
      bundleGzipBytes: bundle.gzipBytes <= TARGETS.bundleGzipBytes,
      tagGzipBytes: tagGzipBytes <= TARGETS.tagGzipBytes,
      remoteCallsPerDecision:
        ops.remoteCallsPerDecision.identified <= TARGETS.remoteCalls.identified &&
        ops.remoteCallsPerDecision.anonymous <= TARGETS.remoteCalls.anonymous,
      costPerMillionDecisionsUsd: ops.costPerMillionDecisionsUsd.total <= TARGETS.costPerMillionUsd,
      storageAndQueueUsd: ops.costPerMillionDecisionsUsd.storageAndQueue <= TARGETS.costPerMillionUsd,
    },
  };
}

async function main(): Promise<void> {
  const options = parseBenchArgs(process.argv.slice(2));
  say(
    `edge-personalizer bench: node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model ?? "?"}), ` +
      `${options.connections} connections, ${options.durationS} s per route after ${options.warmupS} s warm-up${options.quick ? " (quick)" : ""}`,
  );

  const config = await readWranglerConfig();
  const bundles = buildBundles(config);
  reportBundle(bundles.app);

  const secrets = throwawaySecrets();
  const logs = stderrLogSink("workerd");
  const stateDir = join(OUT, "state");
  const visitor = await seedState(bundles.app, config, secrets, stateDir, logs);

  const cold = await measureColdStart(
    miniflareOptions({ bundle: bundles.app, config, secrets, stateDir, cf: BENCH_CF, logs }),
    visitor.cookie,
  );
  reportCold(cold);
  const served = await withWorkerd(cold.mf, async () => {
    const load = await runLoad(cold.url, visitor, options);
    reportLoad(load);
    const pages = await runPageTimings(cold.url, visitor, options);
    if (pages) reportPageTimings(pages);
    return { load, pages, tagGzipBytes: await servedTagGzipBytes(cold.url) };
  });
  say(
    `${label("script tag")}${served.tagGzipBytes} bytes gzip as served   ${verdict(served.tagGzipBytes <= TARGETS.tagGzipBytes)} ≤ 3 KB, hard limit 5 KB`,
  );

  const infer = await runInfer(bundles.infer, config, options, logs);
  warnIfBusy("the infer timing", infer.foreignCpu);
  say(
    `${label("infer")}score() of 1 / 50 / 200 candidates: ${round(infer.per1)} / ${round(infer.per50)} / ${round(infer.per200)} µs per call` +
      `   ${verdict(infer.per50 <= TARGETS.inferUsPer50)} 50 ≤ ${TARGETS.inferUsPer50} µs`,
  );
  const ops = await measureOperations(
    miniflareOptions({ bundle: bundles.counting, config, secrets, stateDir, cf: BENCH_CF, logs }),
    config,
    secrets,
    options.countedViews,
  );
  reportOperations(ops);
  if (logs.errors > 0) say(`${label("runtime")}${logs.errors} warning/error lines from workerd (see stderr)`);
  if (options.json) say(JSON.stringify(figures(options, bundles.app, cold, served, infer, ops)));
}

/** An error and its causes, each cut short: drizzle puts whole queries and their parameters in messages. */
function describe(err: unknown, depth = 0): string {
  if (!(err instanceof Error)) return String(err).slice(0, 4000);
  const text = (err.stack ?? err.message).slice(0, 4000);
  return err.cause !== undefined && depth < 3 ? `${text}\ncaused by: ${describe(err.cause, depth + 1)}` : text;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping workerd\n`);
    void stopAllWorkerd().finally(() => process.exit(130));
  });
}

main().then(
  // autocannon and undici can keep sockets open for a while after the last run; nothing is left to wait for.
  () => process.exit(0),
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${describe(err)}\n`);
    await stopAllWorkerd();
    process.exit(1);
  },
);
