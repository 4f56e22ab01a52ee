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

/** The Durable Object classes that wrangler.toml binds, exported as the real entry exports them. */
export * from "../../worker/index";

type D1Counts = { statements: number; rowsWritten: number; byTable: Record<string, number> };
type Counts = {
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

/** The table a statement is about: the first name after FROM, INTO, UPDATE or JOIN. */
function tableOf(sql: string): string {
  const match = sql.match(/\b(?:into|from|update|join)\s+["`]?([A-Za-z_][A-Za-z0-9_]*)/i);
  return match?.[1] ?? "other";
}

function record(c: D1Counts, sql: string, meta: Partial<D1Meta> | undefined) {
  c.statements++;
  c.rowsWritten += meta?.rows_written ?? 0;
  const table = tableOf(sql);
  c.byTable[table] = (c.byTable[table] ?? 0) + 1;
  if (typeof meta?.size_after === "number") counts.d1Size = meta.size_after;
}

const TERMINAL = new Set(["run", "all", "first", "raw"]);

function countingD1(db: D1Database, c: D1Counts): D1Database {
  const sqlOf = new WeakMap<object, string>();
  const originalOf = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values), sql);
        const value = Reflect.get(target, prop, target);
        if (typeof prop === "string" && TERMINAL.has(prop) && typeof value === "function")
          return async (...args: unknown[]) => {
            const result = await value.apply(target, args);
            record(c, sql, (result as { meta?: D1Meta } | null)?.meta);
            return result;
          };
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    sqlOf.set(proxy, sql);
    originalOf.set(proxy, statement);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), sql);
      if (prop === "batch")
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements.map((s) => originalOf.get(s) ?? s));
          results.forEach((result, i) => {
            record(c, sqlOf.get(statements[i] as object) ?? "", result.meta);
          });
          return results;
        };
      if (prop === "exec")
        return async (sql: string) => {
          const result = await target.exec(sql);
          for (const line of sql.split("\n").filter((l) => l.trim())) record(c, line, undefined);
          return result;
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function countingBucket(bucket: R2Bucket): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "put") {
          counts.r2.classA++;
          const body = args[1];
          if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) counts.r2.bytesPut += body.byteLength;
          else if (typeof body === "string") counts.r2.bytesPut += body.length;
        } else if (prop === "list" || prop === "createMultipartUpload") counts.r2.classA++;
        else if (prop === "get" || prop === "head") counts.r2.classB++;
        else if (prop === "delete") counts.r2.deletes++;
        return value.apply(target, args);
      };
    },
  });
}

function countingQueue(queue: Queue): Queue {
  return new Proxy(queue, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (prop === "send") counts.queue.messagesSent++;
        if (prop === "sendBatch") counts.queue.messagesSent += (args[0] as unknown[]).length;
        return value.apply(target, args);
      };
    },
  });
}

/** The env with its stores counted for one handler; every R2 bucket binding is counted. */
function counted(env: Env, handler: keyof Counts["d1"]): Env {
  const wrapped: Record<string, unknown> = { ...env, DB: countingD1(env.DB, counts.d1[handler]), EVENTS: countingQueue(env.EVENTS) };
  for (const [name, binding] of Object.entries(env)) {
    if (binding && typeof binding === "object" && "createMultipartUpload" in binding) wrapped[name] = countingBucket(binding as R2Bucket);
  }
  return wrapped as unknown as Env;
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
  return new Response("not found", { status: 404 });
}

export default {
  fetch(request, env, ctx) {
    if (new URL(request.url).pathname.startsWith("/__bench/")) return benchRoute(request, env);
    return worker.fetch(request, counted(env, "fetch"), ctx);
  },
  async queue(batch, env) {
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
