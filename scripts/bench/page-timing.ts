import type { Browser } from "playwright-core";
import { DESKTOP_UA, launchChromium } from "./chromium";
import { median, percentile } from "./stats";

/**
 * Runs in the page before any of its own scripts (it is sent as text: it executes in Chromium,
 * not here). Records, in ms since navigation start: when every `[data-slot]` first carries a
 * decision (a MutationObserver sees the attribute the moment the tag sets it) and the first
 * contentful paint.
 */
const PAGE_PROBE = `window.__timing = {};
new MutationObserver((_, observer) => {
  const slots = document.querySelectorAll("[data-slot]");
  if (slots.length > 0 && [...slots].every((slot) => slot.hasAttribute("data-decision-id"))) {
    window.__timing.filled = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-decision-id"] });
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.name === "first-contentful-paint") window.__timing.paint = entry.startTime;
}).observe({ type: "paint", buffered: true });`;

/** `decide`: the tag's decide request, from its start to the answer's last byte (Resource Timing). */
type PageTiming = { filled?: number; paint?: number; contentLoaded: number; decide?: number };

/** The tag's default anti-flicker timeout: a decide request slower than this leaves the page's own content. */
const DEFAULT_TAG_TIMEOUT_MS = 300;

export type Distribution = { medianMs: number; p95Ms: number };
export type PageTimings = {
  loads: number;
  /** /demo/tag: navigation start to every slot filled. */
  filled: Distribution;
  /** The tag's decide request, and how many were slower than the default timeout allows. */
  decide: Distribution;
  overDefaultTimeout: number;
  /** The same page without the tag: first contentful paint and DOMContentLoaded. */
  plainPaint: Distribution;
  plainContentLoaded: Distribution;
};

const distribution = (values: number[]): Distribution => ({ medianMs: median(values), p95Ms: percentile(values, 95) });

async function load(browser: Browser, url: URL, cookie: string, waitFor: "filled" | "paint"): Promise<PageTiming> {
  // A new context per load: a first visit, nothing cached, as a visitor arriving from elsewhere.
  const context = await browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1280, height: 2000 } });
  try {
    const [name = "", value = ""] = cookie.split(/=(.*)/s);
    await context.addCookies([{ name, value, url: url.href }]);
    const page = await context.newPage();
    await page.addInitScript(PAGE_PROBE);
    await page.goto(url.href);
    await page.waitForFunction(`window.__timing.${waitFor} !== undefined`, null, { timeout: 15_000 });
    return await page.evaluate<PageTiming>(
      `({
        ...window.__timing,
        contentLoaded: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd,
        decide: performance.getEntriesByType("resource").find((entry) => entry.name.includes("/v1/decide?"))?.duration,
      })`,
    );
  } finally {
    await context.close();
  }
}

/**
 * Time to filled slots in Chromium: `tagPath` (the shop page with the script tag) against
 * `plainPath` (the same page without it) as the baseline, loaded alternately so that both see the
 * same machine. The tag gets a long timeout so that every load is measured, slow ones included.
 */
export async function measurePageTimings(
  base: URL,
  paths: { tagPath: string; plainPath: string },
  cookie: string,
  loads: number,
): Promise<PageTimings> {
  const browser = await launchChromium();
  try {
    const tagUrl = new URL(paths.tagPath, base);
    tagUrl.searchParams.set("timeout", "10000");
    const plainUrl = new URL(paths.plainPath, base);
    // Unmeasured: Chromium's own first-run costs and the worker's first page views.
    for (let i = 0; i < 2; i++) {
      await load(browser, tagUrl, cookie, "filled");
      await load(browser, plainUrl, cookie, "paint");
    }
    const filled: number[] = [];
    const decide: number[] = [];
    const paint: number[] = [];
    const contentLoaded: number[] = [];
    for (let i = 0; i < loads; i++) {
      const tagged = await load(browser, tagUrl, cookie, "filled");
      if (tagged.decide === undefined) throw new Error(`${tagUrl.href} made no decide request`);
      filled.push(tagged.filled as number);
      decide.push(tagged.decide);
      const plain = await load(browser, plainUrl, cookie, "paint");
      paint.push(plain.paint as number);
      contentLoaded.push(plain.contentLoaded);
    }
    return {
      loads,
      filled: distribution(filled),
      decide: distribution(decide),
      overDefaultTimeout: decide.filter((ms) => ms > DEFAULT_TAG_TIMEOUT_MS).length,
      plainPaint: distribution(paint),
      plainContentLoaded: distribution(contentLoaded),
    };
  } finally {
    await browser.close();
  }
}
