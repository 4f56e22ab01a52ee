import { describe, expect, it } from "vitest";
import { BULK_PUT_MAX, chunks, profilePairs } from "../../scripts/train/kv-profiles";
import { profileKey, storedProfileSchema } from "../../worker/store/profiles";

const line = (visitorId: string, profile: unknown) => JSON.stringify({ visitorId, profile });

describe("profiles.ndjson for KV (npm run load-profiles)", () => {
  it("keys each profile as the worker looks it up and stores it as the worker reads it", () => {
    const text = [line("v1", { v: 1, itemAffinity: { a: 1.5 }, updatedAt: 5 }), "", line("v2", { v: 1, attributes: { band: "x" } })].join(
      "\n",
    );
    const pairs = profilePairs("shop", text, "profiles.ndjson");
    expect(pairs.map((p) => p.key)).toEqual([profileKey("shop", "v1"), profileKey("shop", "v2")]);
    const stored = pairs.map((p) => storedProfileSchema.parse(JSON.parse(p.value)));
    expect(stored[0]).toEqual({ v: 1, attributes: {}, itemAffinity: { a: 1.5 }, updatedAt: 5 });
    expect(stored[1]?.attributes).toEqual({ band: "x" });
  });

  it("rejects the whole file on a bad line, naming the line", () => {
    const text = [line("v1", { v: 1 }), line("v2", { v: 2 }), "{"].join("\n");
    expect(() => profilePairs("shop", text, "profiles.ndjson")).toThrow(/profiles\.ndjson:2: .*profile\.v/s);
    expect(() => profilePairs("shop", [line("v1", { v: 1 }), "{"].join("\n"), "p.ndjson")).toThrow("p.ndjson:2: not JSON");
  });

  it("splits large files into bulk writes Cloudflare accepts", () => {
    const sizes = chunks(
      Array.from({ length: 2 * BULK_PUT_MAX + 1 }, (_, i) => i),
      BULK_PUT_MAX,
    ).map((c) => c.length);
    expect(sizes).toEqual([BULK_PUT_MAX, BULK_PUT_MAX, 1]);
  });
});
