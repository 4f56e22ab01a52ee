/**
 * The worker as `npm run bench:consumer` runs it: the real entry (worker/index.ts) with its bindings
 * wrapped in counters, built into a bundle of its own and never deployed. It counts, per handler,
 * what the stack asks of D1 (statements, rows written, the database's size), of R2 (class A and
 * B operations) and of the queue (messages sent), and serves the counts on `/__bench/counts`.
 *
 * `POST /__bench/redeliver?batches=N` makes the next N consumer invocations fail after the consumer
 * has done all its work: their acknowledgements are withheld and the invocation throws, so that the
 * queue delivers every message of those batches again (Miniflare regroups them with other
 * messages), as Cloudflare does when an invocation dies after writing.
 */
import worker from "../../worker/index";
import { countingEnv } from "./counting";

/** The Durable Object classes that wrangler.toml binds, exported as the real entry exports them. */
export * from "../../worker/index";

export type D1Counts = { statements: number; rowsWritten: number; byTable: Record<string, number> };
export type Counts = {
  d1: Record<"fetch" | "queue" | "scheduled", D1Counts>;
  /** D1's reported database size: at the last reset and the latest seen. */
  d1SizeAtReset: number | null;
  d1Size: number | null;
  r2: { classA: number; classB: number; deletes: number; bytesPut: number };
  queue: { messagesSent: number; batches: number; messagesConsumed: number; redelivered: number };
};

const emptyD1 = (): D1Counts => ({ statements: 0, rowsWritten: 0, byTable: {} });
const fresh = (size: number | null): Counts => ({
  d1: { fetch: emptyD1(), queue: emptyD1(), scheduled: emptyD1() },
  d1SizeAtReset: size,
  d1Size: size,
  r2: { classA: 0, classB: 0, deletes: 0, bytesPut: 0 },
  queue: { messagesSent: 0, batches: 0, messagesConsumed: 0, redelivered: 0 },
});

let counts = fresh(null);
let failNextBatches = 0;
let held = false;
const HOLD_POLL_MS = 20;

/** Polled rather than awaited on a promise another request resolves: a wait on a timer is never taken for a hung invocation. */
async function whileHeld(): Promise<void> {
  while (held) await new Promise((resolve) => setTimeout(resolve, HOLD_POLL_MS));
}

/** The env with its stores counted (./counting.ts) into this entry's counts for one handler. */
function counted(env: Env, handler: keyof Counts["d1"]): Env {
  const d1 = counts.d1[handler];
  return countingEnv(env, (op) => {
    if (op.binding === "d1") {
      d1.statements += op.queries;
      d1.rowsWritten += op.rowsWritten;
      d1.byTable[op.table] = (d1.byTable[op.table] ?? 0) + op.queries;
      if (op.sizeAfter !== null) counts.d1Size = op.sizeAfter;
    } else if (op.binding === "r2") {
      if (op.kind === "classA") counts.r2.classA++;
      else if (op.kind === "classB") counts.r2.classB++;
      else counts.r2.deletes++;
      counts.r2.bytesPut += op.bytes;
    } else if (op.binding === "queue") counts.queue.messagesSent += op.messages;
  });
}

/** A batch whose acknowledgements never reach the queue: the invocation is then failed on purpose. */
function withheldAcks(batch: MessageBatch<unknown>): MessageBatch<unknown> {
  const messages = batch.messages.map((m) => ({
    id: m.id,
    timestamp: m.timestamp,
    body: m.body,
    attempts: m.attempts,
    ack() {},
    retry() {},
  }));
  return { queue: batch.queue, messages, ackAll() {}, retryAll() {} } as unknown as MessageBatch<unknown>;
}

async function benchRoute(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname === "/__bench/counts") return Response.json(counts);
  if (url.pathname === "/__bench/reset" && request.method === "POST") {
    const sizeNow = (await env.DB.prepare("SELECT 1").run()).meta.size_after;
    counts = fresh(sizeNow ?? null);
    return Response.json(counts);
  }
  if (url.pathname === "/__bench/redeliver" && request.method === "POST") {
    failNextBatches = Number(url.searchParams.get("batches") ?? "1");
    return Response.json({ failNextBatches });
  }
  if ((url.pathname === "/__bench/hold" || url.pathname === "/__bench/release") && request.method === "POST") {
    held = url.pathname === "/__bench/hold";
    return Response.json({ held });
  }
  return new Response("not found", { status: 404 });
}

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname.startsWith("/__bench/")) return benchRoute(request, env);
    return worker.fetch(request, counted(env, "fetch"), ctx);
  },
  async queue(batch, env) {
    await whileHeld();
    counts.queue.batches++;
    counts.queue.messagesConsumed += batch.messages.length;
    if (failNextBatches > 0) {
      failNextBatches--;
      counts.queue.redelivered += batch.messages.length;
      await worker.queue(withheldAcks(batch), counted(env, "queue"));
      throw new Error("bench: invocation failed after the consumer's writes (redelivery test)");
    }
    return worker.queue(batch, counted(env, "queue"));
  },
  scheduled(controller, env) {
    return worker.scheduled(controller, counted(env, "scheduled"));
  },
} satisfies ExportedHandler<Env>;
