import { randomUUID } from "node:crypto";
import type { MiniflareOptions } from "miniflare";
import { demoVisitors } from "../seed/demo-data";
import { emptyTally, type Tally } from "./counting";
import { BEACONS_PATH } from "./interactions";
import { descendantsCpuMs } from "./machine";
import { DO_BILLED_GB, type PricedItem, pricePerMillion, QUEUE_OPERATIONS_PER_UNIT } from "./prices";
import { consumerOf, readQueueConsumers, withQueueConsumers } from "./queues";
import { DECIDE_BODY, DECIDE_PATH, decideHeaders } from "./requests";
import { BENCH_SITE, benchCookie, putProfiles, type SeedSecrets } from "./seed-state";
import { round } from "./stats";
import { startWorkerd, stopWorkerd, type WranglerConfig } from "./workerd";

/**
 * What one decision and one page view cost in operations, counted rather than estimated: the
 * worker runs through its counting entry (./counting-worker.ts), whose bindings report every call,
 * on the benchmark's seeded state with its real queue consumer. Decisions run one after another,
 * each for a visitor of its own, on a warm isolate:
 *
 * - per decision, identified and anonymous: the calls made before the answer (the critical path)
 *   and after it (the queued event, the caps' count);
 * - per page view (1 decision and 3 events: two impressions sent together, then a click, as the
 *   script tag sends them, `?delivery=batched`): every operation of the decide and events requests, the consumer's
 *   batches and the visitors' objects, priced at list prices (./prices.ts).
 */

type Bucket = { invocations: number; critical: Tally; after: Tally };
type Counts = Record<string, Bucket>;

export type PerDecision = { identified: number; anonymous: number };
export type Operations = {
  decisions: number;
  remoteCallsPerDecision: PerDecision;
  remoteCallsAfterAnswerPerDecision: PerDecision;
  d1QueriesPerDecision: PerDecision;
  /** The critical path's calls of an identified decision, by binding. */
  identifiedCriticalPath: Record<string, number>;
  pageViews: number;
  /**
   * The consumer's batches for the page views, with the batch window they ran with: what a batch
   * writes once (its aggregates' rows, a bucket, a log file) is shared by its page views, so the
   * page view's figures move with how many page views a batch held.
   */
  consumerBatches: { batches: number; windowS: number };
  perPageView: Record<PricedItem, number>;
  /** `storageAndQueue`: the total without Workers requests and CPU, the operations the data plane's issue prices (D1, KV, Durable Objects, queue, R2). */
  costPerMillionDecisionsUsd: { total: number; storageAndQueue: number; breakdown: Record<PricedItem, number> };
};

const remoteCalls = (t: Tally) =>
  t.d1Queries + t.kvReads + t.kvWrites + t.kvDeletes + t.kvLists + t.queueSends + t.doRequests + t.r2ClassA + t.r2ClassB;

function sum(...tallies: Tally[]): Tally {
  const total = emptyTally();
  for (const t of tallies) for (const key of Object.keys(total) as (keyof Tally)[]) total[key] += t[key];
  return total;
}

async function counts(url: URL, reset = false): Promise<Counts> {
  const res = await fetch(new URL(`/__bench/counts${reset ? "?reset" : ""}`, url));
  if (!res.ok) throw new Error(`counts: HTTP ${res.status}`);
  return (await res.json()) as Counts;
}

/** Waits until the consumer has been idle for a few of its batch timeouts (every queued message handled). */
async function quiet(url: URL, idleMs: number): Promise<void> {
  let last = -1;
  let since = Date.now();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const seen = (await counts(url)).consumer?.invocations ?? 0;
    if (seen !== last) {
      last = seen;
      since = Date.now();
    } else if (Date.now() - since >= idleMs) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the queue consumer did not settle within 120 s");
}

type Decided = { mode: string; decisionId: string; eventToken: string; slots: { slot: string; items: { contentId: string }[] }[] };

async function decide(url: URL, label: string, cookie?: string): Promise<Decided> {
  const res = await fetch(new URL(DECIDE_PATH, url), {
    method: "POST",
    headers: { ...decideHeaders(cookie), "x-bench-count": label },
    body: DECIDE_BODY,
  });
  if (!res.ok) throw new Error(`decide: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as Decided;
}

async function sendEvents(url: URL, d: Decided, kinds: ("impression" | "click")[]): Promise<void> {
  const shown = d.slots.flatMap((s) => s.items.map((i) => ({ slot: s.slot, contentId: i.contentId })));
  const events = kinds.map((type, i) => ({
    eventId: randomUUID(),
    type,
    decisionId: d.decisionId,
    ...(shown[type === "click" ? 0 : i] ?? shown[0]),
    ts: Date.now(),
    eventToken: d.eventToken,
  }));
  // As the script tag sends them: batched with the isolate's other beacons.
  const res = await fetch(new URL(BEACONS_PATH, url), {
    method: "POST",
    headers: { ...decideHeaders(), "x-bench-count": "page-view" },
    body: JSON.stringify({ events }),
  });
  if (res.status !== 202) throw new Error(`events: HTTP ${res.status} ${await res.text()}`);
}

function perPageView(c: Counts, pageViews: number, cpuMs: number | undefined): Record<PricedItem, number> {
  const requests = c["page-view"];
  const consumer = c.consumer;
  const all = sum(requests?.critical ?? emptyTally(), requests?.after ?? emptyTally(), consumer?.critical ?? emptyTally());
  const objects = c.objects?.critical ?? emptyTally();
  const per = (n: number) => n / pageViews;
  return {
    workersRequests: per((requests?.invocations ?? 0) + (consumer?.invocations ?? 0)),
    workersCpuMs: per(cpuMs ?? 0),
    d1RowsRead: per(all.d1RowsRead),
    d1RowsWritten: per(all.d1RowsWritten),
    kvReads: per(all.kvReads),
    kvWrites: per(all.kvWrites),
    kvDeletes: per(all.kvDeletes),
    kvLists: per(all.kvLists),
    doRequests: per(all.doRequests),
    doGbSeconds: per((all.doMs / 1000) * DO_BILLED_GB),
    doRowsRead: per(objects.doRowsRead),
    doRowsWritten: per(objects.doRowsWritten),
    queueOperations: per(all.queueUnits * QUEUE_OPERATIONS_PER_UNIT),
    r2ClassA: per(all.r2ClassA),
    r2ClassB: per(all.r2ClassB),
  };
}

/** The consumer's batch window here: a fifth of the deployed one (wrangler.toml), so that the run waits less for its last batch. */
const BATCH_WINDOW_S = 1;

/**
 * Runs the counting entry (`bundle`, built from ./counting-worker.ts) on `options`' state with
 * the queue consumer, for `n` identified and `n` anonymous decisions and `n` page views.
 */
export async function measureOperations(
  options: MiniflareOptions,
  config: WranglerConfig,
  secrets: SeedSecrets,
  n: number,
): Promise<Operations> {
  const consumer = { ...consumerOf(config.queueProducers, await readQueueConsumers(), "EVENTS"), maxBatchTimeout: BATCH_WINDOW_S };
  const mf = startWorkerd(withQueueConsumers(options, [consumer]));
  try {
    const url = await mf.ready;
    const [demo] = demoVisitors();
    if (!demo) throw new Error("no demo visitor");
    const ids = Array.from({ length: n }, () => randomUUID());
    await putProfiles(
      url,
      secrets,
      ids.map((visitorId) => ({ site: BENCH_SITE, visitorId, profile: demo.profile })),
    );
    const cookies = await Promise.all(ids.map((id) => benchCookie(id, secrets.ID_SIGNING_KEY)));

    // A warm isolate: the model loaded (a cold one answers with editor defaults meanwhile).
    for (let i = 0; (await decide(url, "warm-up", cookies[0])).mode !== "personalized"; i++) {
      if (i > 120) throw new Error("the model never served during the warm-up");
      await new Promise((r) => setTimeout(r, 250));
    }
    await decide(url, "warm-up");
    await quiet(url, 2500);

    await counts(url, true);
    for (const cookie of cookies) await decide(url, "identified", cookie);
    for (let i = 0; i < n; i++) await decide(url, "anonymous");
    await quiet(url, 2500);
    const decided = await counts(url, true);
    const perDecision = (pick: (b: Bucket) => number): PerDecision => ({
      identified: round(pick(decided.identified as Bucket) / n, 3),
      anonymous: round(pick(decided.anonymous as Bucket) / n, 3),
    });
    const identifiedCritical = (decided.identified as Bucket).critical;

    const cpuBefore = descendantsCpuMs("workerd");
    for (const cookie of cookies) {
      const d = await decide(url, "page-view", cookie);
      await sendEvents(url, d, ["impression", "impression"]);
      await sendEvents(url, d, ["click"]);
    }
    await quiet(url, 2500);
    const cpuAfter = descendantsCpuMs("workerd");
    const viewed = await counts(url);
    const cpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    const items = perPageView(viewed, n, cpuMs);
    const { totalUsd, breakdownUsd } = pricePerMillion(items);
    return {
      decisions: n,
      remoteCallsPerDecision: perDecision((b) => remoteCalls(b.critical)),
      remoteCallsAfterAnswerPerDecision: perDecision((b) => remoteCalls(b.after)),
      d1QueriesPerDecision: perDecision((b) => b.critical.d1Queries + b.after.d1Queries),
      identifiedCriticalPath: Object.fromEntries(
        Object.entries({
          durableObject: identifiedCritical.doRequests,
          d1: identifiedCritical.d1Queries,
          kv: identifiedCritical.kvReads + identifiedCritical.kvWrites,
          queue: identifiedCritical.queueSends,
          r2: identifiedCritical.r2ClassA + identifiedCritical.r2ClassB,
        }).map(([k, v]) => [k, round(v / n, 3)]),
      ),
      pageViews: n,
      consumerBatches: { batches: viewed.consumer?.invocations ?? 0, windowS: BATCH_WINDOW_S },
      perPageView: Object.fromEntries(Object.entries(items).map(([k, v]) => [k, round(v, 4)])) as Record<PricedItem, number>,
      costPerMillionDecisionsUsd: {
        total: round(totalUsd, 3),
        storageAndQueue: round(totalUsd - breakdownUsd.workersRequests - breakdownUsd.workersCpuMs, 3),
        breakdown: Object.fromEntries(Object.entries(breakdownUsd).map(([k, v]) => [k, round(v, 4)])) as Record<PricedItem, number>,
      },
    };
  } finally {
    await stopWorkerd(mf);
  }
}
