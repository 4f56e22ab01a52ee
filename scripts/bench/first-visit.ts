/**
 * A first visit, measured: `npm run bench:first-visit [-- --rounds N --loads N]`. Each round starts
 * a fresh workerd (production's settings: the model is loaded on the first decision, caches live
 * CONFIG_TTL_MS) and loads /demo/tag in new Chromium contexts (nothing cached: a first visit from
 * a fresh browser), with the tag's default 300 ms anti-flicker limit. Per load it prints where the
 * time goes, from navigation start: the tag's download, when its decide request starts and how
 * long it takes, whether the slots were filled within the limit, and the decision's mode.
 */
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import type { DecideResponse } from "../../worker/wire/decide";
import { DESKTOP_UA, launchChromium } from "./chromium";
import { BENCH_SITE } from "./seed-state";
import { startWorkerWithConsumer } from "./stack";
import { median } from "./stats";
import { stopWorkerd } from "./workerd";

type Load = {
  round: number;
  load: number;
  tagStart: number;
  tagEnd: number;
  decideStart: number;
  decideMs: number;
  filled: boolean;
  filledAt: number | null;
  mode: string;
};

const PROBE = `window.__filled = null;
new MutationObserver((_, observer) => {
  const slots = document.querySelectorAll("[data-slot]");
  if (slots.length > 0 && [...slots].every((slot) => slot.hasAttribute("data-decision-id"))) {
    window.__filled = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-decision-id"] });`;

/** Resource timing of the tag and of its decide request; waits until the decide has answered and the limit has passed. */
async function timings(page: Page) {
  await page.waitForFunction(
    `performance.getEntriesByType("resource").some((e) => e.name.includes("/v1/decide?") && e.responseEnd > 0)`,
    null,
    {
      timeout: 30_000,
    },
  );
  await page.waitForTimeout(400);
  return page.evaluate<{ tagStart: number; tagEnd: number; decideStart: number; decideMs: number; filledAt: number | null }>(`(() => {
    const entries = performance.getEntriesByType("resource");
    const tag = entries.find((e) => e.name.includes("/v1/tag.js"));
    const decide = entries.find((e) => e.name.includes("/v1/decide?"));
    return { tagStart: tag.startTime, tagEnd: tag.responseEnd, decideStart: decide.startTime, decideMs: decide.duration, filledAt: window.__filled };
  })()`);
}

async function main() {
  const { values } = parseArgs({ options: { rounds: { type: "string", default: "3" }, loads: { type: "string", default: "3" } } });
  const rounds = Number(values.rounds);
  const loads = Number(values.loads);
  const browser = await launchChromium();
  const all: Load[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      // Production's caching and model loading, not the tests' (which wait for the model).
      const stack = await startWorkerWithConsumer(`first-visit-${round}`, { vars: { CONFIG_TTL_MS: "30000", MODEL_LOAD_BUDGET_MS: "0" } });
      try {
        for (let load = 1; load <= loads; load++) {
          const context = await browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1280, height: 2000 } });
          const page = await context.newPage();
          await page.addInitScript(PROBE);
          const answer = page
            .waitForResponse((res) => new URL(res.url()).pathname === "/v1/decide")
            .then((res) => res.json() as Promise<DecideResponse>);
          await page.goto(new URL(`/demo/tag?site=${BENCH_SITE}`, stack.url).href);
          const t = await timings(page);
          all.push({ round, load, ...t, filled: t.filledAt !== null, mode: (await answer).mode });
          await context.close();
        }
      } finally {
        await stopWorkerd(stack.mf);
      }
    }
  } finally {
    await browser.close();
  }
  const ms = (v: number | null) => (v === null ? "-" : `${Math.round(v)}`.padStart(5));
  console.log("round load  tag.js start→end  decide start  decide ms  filled at  within 300 ms  mode");
  for (const l of all) {
    console.log(
      `${String(l.round).padStart(5)} ${String(l.load).padStart(4)}  ${ms(l.tagStart)} → ${ms(l.tagEnd)}      ${ms(l.decideStart)}      ${ms(l.decideMs)}      ${ms(l.filledAt)}  ${l.filled ? "yes" : "NO "}            ${l.mode}`,
    );
  }
  const first = all.filter((l) => l.load === 1);
  const later = all.filter((l) => l.load > 1);
  const summary = (name: string, set: Load[]) =>
    set.length &&
    console.log(
      `${name}: filled within the limit ${set.filter((l) => l.filled).length}/${set.length}; decide median ${Math.round(median(set.map((l) => l.decideMs)))} ms; tag.js done at median ${Math.round(median(set.map((l) => l.tagEnd)))} ms; filled at median ${Math.round(median(set.filter((l) => l.filledAt !== null).map((l) => l.filledAt as number)))} ms`,
    );
  summary("first load on a fresh worker", first);
  summary("later first visits (fresh browsers, warm worker)", later);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
