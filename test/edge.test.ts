import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { LOGO_SVG, shopPage } from "../worker/demo/shop-page";
import { escapeHtml, safeUrl } from "../worker/rewrite/render";
import { createSite } from "./support/fixtures";

const BROWSER = { "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0" };

/** The `[data-slot]` elements of a page with their attributes and item ids, read with HTMLRewriter. */
async function slotsOf(html: string) {
  const slots: { id: string; attrs: Record<string, string>; items: string[] }[] = [];
  await new HTMLRewriter()
    .on("[data-slot]", {
      element(el) {
        slots.push({ id: el.getAttribute("data-slot") ?? "", attrs: Object.fromEntries(el.attributes), items: [] });
      },
    })
    .on("[data-slot] .ep-item", {
      element(el) {
        slots.at(-1)?.items.push(el.getAttribute("data-content-id") ?? "");
      },
    })
    .transform(new Response(html))
    .text();
  return slots;
}

describe("edge rewriting of an origin page", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("edge-site", { consentModel: "opt-out", originUrl: "bundled:demo" });
  });

  it("fills every slot on the server, so the page works without JavaScript", async () => {
    const res = await SELF.fetch(`https://shop.example/edge/${site}/`, { headers: BROWSER });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("cache-control")).toBe("private, max-age=0");
    expect(res.headers.get("vary")).toMatch(/Cookie/);
    expect(res.headers.getSetCookie().filter((c) => c.startsWith("ep_vid="))).toHaveLength(1);
    const html = await res.text();
    expect(html).toMatch(new RegExp(`<script src="/v1/tag\\.js\\?v=[0-9a-f]{12}" data-site="${site}" async></script>\\s*</head>`));
    const slots = await slotsOf(html);
    expect(slots.map((s) => [s.id, s.items.length])).toEqual([
      ["hero", 1],
      ["recommendations", 3],
      ["promo", 1],
    ]);
    const ids = slots.flatMap((s) => s.items);
    expect(new Set(ids).size).toBe(ids.length);
    for (const slot of slots) {
      expect(slot.attrs["data-filled"]).toBe("edge");
      expect(slot.attrs["data-decision-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(slot.attrs["data-event-token"]?.length).toBeGreaterThan(20);
    }
  });

  it("passes non-HTML answers through byte for byte", async () => {
    const res = await SELF.fetch(`https://shop.example/edge/${site}/logo.svg`, { headers: BROWSER });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/svg+xml");
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(await res.text()).toBe(LOGO_SVG);
  });

  it("passes the origin's page through untouched when the decision fails", async () => {
    const hostile = { ...BROWSER, cookie: `ep_vid=${"x".repeat(1000)}` };
    const res = await SELF.fetch(`https://shop.example/edge/${site}/`, { headers: hostile });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(shopPage());
  });

  it("streams: the filled head of a large page arrives before the origin has produced its end", async () => {
    const res = await SELF.fetch(`https://shop.example/edge/${site}/large?chunks=40&delay=25`, { headers: BROWSER });
    expect(res.status).toBe(200);
    const reader = res.body?.getReader();
    if (!reader) throw new Error("a body expected");
    const decoder = new TextDecoder();
    let received = "";
    let firstSlotAt: number | null = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
      if (firstSlotAt === null && received.includes('data-filled="edge"')) firstSlotAt = Date.now();
    }
    const producedEndAt = Number(received.match(/<p id="end">produced at (\d+)<\/p>/)?.[1]);
    expect(firstSlotAt).not.toBeNull();
    expect(producedEndAt).toBeGreaterThan(0);
    // 40 chunks 25 ms apart: the filled slot must have arrived long before the last one was made.
    expect(producedEndAt - (firstSlotAt ?? Number.POSITIVE_INFINITY)).toBeGreaterThan(500);
    expect((await slotsOf(received)).every((s) => s.attrs["data-filled"] === "edge")).toBe(true);
  });

  it("answers 404 for a site without an origin", async () => {
    const bare = await createSite("edge-no-origin");
    const res = await SELF.fetch(`https://shop.example/edge/${bare}/`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "unknown_site", field: "site" } });
  });
});

describe("rendering", () => {
  it("escapes text and keeps only http(s) or site-relative URLs", () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    expect(safeUrl("javascript:alert(1)")).toBeNull();
    expect(safeUrl("data:text/html,<b>")).toBeNull();
    expect(safeUrl("//evil.example/x")).toBeNull();
    expect(safeUrl("/products/men-3")).toBe("/products/men-3");
    expect(safeUrl("https://cdn.example/a.png")).toBe("https://cdn.example/a.png");
  });
});
