import { describe, expect, it } from "vitest";
import { TtlCache } from "../../worker/lib/ttl-cache";

describe("the isolate's TTL cache", () => {
  it("never hands one caller's load in flight to another: concurrent misses each load, then the value is shared", async () => {
    const cache = new TtlCache<string, number>();
    let loads = 0;
    const releases: (() => void)[] = [];
    const load = () =>
      new Promise<number>((resolve) => {
        loads++;
        releases.push(() => resolve(loads));
      });
    const first = cache.get("k", 60_000, load);
    const second = cache.get("k", 60_000, load);
    await Promise.resolve();
    // Each request waits on its own load (in workerd, on its own I/O), not on the other's.
    expect(loads).toBe(2);
    for (const release of releases) release();
    expect(await Promise.all([first, second])).toEqual([2, 2]);
    expect(await cache.get("k", 60_000, load)).toBe(2);
    expect(loads).toBe(2);
  });

  it("keeps the last good value readable as stale when a later load fails, and does not cache the failure", async () => {
    const cache = new TtlCache<string, string>();
    expect(await cache.get("k", 0, async () => "good")).toBe("good");
    await expect(cache.get("k", 0, async () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(cache.stale("k")).toBe("good");
    expect(await cache.get("k", 60_000, async () => "fresh")).toBe("fresh");
  });
});
