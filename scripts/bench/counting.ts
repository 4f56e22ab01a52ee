/**
 * Counting what a worker asks of its bindings, by passing its `env` through proxies that forward
 * every call unchanged and report it: D1 queries (with the rows D1 says it read and wrote), KV
 * reads/writes/deletes/lists, queue messages, Durable Object requests (with their wall time), R2
 * class A/B operations. Runs inside workerd: the benchmark's counting entry
 * (./counting-worker.ts) and the tests of the scheduled fan-out use it. Nothing is simulated:
 * every call reaches the real local binding.
 */

export type Operation =
  | { binding: "d1"; queries: number; rowsRead: number; rowsWritten: number; table: string; sizeAfter: number | null }
  | { binding: "kv"; kind: "read" | "write" | "delete" | "list"; keys: number }
  | { binding: "queue"; messages: number; bytes: number; calls: 1 }
  | { binding: "do"; requests: 1; ms: number }
  | { binding: "do-storage"; rowsRead: number; rowsWritten: number }
  | { binding: "r2"; kind: "classA" | "classB" | "free"; bytes: number };

export type Recorder = (op: Operation) => void;

/** Totals of a run, in the units Cloudflare prices them in. */
export type Tally = {
  d1Queries: number;
  d1RowsRead: number;
  d1RowsWritten: number;
  kvReads: number;
  kvWrites: number;
  kvDeletes: number;
  kvLists: number;
  queueSends: number;
  queueMessages: number;
  /** 64 KB units written (a message is billed per started 64 KB, for each of write, read and delete). */
  queueUnits: number;
  doRequests: number;
  doMs: number;
  /** Rows of the objects' SQLite storage (the key-value API reads and writes one row per key). */
  doRowsRead: number;
  doRowsWritten: number;
  r2ClassA: number;
  r2ClassB: number;
};

export const emptyTally = (): Tally => ({
  d1Queries: 0,
  d1RowsRead: 0,
  d1RowsWritten: 0,
  kvReads: 0,
  kvWrites: 0,
  kvDeletes: 0,
  kvLists: 0,
  queueSends: 0,
  queueMessages: 0,
  queueUnits: 0,
  doRequests: 0,
  doMs: 0,
  doRowsRead: 0,
  doRowsWritten: 0,
  r2ClassA: 0,
  r2ClassB: 0,
});

const KV_FIELD = { read: "kvReads", write: "kvWrites", delete: "kvDeletes", list: "kvLists" } as const;

export function add(tally: Tally, op: Operation): void {
  switch (op.binding) {
    case "d1":
      tally.d1Queries += op.queries;
      tally.d1RowsRead += op.rowsRead;
      tally.d1RowsWritten += op.rowsWritten;
      return;
    case "kv":
      tally[KV_FIELD[op.kind]] += op.keys;
      return;
    case "queue":
      tally.queueSends += op.calls;
      tally.queueMessages += op.messages;
      tally.queueUnits += Math.max(op.messages, Math.ceil(op.bytes / (64 * 1024)));
      return;
    case "do":
      tally.doRequests += op.requests;
      tally.doMs += op.ms;
      return;
    case "do-storage":
      tally.doRowsRead += op.rowsRead;
      tally.doRowsWritten += op.rowsWritten;
      return;
    case "r2":
      if (op.kind === "classA") tally.r2ClassA++;
      if (op.kind === "classB") tally.r2ClassB++;
      return;
  }
}

/** Calls through to `target[prop]` with `target` as `this` (native bindings check it). */
function passThrough<T extends object>(target: T, prop: string | symbol): unknown {
  const value = Reflect.get(target, prop, target);
  return typeof value === "function" ? value.bind(target) : value;
}

function metaOf(result: unknown): { rowsRead: number; rowsWritten: number; sizeAfter: number | null } {
  const meta = (result as { meta?: Partial<D1Meta> } | null)?.meta;
  return { rowsRead: meta?.rows_read ?? 0, rowsWritten: meta?.rows_written ?? 0, sizeAfter: meta?.size_after ?? null };
}

/** The table a statement is about: the first name after FROM, INTO, UPDATE or JOIN. */
function tableOf(sql: string): string {
  const match = sql.match(/\b(?:into|from|update|join)\s+["`]?([A-Za-z_][A-Za-z0-9_]*)/i);
  return match?.[1] ?? "other";
}

function countingD1(db: D1Database, record: Recorder): D1Database {
  const real = new WeakMap<object, D1PreparedStatement>();
  const tables = new WeakMap<object, string>();
  const statement = (stmt: D1PreparedStatement, table: string): D1PreparedStatement => {
    const proxy = new Proxy(stmt, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => statement(target.bind(...values), table);
        if (prop === "run" || prop === "all") {
          return async (...args: unknown[]) => {
            const result = await (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args);
            record({ binding: "d1", queries: 1, table, ...metaOf(result) });
            return result;
          };
        }
        if (prop === "first" || prop === "raw") {
          // Neither returns D1's meta: the rows returned stand in for the rows read (a lower bound).
          return async (...args: unknown[]) => {
            const result = await (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args);
            const rows = Array.isArray(result) ? result.length : result === null ? 0 : 1;
            record({ binding: "d1", queries: 1, rowsRead: rows, rowsWritten: 0, table, sizeAfter: null });
            return result;
          };
        }
        return passThrough(target, prop);
      },
    });
    real.set(proxy, stmt);
    tables.set(proxy, table);
    return proxy;
  };
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => statement(target.prepare(query), tableOf(query));
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements.map((s) => real.get(s) ?? s));
          results.forEach((result, i) => {
            record({ binding: "d1", queries: 1, table: tables.get(statements[i] as object) ?? "other", ...metaOf(result) });
          });
          return results;
        };
      }
      if (prop === "exec") {
        return async (query: string) => {
          const result = await target.exec(query);
          record({ binding: "d1", queries: result.count, rowsRead: 0, rowsWritten: 0, table: tableOf(query), sizeAfter: null });
          return result;
        };
      }
      return passThrough(target, prop);
    },
  });
}

const KV_KIND: Partial<Record<string | symbol, "read" | "write" | "delete" | "list">> = {
  get: "read",
  getWithMetadata: "read",
  put: "write",
  delete: "delete",
  list: "list",
};

function countingKv(kv: KVNamespace, record: Recorder): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const kind = KV_KIND[prop];
      const fn = passThrough(target, prop);
      if (!kind || typeof fn !== "function") return fn;
      return (...args: unknown[]) => {
        // A bulk get is billed per key.
        record({ binding: "kv", kind, keys: Array.isArray(args[0]) ? args[0].length : 1 });
        return fn(...args);
      };
    },
  });
}

const size = (body: unknown) => new TextEncoder().encode(JSON.stringify(body) ?? "").byteLength;

function countingQueue(queue: Queue, record: Recorder): Queue {
  return new Proxy(queue, {
    get(target, prop) {
      const fn = passThrough(target, prop);
      if (prop === "send" && typeof fn === "function") {
        return (body: unknown, options?: unknown) => {
          record({ binding: "queue", messages: 1, bytes: size(body), calls: 1 });
          return fn(body, options);
        };
      }
      if (prop === "sendBatch" && typeof fn === "function") {
        return (messages: { body: unknown }[], options?: unknown) => {
          const bytes = messages.reduce((sum, m) => sum + size(m.body), 0);
          record({ binding: "queue", messages: messages.length, bytes, calls: 1 });
          return fn(messages, options);
        };
      }
      return fn;
    },
  });
}

/** Every method call on a stub is one billed request (an RPC session), timed from call to answer. */
function countingStub<T extends object>(stub: T, record: Recorder): T {
  return new Proxy(stub, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const started = Date.now();
        // Reflect.apply: on an RPC method, `.apply` would itself name a remote method.
        const result = Promise.resolve(Reflect.apply(value, target, args));
        const done = () => record({ binding: "do", requests: 1, ms: Date.now() - started });
        result.then(done, done);
        return result;
      };
    },
  });
}

function countingNamespace<T extends DurableObjectNamespace>(namespace: T, record: Recorder): T {
  return new Proxy(namespace, {
    get(target, prop) {
      const fn = passThrough(target, prop);
      if (typeof fn !== "function") return fn;
      if (prop === "get" || prop === "getByName") return (...args: unknown[]) => countingStub(fn(...args), record);
      if (prop === "jurisdiction") return (...args: unknown[]) => countingNamespace(fn(...args), record);
      return fn;
    },
  });
}

const R2_KIND: Partial<Record<string | symbol, "classA" | "classB" | "free">> = {
  get: "classB",
  head: "classB",
  put: "classA",
  list: "classA",
  createMultipartUpload: "classA",
  delete: "free",
};

/** The bytes of a put's body, where they are known before it is sent (a stream's are not). */
function bodyBytes(body: unknown): number {
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  return typeof body === "string" ? new TextEncoder().encode(body).byteLength : 0;
}

function countingR2(bucket: R2Bucket, record: Recorder): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      const kind = R2_KIND[prop];
      const fn = passThrough(target, prop);
      if (!kind || typeof fn !== "function") return fn;
      return (...args: unknown[]) => {
        record({ binding: "r2", kind, bytes: prop === "put" ? bodyBytes(args[1]) : 0 });
        return fn(...args);
      };
    },
  });
}

const has = (value: unknown, ...methods: string[]) =>
  typeof value === "object" && value !== null && methods.every((m) => typeof (value as Record<string, unknown>)[m] === "function");

/** The same env, every binding wrapped by its kind (told apart by the methods it has). */
export function countingEnv<E extends object>(env: E, record: Recorder): E {
  const wrapped: { [key: string]: unknown } = {};
  for (const [name, value] of Object.entries(env)) {
    if (has(value, "prepare", "batch", "exec")) wrapped[name] = countingD1(value as D1Database, record);
    else if (has(value, "getWithMetadata", "put", "list")) wrapped[name] = countingKv(value as KVNamespace, record);
    else if (has(value, "send", "sendBatch")) wrapped[name] = countingQueue(value as Queue, record);
    else if (has(value, "idFromName", "get")) wrapped[name] = countingNamespace(value as DurableObjectNamespace, record);
    else if (has(value, "head", "createMultipartUpload")) wrapped[name] = countingR2(value as R2Bucket, record);
    else wrapped[name] = value;
  }
  return wrapped as E;
}

/**
 * A Durable Object's state whose synchronous key-value storage is counted in rows, as SQLite
 * storage is billed: a get reads a row, a put or a delete writes one, a list reads what it returns,
 * setting an alarm writes one.
 */
export function countingState(state: DurableObjectState, record: Recorder): DurableObjectState {
  const kv = (inner: SyncKvStorage): SyncKvStorage =>
    new Proxy(inner, {
      get(target, prop) {
        const fn = passThrough(target, prop);
        if (typeof fn !== "function") return fn;
        return (...args: unknown[]) => {
          const result = fn(...args);
          if (prop === "get") record({ binding: "do-storage", rowsRead: 1, rowsWritten: 0 });
          if (prop === "put" || prop === "delete") record({ binding: "do-storage", rowsRead: 0, rowsWritten: 1 });
          if (prop !== "list") return result;
          const entries = [...(result as Iterable<unknown>)];
          record({ binding: "do-storage", rowsRead: entries.length, rowsWritten: 0 });
          return entries;
        };
      },
    });
  const storage = new Proxy(state.storage, {
    get(target, prop) {
      if (prop === "kv") return kv(target.kv);
      const fn = passThrough(target, prop);
      if (prop === "setAlarm" && typeof fn === "function") {
        return (...args: unknown[]) => {
          record({ binding: "do-storage", rowsRead: 0, rowsWritten: 1 });
          return fn(...args);
        };
      }
      return fn;
    },
  });
  return new Proxy(state, { get: (target, prop) => (prop === "storage" ? storage : passThrough(target, prop)) });
}
