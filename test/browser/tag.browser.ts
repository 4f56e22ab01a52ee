import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_SITE } from "../../scripts/bench/seed-state";
import { chromiumAvailable, DESKTOP_UA, type Stack, startStack, waitFor } from "./harness";

const CLS_OBSERVER = `window.__cls = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value; })
  .observe({ type: "layout-shift", buffered: true });`;

type SlotState = { slot: string; items: number; decisionId: string | null };
const SLOT_STATE = `[...document.querySelectorAll("[data-slot]")].map((el) => ({
  slot: el.getAttribute("data-slot"), items: el.querySelectorAll(".ep-item").length, decisionId: el.getAttribute("data-decision-id"),
}))`;

describe.skipIf(!chromiumAvailable)("in Chromium", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  });

  it("fills the tag page's slots, reports an impression and a click, without layout shift or page errors", async () => {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1280, height: 2000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    // In-page code is written as strings: it runs in the browser, not in this Node process.
    await page.addInitScript(CLS_OBSERVER);
    // A generous anti-flicker timeout: the suite shares two cores with everything else.
    await page.goto(new URL(`/demo/tag?site=${BENCH_SITE}&timeout=5000`, stack.url).href);
    await page.waitForSelector('[data-slot="promo"][data-decision-id]', { timeout: 10_000 });
    const slots = await page.evaluate<SlotState[]>(SLOT_STATE);
    expect(slots.map((s) => [s.slot, s.items])).toEqual([
      ["hero", 1],
      ["recommendations", 3],
      ["promo", 1],
    ]);
    const decisionId = slots[0]?.decisionId ?? "";
    expect(slots.every((s) => s.decisionId === decisionId)).toBe(true);

    // Half visible for a second makes an impression; a click is sent at once.
    await page.waitForTimeout(1300);
    await page.evaluate("window.edgePersonalizer.flush()");
    const clicked = await page.getAttribute('[data-slot="hero"] .ep-item', "data-content-id");
    await page.click('[data-slot="hero"] .ep-item a');
    const types = await waitFor(async () => {
      const { results } = await stack.d1
        .prepare("SELECT type, content_id FROM events WHERE decision_id = ?")
        .bind(decisionId)
        .all<{ type: string; content_id: string }>();
      const kinds = new Set(results.map((r) => `${r.type}:${r.content_id}`));
      return kinds.has(`impression:${clicked}`) && kinds.has(`click:${clicked}`) ? kinds : null;
    });
    expect(types.has(`click:${clicked}`)).toBe(true);
    const cls = await page.evaluate<number>("window.__cls").catch(() => 0);
    expect(cls).toBeLessThan(0.1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("keeps the page's own content when the decision comes after the timeout", async () => {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    await page.route("**/v1/decide**", async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.goto(new URL(`/demo/tag?site=${BENCH_SITE}`, stack.url).href);
    await page.waitForSelector('[data-slot="hero"][data-ep-done]', { timeout: 5_000 });
    await page.waitForTimeout(2000);
    expect(await page.locator("[data-slot] .default").count()).toBeGreaterThan(0);
    expect(await page.locator("[data-slot][data-decision-id]").count()).toBe(0);
    expect(await page.evaluate<string>("getComputedStyle(document.querySelector('[data-slot=\"hero\"]')).visibility")).toBe("visible");
    await context.close();
  });

  it("tracks the slots that the edge filled, without deciding again", async () => {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1280, height: 2000 } });
    const page = await context.newPage();
    const decides: string[] = [];
    page.on("request", (req) => {
      if (req.url().includes("/v1/decide")) decides.push(req.url());
    });
    await page.goto(new URL(`/edge/${BENCH_SITE}/`, stack.url).href);
    const decisionId = (await page.getAttribute('[data-slot="hero"]', "data-decision-id")) ?? "";
    const shown = await page.getAttribute('[data-slot="hero"] .ep-item', "data-content-id");
    await page.waitForTimeout(1300);
    await page.evaluate("window.edgePersonalizer.flush()");
    await waitFor(async () => {
      const row = await stack.d1
        .prepare("SELECT count(*) AS n FROM events WHERE decision_id = ? AND type = 'impression' AND content_id = ?")
        .bind(decisionId, shown)
        .first<{ n: number }>();
      return (row?.n ?? 0) > 0;
    });
    expect(decides).toEqual([]);
    await context.close();
  });

  it("serves the edge page with filled slots when JavaScript is off", async () => {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, javaScriptEnabled: false });
    const page = await context.newPage();
    const res = await page.goto(new URL(`/edge/${BENCH_SITE}/`, stack.url).href);
    expect(res?.status()).toBe(200);
    expect(await page.locator('[data-slot][data-filled="edge"]').count()).toBe(3);
    expect(await page.locator('[data-slot="hero"] .ep-item').count()).toBe(1);
    expect(await page.locator('[data-slot="recommendations"] .ep-item').count()).toBe(3);
    expect(await page.locator('[data-slot="promo"] .ep-item').count()).toBe(1);
    await context.close();
  });
});
