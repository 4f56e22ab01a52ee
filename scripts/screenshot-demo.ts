/**
 * `npm run screenshot:demo -- --tag after`: what a person sees first, at 1280 and 390 px, saved as
 * docs/screenshots/<page>-<width>-<tag>.png: the demo shop with the script tag as the stack's demo
 * shopper (personalized), and the console's models page (score histogram) after simulated traffic
 * (SYNTHETIC behaviour, scripts/harness/traffic.ts). Viewport-sized shots, to keep the files small.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BENCH_SITE } from "./bench/seed-state";
import { chromiumAvailable, DESKTOP_UA, startStack, visitorCookie } from "./harness/stack";
import { simulateConsoleTraffic } from "./harness/traffic";

const WIDTHS = [
  { width: 1280, height: 900 },
  { width: 390, height: 844 },
];

async function main() {
  const { values } = parseArgs({
    options: {
      tag: { type: "string", default: "after" },
      out: { type: "string", default: "docs/screenshots" },
      visitors: { type: "string", default: "150" },
    },
  });
  if (!chromiumAvailable) throw new Error("needs Debian's chromium (apt-get install chromium) or CHROMIUM_PATH");
  mkdirSync(values.out, { recursive: true });
  const stack = await startStack("screenshot-demo");
  try {
    // The demo first: the simulated traffic then changes the site's policy (experiments, holdout).
    for (const viewport of WIDTHS) {
      const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, viewport, deviceScaleFactor: 1 });
      await context.addCookies([visitorCookie(stack)]);
      const page = await context.newPage();
      await page.goto(new URL(`/demo/tag?site=${BENCH_SITE}&timeout=5000`, stack.url).href);
      await page.waitForFunction(`[...document.querySelectorAll("[data-slot]")].every((el) => el.hasAttribute("data-decision-id"))`);
      await page.waitForLoadState("networkidle");
      await page.screenshot({ path: join(values.out, `demo-${viewport.width}-${values.tag}.png`) });
      await context.close();
    }
    await simulateConsoleTraffic(stack, BENCH_SITE, { visitors: Number(values.visitors) });
    for (const viewport of WIDTHS) {
      const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, viewport, deviceScaleFactor: 1 });
      const page = await context.newPage();
      await page.goto(new URL("/admin/sign-in", stack.consoleUrl).href);
      await page.fill("#token", stack.secrets.ADMIN_TOKEN ?? "");
      await Promise.all([page.waitForURL((url) => url.pathname !== "/admin/sign-in"), page.press("#token", "Enter")]);
      await page.goto(new URL(`/admin/models?site=${BENCH_SITE}`, stack.consoleUrl).href);
      await page.locator("figure[data-chart]").first().scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(values.out, `models-${viewport.width}-${values.tag}.png`) });
      await context.close();
    }
    process.stderr.write(`saved to ${values.out}\n`);
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
