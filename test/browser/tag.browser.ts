import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { BENCH_SITE } from "../../scripts/bench/seed-state";
import { addDemoSite, chromiumAvailable, DESKTOP_UA, type Stack, sharedStack, visitorCookie } from "../../scripts/harness/stack";
import { waitFor } from "../../scripts/harness/wait";
import { localLogRows } from "../../scripts/log/local";
import { demoItems } from "../../scripts/seed/demo-data";
import { createDb } from "../../worker/store/db";
import { contentVariants } from "../../worker/store/schema";
import type { DecideResponse } from "../../worker/wire/decide";
import { tcString } from "../support/tcf";

const CLS_OBSERVER = `window.__cls = 0;
new PerformanceObserver((list) => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value; })
  .observe({ type: "layout-shift", buffered: true });`;

type SlotState = { slot: string; items: number; decisionId: string | null };
const SLOT_STATE = `[...document.querySelectorAll("[data-slot]")].map((el) => ({
  slot: el.getAttribute("data-slot"), items: el.querySelectorAll(".ep-item").length, decisionId: el.getAttribute("data-decision-id"),
}))`;

/** True once every slot on the page carries a decision. */
const ALL_DECIDED = `[...document.querySelectorAll("[data-slot]")].every((el) => el.hasAttribute("data-decision-id"))`;
/** The one decision id that every slot shares, once it differs from `previous`. */
const newSharedDecision = (previous: string | null) => `(() => {
  const ids = new Set([...document.querySelectorAll("[data-slot]")].map((el) => el.getAttribute("data-decision-id")));
  const [id] = ids;
  return ids.size === 1 && id !== null && id !== ${JSON.stringify(previous)} && id;
})()`;
/** Stays true until the document is replaced: proves that nothing reloaded the page. */
const MARK_DOCUMENT = "window.__sameDocument = true";

/** A decide request the page made, with the answer the worker gave it. */
type DecideSeen = { url: URL; answer: Promise<DecideResponse> };
type TagPage = { context: BrowserContext; page: Page; decides: DecideSeen[]; errors: string[] };

describe.skipIf(!chromiumAvailable)("in Chromium", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await sharedStack();
  }, 180_000);

  /** `/demo/tag` for `site` once every slot is decided; `identified` makes the browser the stack's demo visitor. */
  async function openTagPage(site: string, options: { identified?: boolean; initScript?: string } = {}): Promise<TagPage> {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1280, height: 2000 } });
    if (options.identified) await context.addCookies([visitorCookie(stack)]);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    const decides: DecideSeen[] = [];
    page.on("response", (res) => {
      if (new URL(res.url()).pathname === "/v1/decide") decides.push({ url: new URL(res.url()), answer: res.json() });
    });
    if (options.initScript) await page.addInitScript(options.initScript);
    await page.goto(new URL(`/demo/tag?site=${site}&timeout=5000`, stack.url).href);
    await page.waitForFunction(ALL_DECIDED, null, { timeout: 10_000 });
    await page.evaluate(MARK_DOCUMENT);
    return { context, page, decides, errors };
  }

  async function waitForNewDecision(page: Page, previous: string | null): Promise<string> {
    return String(await (await page.waitForFunction(newSharedDecision(previous), null, { timeout: 10_000 })).jsonValue());
  }

  it("fits the demo pages, filled, on a 390 px phone without sideways scrolling", async () => {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 390, height: 844 } });
    await context.addCookies([visitorCookie(stack)]);
    const page = await context.newPage();
    for (const path of [`/demo/tag?site=${BENCH_SITE}&timeout=5000`, `/edge/${BENCH_SITE}/`]) {
      await page.goto(new URL(path, stack.url).href);
      await page.waitForFunction(ALL_DECIDED, null, { timeout: 10_000 });
      expect(await page.locator("[data-slot] .ep-item").count(), path).toBeGreaterThan(0);
      const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
      expect(overflow, path).toBeLessThanOrEqual(0);
    }
    await context.close();
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
      const results = (await localLogRows(stack.mf)).filter((r) => r.kind === "interaction" && r.decision_id === decisionId);
      const kinds = new Set(results.map((r) => `${r.event}:${r.content_id}`));
      return kinds.has(`impression:${clicked}`) && kinds.has(`click:${clicked}`) ? kinds : null;
    });
    expect(types.has(`click:${clicked}`)).toBe(true);
    const cls = await page.evaluate<number>("window.__cls").catch(() => 0);
    expect(cls).toBeLessThan(0.1);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("renders the page language's variants and labels synthetic ones (data-synthetic and the visible label)", async () => {
    const site = "variants-tag";
    await addDemoSite(stack, site, "opt-out");
    // Every item has an English variant (by a person) and a French one (generated, synthetic);
    // one statement per item, as D1 binds at most 100 parameters.
    for (const item of demoItems())
      await createDb(stack.d1)
        .insert(contentVariants)
        .values(
          (["en", "fr"] as const).map((language) => ({
            siteId: site,
            contentId: item.id,
            id: language,
            language,
            components: { title: `${language.toUpperCase()} ${item.render.title}` },
            provenance: language === "fr" ? { origin: "generated" as const, tool: "test" } : { origin: "human" as const },
            synthetic: language === "fr",
            status: "approved" as const,
          })),
        );
    const itemsOn = async (lang: string) => {
      const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, locale: "en-US" });
      const page = await context.newPage();
      await page.goto(new URL(`/demo/tag?site=${site}&timeout=5000&lang=${lang}`, stack.url).href);
      await page.waitForFunction(ALL_DECIDED, null, { timeout: 10_000 });
      const found = await page.evaluate<{ title: string; synthetic: string | null; label: string | null; labelShown: boolean }[]>(
        `[...document.querySelectorAll("[data-slot] .ep-item")].map((el) => {
          const label = el.querySelector(".ep-synthetic-label");
          return { title: el.querySelector(".ep-title").textContent, synthetic: el.getAttribute("data-synthetic"),
                   label: label && label.textContent, labelShown: !!label && label.getBoundingClientRect().height > 0 };
        })`,
      );
      await context.close();
      return found;
    };
    // The browser prefers English; the page is French, so French variants lead the chain.
    const french = await itemsOn("fr");
    expect(french).toHaveLength(5);
    for (const item of french)
      expect(item).toMatchObject({ title: expect.stringMatching(/^FR /), synthetic: "true", label: "AI-generated", labelShown: true });
    const english = await itemsOn("en");
    for (const item of english) expect(item).toMatchObject({ title: expect.stringMatching(/^EN /), synthetic: null, label: null });
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
      const rows = await localLogRows(stack.mf);
      return rows.some((r) => r.decision_id === decisionId && r.event === "impression" && r.content_id === shown);
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
    // The origin's own content is in the page, but inert (in a template) and not shown.
    expect(await page.locator("[data-slot] .default").count()).toBe(0);
    await context.close();
  });

  it("puts the origin's own content back in an edge-filled page when consent is withdrawn", async () => {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    await page.goto(new URL(`/edge/${BENCH_SITE}/`, stack.url).href);
    await page.waitForFunction("window.edgePersonalizer !== undefined");
    expect(await page.locator("[data-slot] .ep-item").count()).toBe(5);
    const withdrawn = await page.evaluate<SlotState[]>(
      `window.edgePersonalizer.setConsent({ personalization: false, measurement: false }); ${SLOT_STATE}`,
    );
    expect(withdrawn.every((s) => s.items === 0 && s.decisionId === null)).toBe(true);
    expect(await page.locator("[data-slot] .default").count()).toBe(5);
    expect(await page.locator('[data-slot="hero"] h1').textContent()).toBe("The autumn collection");
    await context.close();
  });

  describe("single-page apps", () => {
    it("decides again for every new URL (pushState, popstate), not for a new hash or history state", async () => {
      const { context, page, decides, errors } = await openTagPage(BENCH_SITE);
      const firstUrl = page.url();
      const first = await waitForNewDecision(page, null);
      await page.evaluate(`history.pushState({}, "", location.search + "&view=2")`);
      const second = await waitForNewDecision(page, first);
      expect(decides).toHaveLength(2);
      expect(decides[1]?.url.searchParams.get("url")).toBe(`${firstUrl}&view=2`);
      expect(decides[1]?.url.searchParams.get("ref")).toBe(firstUrl);

      // New state for the same URL, then a new hash: the same page. The next URL is the third decision.
      await page.evaluate(`history.replaceState({ step: 1 }, ""); history.pushState({}, "", "#reviews")`);
      await page.evaluate(`history.pushState({}, "", location.search.replace("view=2", "view=3"))`);
      const third = await waitForNewDecision(page, second);
      expect(decides).toHaveLength(3);

      // Back to "view=2#reviews": popstate.
      await page.evaluate("history.back()");
      await waitForNewDecision(page, third);
      expect(decides).toHaveLength(4);
      expect(decides[3]?.url.searchParams.get("url")).toBe(`${firstUrl}&view=2`);
      expect(await page.evaluate("window.__sameDocument")).toBe(true);
      expect(errors).toEqual([]);
      await context.close();
    });

    it("makes one request for a route change and the slots it renders; fills a slot added later", async () => {
      const { context, page, decides, errors } = await openTagPage(BENCH_SITE);
      const first = await waitForNewDecision(page, null);
      // What a router does: a new URL, then the new view's markup, in the same task.
      await page.evaluate(`history.pushState({}, "", location.search + "&view=sale");
        document.querySelector("main").innerHTML = '<section data-slot="hero" data-count="1"><div class="default">Sale</div></section>'
          + '<aside data-slot="promo" data-count="1"><div class="default">Sale promo</div></aside>';`);
      const route = await waitForNewDecision(page, first);
      expect(decides).toHaveLength(2);
      expect(decides[1]?.url.searchParams.get("slots")).toBe("hero:1,promo:1");

      await page.evaluate(`const late = document.createElement("aside");
        late.id = "late";
        late.setAttribute("data-slot", "recommendations");
        late.setAttribute("data-count", "2");
        late.innerHTML = '<div class="default">Later</div>';
        document.querySelector("main").append(late);`);
      await page.waitForSelector("#late[data-decision-id]", { timeout: 10_000 });
      expect(decides).toHaveLength(3);
      expect(decides[2]?.url.searchParams.get("slots")).toBe("recommendations:2");
      expect(await page.locator("#late .ep-item").count()).toBe(2);
      expect(await page.getAttribute("#late", "data-decision-id")).not.toBe(route);
      expect(await page.getAttribute('[data-slot="hero"]', "data-decision-id")).toBe(route);
      expect(errors).toEqual([]);
      await context.close();
    });
  });

  describe("consent", () => {
    const OPT_IN = "optin";
    beforeAll(async () => {
      await addDemoSite(stack, OPT_IN, "opt-in");
    });

    it("setConsent: a grant decides again with the profile; a withdrawal puts the page's own content back at once", async () => {
      const { context, page, decides, errors } = await openTagPage(OPT_IN, { identified: true });
      expect(await decides[0]?.answer).toMatchObject({ mode: "contextual", modeReason: "opt-in_without_consent" });
      const before = await waitForNewDecision(page, null);

      await page.evaluate("window.edgePersonalizer.setConsent({ personalization: true, measurement: true })");
      await waitForNewDecision(page, before);
      expect(await decides[1]?.answer).toMatchObject({ mode: "personalized", modeReason: "banner_granted" });

      // Read in the same task as the call: the page's content is back before the server has answered.
      const withdrawn = await page.evaluate<SlotState[]>(
        `window.__withdrawal = window.edgePersonalizer.setConsent({ personalization: false, measurement: false }); ${SLOT_STATE}`,
      );
      expect(withdrawn.map((s) => [s.slot, s.items, s.decisionId])).toEqual([
        ["hero", 0, null],
        ["recommendations", 0, null],
        ["promo", 0, null],
      ]);
      expect(await page.locator("[data-slot] .default").count()).toBe(5);
      await page.evaluate("window.__withdrawal");
      expect(await page.evaluate(`fetch("/v1/consent?site=${OPT_IN}").then((res) => res.json())`)).toMatchObject({
        personalization: false,
        measurement: false,
        basis: "banner_denied",
      });
      expect(await page.evaluate<string>(`getComputedStyle(document.querySelector('[data-slot="hero"]')).visibility`)).toBe("visible");
      expect(await page.evaluate("window.__sameDocument")).toBe(true);
      expect(decides).toHaveLength(2);
      expect(errors).toEqual([]);
      await context.close();
    });

    it("a decision still on its way when consent is withdrawn fills nothing", async () => {
      const { context, page } = await openTagPage(BENCH_SITE, { identified: true });
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const requested = new Promise<void>((resolve) => {
        void page.route("**/v1/decide**", async (route) => {
          resolve();
          await held;
          await route.continue();
        });
      });
      await page.evaluate("window.edgePersonalizer.refresh()");
      await requested;
      await page.evaluate("window.edgePersonalizer.setConsent({ personalization: false, measurement: false })");
      const answered = page.waitForResponse((res) => new URL(res.url()).pathname === "/v1/decide");
      release();
      await (await answered).finished();
      // The answer is in the page now; give its handlers time to (wrongly) use it.
      await page.waitForTimeout(500);
      expect(await page.locator("[data-slot][data-decision-id]").count()).toBe(0);
      expect(await page.locator("[data-slot] .default").count()).toBe(5);
      await context.close();
    });

    it("follows an IAB CMP (__tcfapi): re-decides on a grant, restores the page's content on a withdrawal", async () => {
      // A CMP stub: on the visitor's choice it stores the TC string in its first-party cookie (which
      // the worker reads), then tells its listeners, as IAB's CMP API specifies.
      const cmp = `(() => {
        const listeners = [];
        window.__tcfapi = (command, version, callback) => {
          if (command !== "addEventListener" || version !== 2) return callback(null, false);
          listeners.push(callback);
          callback({ tcString: "", eventStatus: "cmpuishown", gdprApplies: true, publisher: { consents: {} } }, true);
        };
        window.__cmpChoice = (tcString, consents) => {
          document.cookie = "euconsent-v2=" + tcString + "; path=/";
          for (const listener of listeners) listener({ tcString, eventStatus: "useractioncomplete", gdprApplies: true, publisher: { consents } }, true);
        };
      })();`;
      const granted = tcString({ publisherPurposes: [1, 5, 6, 8] });
      const denied = tcString({ publisherPurposes: [] });
      const { context, page, decides, errors } = await openTagPage(OPT_IN, { identified: true, initScript: cmp });
      expect(decides).toHaveLength(1);
      expect(await decides[0]?.answer).toMatchObject({ mode: "contextual", modeReason: "opt-in_without_consent" });
      const before = await waitForNewDecision(page, null);

      await page.evaluate(`window.__cmpChoice(${JSON.stringify(granted)}, { 1: true, 5: true, 6: true, 8: true })`);
      await waitForNewDecision(page, before);
      expect(await decides[1]?.answer).toMatchObject({ mode: "personalized", modeReason: "tcf_granted" });
      // The CMP's string goes with the request too, for CMPs that keep no cookie.
      expect(decides[1]?.url.searchParams.get("gdpr_consent")).toBe(granted);

      const withdrawn = await page.evaluate<SlotState[]>(`window.__cmpChoice(${JSON.stringify(denied)}, {}); ${SLOT_STATE}`);
      expect(withdrawn.every((s) => s.items === 0 && s.decisionId === null)).toBe(true);
      expect(await page.locator("[data-slot] .default").count()).toBe(5);
      expect(await page.evaluate("window.__sameDocument")).toBe(true);
      expect(decides).toHaveLength(2);

      // The next page view: the worker reads the withdrawal from the CMP's cookie.
      await page.reload();
      await page.waitForFunction(ALL_DECIDED, null, { timeout: 10_000 });
      expect(await decides[2]?.answer).toMatchObject({ mode: "contextual", modeReason: "tcf_denied" });
      expect(errors).toEqual([]);
      await context.close();
    });
  });
});
