/**
 * The benchmark's counting entry, built and run only by `npm run bench`: the worker itself
 * (worker/index.ts) with its bindings passed through counting proxies (./counting.ts), and its
 * Durable Objects' storage counted in rows. A request labelled `x-bench-count: NAME` is tallied
 * under NAME, split into what its handler asked for before it answered (the critical path) and
 * after (`waitUntil` work); queue invocations are tallied under "consumer". GET /__bench/counts
 * returns the tallies (`?reset` clears them).
 */
import * as entry from "../../worker/index";
import { add, countingEnv, countingState, emptyTally, type Tally } from "./counting";

export * from "../../worker/index";

type Bucket = { invocations: number; critical: Tally; after: Tally };
const buckets = new Map<string, Bucket>();

function bucket(name: string): Bucket {
  let found = buckets.get(name);
  if (!found) {
    found = { invocations: 0, critical: emptyTally(), after: emptyTally() };
    buckets.set(name, found);
  }
  return found;
}

/**
 * The visitors' objects, with their storage counted (under "objects": they run apart from any
 * request's handler). The base class takes only the runtime's own state, so the counting view of
 * it replaces `ctx` once constructed.
 */
export class VisitorState extends entry.VisitorState {
  constructor(state: DurableObjectState, env: Env) {
    super(state, env);
    Object.defineProperty(this, "ctx", { value: countingState(state, (op) => add(bucket("objects").critical, op)) });
  }
}

const worker: ExportedHandler<Env> = entry.default;

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__bench/counts") {
      const counts = Object.fromEntries(buckets);
      if (url.searchParams.has("reset")) buckets.clear();
      return Response.json(counts);
    }
    const counted = bucket(request.headers.get("x-bench-count") ?? "unlabelled");
    counted.invocations++;
    let answered = false;
    const response = await worker.fetch?.(
      request,
      countingEnv(env, (op) => add(answered ? counted.after : counted.critical, op)),
      ctx,
    );
    answered = true;
    return response ?? new Response(null, { status: 500 });
  },
  async queue(batch, env, ctx) {
    const counted = bucket("consumer");
    counted.invocations++;
    await worker.queue?.(
      batch,
      countingEnv(env, (op) => add(counted.critical, op)),
      ctx,
    );
  },
} satisfies ExportedHandler<Env>;
