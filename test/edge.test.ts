import { createExecutionContext, env, SELF, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { LOGO_SVG, shopPage } from "../worker/demo/shop-page";
import worker from "../worker/index";
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
    // The origin's own content stays, inert, ahead of the items: the tag can put it back.
    expect(html).toMatch(
      /<template data-ep-default><div class="default"><h1>The autumn collection<\/h1>.*?<\/template><div class="ep-item"/s,
    );
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
    let endWithFirstSlot: boolean | null = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
      if (firstSlotAt === null && received.includes('data-filled="edge"')) {
        firstSlotAt = Date.now();
        endWithFirstSlot = received.includes('<p id="end">');
      }
    }
    const producedEndAt = Number(received.match(/<p id="end">produced at (\d+)<\/p>/)?.[1]);
    expect(firstSlotAt).not.toBeNull();
    expect(endWithFirstSlot).toBe(false);
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

describe("on a site's own host (EDGE_HOSTS)", () => {
  let site: string;
  /** The worker as deployed with a route `shop.example/*`: wrangler.toml's bindings with host mounting on. */
  let onSiteHost: (path: string, init?: { method?: string; body?: BodyInit }) => Promise<Response>;
  beforeAll(async () => {
    site = await createSite("host-site", { consentModel: "opt-out", originUrl: "bundled:demo" });
    // wrangler types each var as its literal value in wrangler.toml (""), so other values need the cast.
    const hostEnv = { ...env, EDGE_HOSTS: JSON.stringify({ "shop.example": site }), PATH_PREFIX: "/p13n" } as unknown as Env;
    onSiteHost = async (path, init) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(
        new Request<unknown, IncomingRequestCfProperties>(`https://shop.example${path}`, { ...init, headers: BROWSER }),
        hostEnv,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return res;
    };
  });

  it("rewrites the host's pages at the edge, with the tag from the worker's prefix", async () => {
    const res = await onSiteHost("/?utm_source=mail");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, max-age=0");
    expect(res.headers.getSetCookie().filter((c) => c.startsWith("ep_vid="))).toHaveLength(1);
    const html = await res.text();
    expect(html).toMatch(new RegExp(`<script src="/p13n/v1/tag\\.js\\?v=[0-9a-f]{12}" data-site="${site}" async></script>`));
    const slots = await slotsOf(html);
    expect(slots.map((s) => [s.id, s.items.length, s.attrs["data-filled"]])).toEqual([
      ["hero", 1, "edge"],
      ["recommendations", 3, "edge"],
      ["promo", 1, "edge"],
    ]);
  });

  it("passes the host's assets and form posts through to the origin byte for byte", async () => {
    const logo = await onSiteHost("/logo.svg");
    expect(logo.status).toBe(200);
    expect(logo.headers.get("content-type")).toBe("image/svg+xml");
    expect(logo.headers.get("cache-control")).toBe("public, max-age=3600");
    expect(await logo.text()).toBe(LOGO_SVG);
    const post = await onSiteHost("/newsletter", { method: "POST", body: new URLSearchParams({ email: "a@shop.example" }) });
    expect(post.status).toBe(201);
    expect(await post.text()).toBe("subscribed a@shop.example");
    const missing = await onSiteHost("/no-such-page");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).not.toMatch(/json/);
  });

  it("serves the worker's own routes under PATH_PREFIX, and other hosts as before", async () => {
    const tag = await onSiteHost("/p13n/v1/tag.js");
    expect(tag.status).toBe(200);
    expect(tag.headers.get("content-type")).toBe("application/javascript; charset=utf-8");
    await tag.arrayBuffer();
    const decision = await onSiteHost(`/p13n/v1/decide?site=${site}&slots=hero&url=${encodeURIComponent("https://shop.example/")}`);
    expect(decision.status).toBe(200);
    expect(await decision.json()).toMatchObject({ slots: [{ slot: "hero" }] });
    // The site's own "/v1/..." is a page of the site, not the worker's API.
    expect((await onSiteHost("/v1/tag.js")).status).toBe(404);

    const elsewhere = await SELF.fetch(`https://worker.example/edge/${site}/logo.svg`, { headers: BROWSER });
    expect(await elsewhere.text()).toBe(LOGO_SVG);
  });
});
