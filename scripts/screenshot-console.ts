/**
 * `npm run screenshot`: the console's performance page as docs/marketer-data-scientist.md shows it (docs/console-performance.png).
 * Starts the production bundle on workerd with its queue consumer, sends simulated visitors through
 * the real decide, events and consent endpoints (SYNTHETIC behaviour, see scripts/harness/traffic.ts),
 * signs in with the throwaway admin token in Debian's Chromium and saves the full page.
 */
import { mkdirSync } from "node:fs";
import { parseArgs } from "node:util";
import { BENCH_SITE } from "./bench/seed-state";
import { chromiumAvailable, DESKTOP_UA, startStack } from "./harness/stack";
import { simulateConsoleTraffic } from "./harness/traffic";

async function main() {
  const { values } = parseArgs({
    options: { out: { type: "string", default: "docs/console-performance.png" }, visitors: { type: "string", default: "600" } },
  });
  if (!chromiumAvailable) throw new Error("needs Debian's chromium (apt-get install chromium) or CHROMIUM_PATH");
  const stack = await startStack("screenshot");
  try {
    const traffic = await simulateConsoleTraffic(stack, BENCH_SITE, { visitors: Number(values.visitors) });
    process.stderr.write(`simulated ${traffic.visitors.length} visitors, ${traffic.events} events\n`);
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(new URL("/admin/sign-in", stack.consoleUrl).href);
    await page.fill("#token", stack.secrets.ADMIN_TOKEN ?? "");
    await Promise.all([page.waitForURL((url) => url.pathname !== "/admin/sign-in"), page.press("#token", "Enter")]);
    await page.goto(new URL(`/admin/performance?site=${BENCH_SITE}&days=14`, stack.consoleUrl).href);
    await page.waitForSelector("figure[data-chart][data-drawn='true'] canvas");
    mkdirSync("docs", { recursive: true });
    await page.screenshot({ path: values.out, fullPage: true });
    process.stderr.write(`saved ${values.out}\n`);
    await context.close();
  } finally {
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
