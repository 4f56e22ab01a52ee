import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { add, countingEnv, emptyTally, type Tally } from "../scripts/bench/counting";
import worker from "../worker/index";
import { isLoaded, type ModelSource, scorerFor } from "../worker/inference/model";
import { bundledSource } from "../worker/inference/registry";
import { DependencyError } from "../worker/lib/errors";
import { catalogueSnapshotKey } from "../worker/site/catalogue";
import { SITES_PER_SWEEP } from "../worker/site/maintenance";
import { sites } from "../worker/store/schema";
import { db } from "./support/fixtures";

const handler: ExportedHandler<Env> = worker;

/** Every call the invocation makes to a binding (D1 queries, KV operations, queue sends, Durable Object and R2 requests). */
const subrequests = (t: Tally) =>
  t.d1Queries + t.kvReads + t.kvWrites + t.kvDeletes + t.kvLists + t.queueSends + t.doRequests + t.r2ClassA + t.r2ClassB;

/** The bindings of a real invocation, counted on their way through (nothing is replaced). */
function counted(): { env: Env; tally: Tally } {
  const tally = emptyTally();
  return { env: countingEnv(env, (op) => add(tally, op)), tally };
}

describe("the scheduled maintenance, fanned out through the queue", () => {
  it("stays at a handful of subrequests per invocation however many sites there are", async () => {
    const count = SITES_PER_SWEEP + 50;
    const ids = Array.from({ length: count }, (_, i) => `sweep-${String(i).padStart(5, "0")}`);
    for (let i = 0; i < ids.length; i += 10) {
      await db
        .insert(sites)
        .values(ids.slice(i, i + 10).map((id) => ({ id, name: id, allowedOrigins: [], consentModel: "opt-out" as const })));
    }

    // The cron: one sweep message and one for the log's maintenance (which queues the pending erasures), whatever the number of sites.
    const cron = counted();
    const ctx = createExecutionContext();
    await handler.scheduled?.(createScheduledController({ cron: "*/5 * * * *" }), cron.env, ctx);
    await waitOnExecutionContext(ctx);
    expect(subrequests(cron.tally)).toBeLessThanOrEqual(3);
    expect(cron.tally.queueMessages).toBe(2);

    // A sweep message: one page of sites, a snapshot message for each and the next page's sweep.
    const sweep = counted();
    const batch = createMessageBatch("edge-personalizer-events", [
      { id: "sweep-1", timestamp: new Date(), attempts: 1, body: { type: "site-sweep", after: null } },
    ]);
    const sweepCtx = createExecutionContext();
    await handler.queue?.(batch, sweep.env, sweepCtx);
    expect((await getQueueResult(batch, sweepCtx)).explicitAcks).toEqual(["sweep-1"]);
    expect(sweep.tally.d1Queries).toBe(1);
    expect(sweep.tally.queueMessages).toBe(SITES_PER_SWEEP + 1);
    expect(sweep.tally.queueSends).toBe(SITES_PER_SWEEP / 100 + 1);

    // A batch of 100 snapshot messages: six subrequests a site, 600 for the batch.
    const refresh = counted();
    const snapshots = createMessageBatch(
      "edge-personalizer-events",
      ids.slice(-100).map((siteId, i) => ({ id: `snapshot-${i}`, timestamp: new Date(), attempts: 1, body: { type: "snapshot", siteId } })),
    );
    const refreshCtx = createExecutionContext();
    await handler.queue?.(snapshots, refresh.env, refreshCtx);
    expect((await getQueueResult(snapshots, refreshCtx)).explicitAcks).toHaveLength(100);
    expect(subrequests(refresh.tally)).toBeLessThan(1000);
    expect(await env.CONFIG.get(catalogueSnapshotKey(ids.at(-1) ?? ""))).not.toBeNull();
  });
});

describe("the isolate's model sessions", () => {
  const version = (name: string): ModelSource => ({ ...bundledSource, version: `${name}-${crypto.randomUUID()}` });
  const context = { hour: 12, dayOfWeek: 3, device: "desktop" };
  const items = [{ contentId: "women-1", attributes: {} }];

  it("keeps at most the limit, releases the least recently used, and loads it again on demand", async () => {
    const [a, b, c] = [version("a"), version("b"), version("c")];
    const scorerA = await scorerFor(a, 2);
    const expected = await scorerA.score(null, context, items);
    await scorerFor(b, 2);
    await scorerFor(a, 2); // a is now the most recently used: b goes next
    await scorerFor(c, 2);
    expect([isLoaded(a), isLoaded(b), isLoaded(c)]).toEqual([true, false, true]);

    await scorerFor(version("d"), 2); // past the limit again: a goes, its session released
    expect(isLoaded(a)).toBe(false);
    await expect(scorerA.score(null, context, items)).rejects.toBeInstanceOf(DependencyError);

    const reloaded = await scorerFor(a, 2);
    expect(isLoaded(a)).toBe(true);
    expect(await reloaded.score(null, context, items)).toEqual(expected);
  });
});
