import { describe, expect, it } from "vitest";
import { profileLines } from "../../scripts/train/profile-lines";

const line = (visitorId: string, profile: unknown) => JSON.stringify({ visitorId, profile });

describe("profiles.ndjson for the visitors' objects (npm run load-profiles)", () => {
  it("reads each profile as the visitor's object stores it, for the site given", () => {
    const text = [line("v1", { v: 1, itemAffinity: { a: 1.5 }, updatedAt: 5 }), "", line("v2", { v: 1, attributes: { band: "x" } })].join(
      "\n",
    );
    const lines = profileLines("shop", text, "profiles.ndjson");
    expect(lines.map((l) => [l.site, l.visitorId])).toEqual([
      ["shop", "v1"],
      ["shop", "v2"],
    ]);
    expect(lines[0]?.profile).toEqual({ v: 1, attributes: {}, itemAffinity: { a: 1.5 }, recent: [], updatedAt: 5 });
    expect(lines[1]?.profile.attributes).toEqual({ band: "x" });
  });

  it("rejects the whole file on a bad line, naming the line", () => {
    const text = [line("v1", { v: 1 }), line("v2", { v: 2 }), "{"].join("\n");
    expect(() => profileLines("shop", text, "profiles.ndjson")).toThrow(/profiles\.ndjson:2: .*profile\.v/s);
    expect(() => profileLines("shop", [line("v1", { v: 1 }), "{"].join("\n"), "p.ndjson")).toThrow("p.ndjson:2: not JSON");
  });
});
