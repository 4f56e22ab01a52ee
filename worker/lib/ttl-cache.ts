import { afterAnswer } from "./after-answer";

/** Keeps a promise alive past the response: the request's own `waitUntil`. */
export type KeepAlive = (p: Promise<unknown>) => void;

/**
 * How long after its TTL a value may still be answered while it is refreshed: one more TTL. A
 * value is never answered more than twice its TTL after it was read; an isolate idle for longer
 * reads again in the request, as on a miss.
 */
const STALE_TTLS = 1;

/**
 * How long one refresh may run before the next request may start another: a refresh that dies
 * with its request (its promise then never settles) or fails holds the key only this long. A
 * healthy D1 or KV read takes milliseconds, so a slow one is rarely doubled, and a failing store
 * is asked at most once per deadline per key while the old value is answered.
 */
export const REFRESH_DEADLINE_MS = 5_000;

type Slot<V> = {
  /** The last good value; absent after `forget`. */
  held?: { value: V };
  freshUntil: number;
  staleUntil: number;
  /** Orders reads: a read started before this slot was written (or forgotten) never replaces it. */
  seq: number;
  /** While a refresh runs: when the next request may start another. */
  refreshDeadline?: number;
};

/**
 * A per-isolate cache with a time to live, which keeps resolved values only, never a load in
 * flight: a promise started by one request and awaited by another is tied to the first request's
 * context, and when that request ends first (it answered from a fallback, or its client went
 * away) the other request's continuation is cancelled or fails with "Cannot perform I/O on
 * behalf of a different request" (seen as rare 500s under load).
 *
 * Stale while revalidate: once a value has expired, a request that passes its `keepAlive` gets
 * the value at once, and the first such request refreshes it in its own `keepAlive`; the others
 * see the refresh's marker (a deadline, not a promise) and answer the value too. No request waits
 * on a refresh, and none ever awaits a read that another started. A miss with nothing held, a value past its stale
 * bound, a key forgotten after a write, a TTL of 0 or a caller without `keepAlive` read in the
 * request (concurrent misses each read: check, then set). The last good value stays readable with
 * `stale()` for stale-if-error.
 */
export class TtlCache<K, V> {
  private slots = new Map<K, Slot<V>>();
  private seq = 0;
  private readonly now: () => number;

  /** `name` says which cache a failed refresh was in (logs carry no keys or values). */
  constructor(
    private readonly name: string,
    options: { now?: () => number } = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  async get(key: K, ttlMs: number, load: () => Promise<V>, keepAlive?: KeepAlive): Promise<V> {
    const now = this.now();
    const slot = this.slots.get(key);
    if (slot?.held && now < slot.freshUntil) return slot.held.value;
    if (slot?.held && keepAlive && now < slot.staleUntil) {
      if ((slot.refreshDeadline ?? 0) <= now) this.refresh(key, slot, ttlMs, load, keepAlive, now);
      return slot.held.value;
    }
    const seq = ++this.seq;
    const value = await load();
    this.store(key, seq, value, ttlMs);
    return value;
  }

  /** Drops a key, so that the next `get` reads it in its request (a write this isolate made). */
  forget(key: K): void {
    this.slots.set(key, { freshUntil: 0, staleUntil: 0, seq: ++this.seq });
  }

  stale(key: K): V | undefined {
    return this.slots.get(key)?.held?.value;
  }

  /** Marks the slot and reads again after the answer, in the finding request's `keepAlive`. */
  private refresh(key: K, slot: Slot<V>, ttlMs: number, load: () => Promise<V>, keepAlive: KeepAlive, now: number): void {
    slot.refreshDeadline = now + REFRESH_DEADLINE_MS;
    const seq = ++this.seq;
    // A failure keeps the stale value and the marker: the first request past its deadline retries.
    afterAnswer(keepAlive, `${this.name} not refreshed`, async () => this.store(key, seq, await load(), ttlMs));
  }

  private store(key: K, seq: number, value: V, ttlMs: number): void {
    const current = this.slots.get(key);
    if (current && current.seq > seq) return;
    const now = this.now();
    this.slots.set(key, { held: { value }, freshUntil: now + ttlMs, staleUntil: now + ttlMs * (1 + STALE_TTLS), seq });
  }
}
