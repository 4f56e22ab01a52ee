/**
 * A per-isolate cache with a time to live. Concurrent misses share one load; a failed load is
 * not cached, but the last good value stays readable with `stale()` for stale-if-error.
 */
export class TtlCache<K, V> {
  private entries = new Map<K, { value: V; expires: number }>();
  private loading = new Map<K, Promise<V>>();

  async get(key: K, ttlMs: number, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > Date.now()) return hit.value;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const next = load()
      .then((value) => {
        this.entries.set(key, { value, expires: Date.now() + ttlMs });
        return value;
      })
      .finally(() => this.loading.delete(key));
    this.loading.set(key, next);
    return next;
  }

  /** Drops a key, so that the next `get` loads it again (a write this isolate made). */
  forget(key: K): void {
    this.entries.delete(key);
  }

  stale(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }
}
