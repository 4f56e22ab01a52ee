import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

async function gzipBytes(body: ArrayBuffer): Promise<number> {
  return (await new Response(new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer()).byteLength;
}

describe("GET /v1/tag.js", () => {
  it("serves the tag within its hard size limit of 5 KB gzip, without comment lines or indentation", async () => {
    const res = await SELF.fetch("https://shop.example/v1/tag.js");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const body = await res.arrayBuffer();
    expect(await gzipBytes(body)).toBeLessThanOrEqual(5 * 1024);
    const text = new TextDecoder().decode(body);
    expect(text).toContain("window.edgePersonalizer = { refresh, setConsent, flush }");
    expect(text.split("\n").filter((line) => /^\s|^\/\//.test(line))).toEqual([]);
  });

  it("is immutable for a year under its content version, and five minutes otherwise", async () => {
    const plain = await SELF.fetch("https://shop.example/v1/tag.js");
    const version = plain.headers.get("etag")?.replaceAll('"', "") ?? "";
    expect(version).toMatch(/^[0-9a-f]{12}$/);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await plain.arrayBuffer()));
    expect([...digest.slice(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join("")).toBe(version);
    const pinned = await SELF.fetch(`https://shop.example/v1/tag.js?v=${version}`);
    expect(pinned.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const stale = await SELF.fetch("https://shop.example/v1/tag.js?v=000000000000");
    expect(stale.headers.get("cache-control")).toBe("public, max-age=300");
    await stale.arrayBuffer();
    await pinned.arrayBuffer();
  });
});
