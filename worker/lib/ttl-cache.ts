/**
 * A per-isolate cache with a time to live. It keeps resolved values only, never a load in flight:
 * a promise started by one request and awaited by another is tied to the first request's context,
 * and when that request ends first (it answered from a fallback, or its client went away) the
 * other request's continuation is cancelled or fails with "Cannot perform I/O on behalf of a
 * different request" (seen as rare 500s under load). So concurrent misses each load (check, then
 * set), and the last good value stays readable with `stale()` for stale-if-error.
 */
export class TtlCache<K, V> {
  private entries = new Map<K, { value: V; expires: number }>();

  async get(key: K, ttlMs: number, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    const value = await load();
    this.entries.set(key, { value, expires: Date.now() + ttlMs });
    return value;
  }

  /** Drops a key, so that the next `get` loads it again (a write this isolate made). */
  forget(key: K): void {
    this.entries.delete(key);
  }

  stale(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }
}
