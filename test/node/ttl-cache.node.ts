import { afterEach, describe, expect, it, vi } from "vitest";
import { REFRESH_DEADLINE_MS, TtlCache } from "../../worker/lib/ttl-cache";

const TTL = 10_000;

/** The cache's clock, moved by hand: nothing here depends on the wall clock. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, at: (offsetMs: number) => (t = 1_000_000 + offsetMs) };
}

/** Lets the timer a refresh is started on fire (it starts after the answer, see afterAnswer). */
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * One request as the cache sees it: its own `waitUntil` (what it was asked to keep alive) and its
 * own load, which settles only when the test says so and counts its calls.
 */
function request<V>() {
  const kept: Promise<unknown>[] = [];
  const settles: { resolve: (v: V) => void; reject: (e: Error) => void }[] = [];
  return {
    kept,
    keepAlive: (p: Promise<unknown>) => void kept.push(p),
    load: () =>
      new Promise<V>((resolve, reject) => {
        settles.push({ resolve, reject });
      }),
    get loads() {
      return settles.length;
    },
    resolve: (v: V) => settles.at(-1)?.resolve(v),
    reject: (e: Error) => settles.at(-1)?.reject(e),
  };
}

/** A cache holding `"v1"`, read at offset 0 with a TTL of `TTL`. */
async function filled() {
  const time = clock();
  const cache = new TtlCache<string, string>("test cache", { now: time.now });
  time.at(0);
  expect(await cache.get("k", TTL, async () => "v1")).toBe("v1");
  return { cache, time };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the isolate's TTL cache", () => {
  it("never hands one caller's load in flight to another: concurrent misses each load, then the value is shared", async () => {
    const cache = new TtlCache<string, number>("test cache");
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
    const cache = new TtlCache<string, string>("test cache");
    expect(await cache.get("k", 0, async () => "good")).toBe("good");
    await expect(cache.get("k", 0, async () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(cache.stale("k")).toBe("good");
    expect(await cache.get("k", 60_000, async () => "fresh")).toBe("fresh");
  });

  it("answers an expired value at once and refreshes it once, in the keep-alive of the request that found it expired", async () => {
    const { cache, time } = await filled();
    time.at(TTL + 1);
    const a = request<string>();
    // Answered before any read: the load has not even started.
    expect(await cache.get("k", TTL, a.load, a.keepAlive)).toBe("v1");
    expect(a.loads).toBe(0);
    expect(a.kept).toHaveLength(1);
    await tick();
    expect(a.loads).toBe(1);
    // The refresh is what the request keeps alive: its promise is pending until the read settles.
    let keptSettled = false;
    void a.kept[0]?.then(() => (keptSettled = true));
    await tick();
    expect(keptSettled).toBe(false);
    a.resolve("v2");
    await Promise.all(a.kept);
    const later = request<string>();
    expect(await cache.get("k", TTL, later.load, later.keepAlive)).toBe("v2");
    expect(later.loads + later.kept.length).toBe(0);
  });

  it("starts one refresh for concurrent requests that find the value expired; the others answer it without waiting", async () => {
    const { cache, time } = await filled();
    time.at(TTL + 1);
    const requests = [request<string>(), request<string>(), request<string>()];
    const answers = requests.map((r) => cache.get("k", TTL, r.load, r.keepAlive));
    expect(await Promise.all(answers)).toEqual(["v1", "v1", "v1"]);
    await tick();
    expect(requests.map((r) => [r.loads, r.kept.length])).toEqual([
      [1, 1],
      [0, 0],
      [0, 0],
    ]);
  });

  it("lets a later request refresh once the marker's deadline passes, when the refreshing request died (its read never settles)", async () => {
    const { cache, time } = await filled();
    time.at(TTL + 1);
    const dead = request<string>();
    expect(await cache.get("k", TTL, dead.load, dead.keepAlive)).toBe("v1");
    await tick();
    expect(dead.loads).toBe(1);

    // Until the deadline, requests answer the stale value and do not read (nor wait on the dead read).
    time.at(TTL + REFRESH_DEADLINE_MS);
    const before = request<string>();
    expect(await cache.get("k", TTL, before.load, before.keepAlive)).toBe("v1");
    await tick();
    expect(before.loads + before.kept.length).toBe(0);

    time.at(TTL + 1 + REFRESH_DEADLINE_MS);
    const next = request<string>();
    expect(await cache.get("k", TTL, next.load, next.keepAlive)).toBe("v1");
    await tick();
    expect([next.loads, next.kept.length]).toEqual([1, 1]);
    next.resolve("v2");
    await Promise.all(next.kept);
    expect(await cache.get("k", TTL, async () => "unused")).toBe("v2");
  });

  it("keeps the stale value when a refresh fails, logs which cache without the error's payload, and retries after the deadline", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const { cache, time } = await filled();
    time.at(TTL + 1);
    const failing = request<string>();
    expect(await cache.get("k", TTL, failing.load, failing.keepAlive)).toBe("v1");
    await tick();
    failing.reject(new Error("D1 down"));
    await Promise.all(failing.kept);
    expect(errors).toHaveBeenCalledWith("test cache not refreshed", "D1 down");
    expect(JSON.stringify(errors.mock.calls)).not.toContain("v1");
    expect(cache.stale("k")).toBe("v1");

    const soon = request<string>();
    expect(await cache.get("k", TTL, soon.load, soon.keepAlive)).toBe("v1");
    await tick();
    expect(soon.loads).toBe(0);

    time.at(TTL + 1 + REFRESH_DEADLINE_MS);
    const retry = request<string>();
    expect(await cache.get("k", TTL, retry.load, retry.keepAlive)).toBe("v1");
    await tick();
    expect(retry.loads).toBe(1);
  });

  it("reads in the request past the stale bound (one more TTL), and without a keep-alive", async () => {
    const { cache, time } = await filled();
    time.at(TTL + 1);
    const noKeepAlive = request<string>();
    const answered = cache.get("k", TTL, noKeepAlive.load);
    await tick();
    expect(noKeepAlive.loads).toBe(1);
    noKeepAlive.resolve("v2");
    expect(await answered).toBe("v2");

    time.at(TTL + 1 + 2 * TTL);
    const idle = request<string>();
    const read = cache.get("k", TTL, idle.load, idle.keepAlive);
    await tick();
    expect([idle.loads, idle.kept.length]).toEqual([1, 0]);
    idle.resolve("v3");
    expect(await read).toBe("v3");
  });

  it("reads in the request after forget, and a refresh started before the write does not bring the old value back", async () => {
    const { cache, time } = await filled();
    time.at(TTL + 1);
    const refreshing = request<string>();
    expect(await cache.get("k", TTL, refreshing.load, refreshing.keepAlive)).toBe("v1");
    await tick();
    expect(refreshing.loads).toBe(1);

    cache.forget("k");
    const writer = request<string>();
    const read = cache.get("k", TTL, writer.load, writer.keepAlive);
    await Promise.resolve();
    expect([writer.loads, writer.kept.length]).toEqual([1, 0]);
    writer.resolve("written");
    expect(await read).toBe("written");

    refreshing.resolve("read before the write");
    await Promise.all(refreshing.kept);
    expect(await cache.get("k", TTL, async () => "unused")).toBe("written");
  });

  it("with a TTL of 0 reads in every request and never answers a stale value", async () => {
    const time = clock();
    const cache = new TtlCache<string, number>("test cache", { now: time.now });
    const kept: Promise<unknown>[] = [];
    const keepAlive = (p: Promise<unknown>) => void kept.push(p);
    let loads = 0;
    const answers = [];
    for (const _ of [1, 2, 3]) answers.push(await cache.get("k", 0, async () => ++loads, keepAlive));
    expect(answers).toEqual([1, 2, 3]);
    expect(kept).toHaveLength(0);
  });
});
