import type { Browser } from "playwright-core";
import { createDb } from "../../worker/store/db";
import type { ConsentModel } from "../../worker/wire/consent";
import { chromiumAvailable as chromiumInstalled, DESKTOP_UA, launchChromium } from "../bench/chromium";
import { BENCH_SITE, type BenchVisitor, putProfiles } from "../bench/seed-state";
import { startWorkerWithConsumer } from "../bench/stack";
import { type Miniflare, stopWorkerd } from "../bench/workerd";
import { demoVisitors, insertDemoSite } from "../seed/demo-data";
import { seedSecrets } from "./traffic";
import { waitFor } from "./wait";

export const chromiumAvailable = chromiumInstalled();
export { DESKTOP_UA };

/**
 * The production bundle on workerd (Miniflare's own socket, real local D1/KV/queue with its
 * consumer) and Debian's Chromium driven by playwright-core: what a visitor's browser sees. Used by
 * the browser tests and `npm run screenshot`.
 * `visitor`: the first demo visitor, with a profile on the bench site and a cookie signed for this stack.
 */
export type Stack = {
  mf: Miniflare;
  url: URL;
  /** The same worker on its console host (CONSOLE_HOST): the only host that serves /admin. */
  consoleUrl: URL;
  d1: D1Database;
  visitor: BenchVisitor;
  browser: Browser;
  /** The stack's throwaway tokens and keys (ADMIN_TOKEN, PRIVACY_TOKEN, ID_SIGNING_KEY), for tests that sign in. */
  secrets: Record<string, string>;
  stop(): Promise<void>;
};

/**
 * `name` names the bundle and state directories: stacks that may run at once each take their own.
 * `consumerBatchTimeoutS`: the queue consumer's flush time, production's (wrangler.toml) unless set.
 */
export async function startStack(name: string, options: { consumerBatchTimeoutS?: number } = {}): Promise<Stack> {
  // Every request reads the catalogue afresh (a test's changes show at once); the first decision
  // waits for the model instead of serving editor defaults.
  const { mf, url, consoleUrl, visitor, secrets } = await startWorkerWithConsumer(name, options);
  const d1 = (await mf.getD1Database("DB")) as unknown as D1Database;
  // The demo origin, for the edge-rewriting route.
  await d1.prepare("UPDATE sites SET origin_url = 'bundled:demo' WHERE id = ?").bind(BENCH_SITE).run();
  // Wait until the model serves, so that no test meets a cold isolate's editor defaults.
  await waitFor(async () => {
    const res = await fetch(new URL("/v1/decide", url), {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": DESKTOP_UA },
      body: JSON.stringify({ site: BENCH_SITE, page: { url: "https://shop.example/" }, slots: [{ id: "hero" }] }),
    });
    return res.ok && ((await res.json()) as { mode: string }).mode !== "default";
  }, 60_000);
  const browser = await launchChromium();
  return {
    mf,
    url,
    consoleUrl,
    d1,
    visitor,
    browser,
    secrets,
    async stop() {
      await browser.close();
      await stopWorkerd(mf);
    },
  };
}

/**
 * The stack that every browser test file of this process shares, started by the first that asks.
 * Kept on `globalThis` under a registered symbol: the test environment that stops it
 * (test/browser/environment.ts) loads this module apart from the test files.
 */
const SHARED = Symbol.for("edge-personalizer.sharedStack");
type WithSharedStack = typeof globalThis & { [SHARED]?: Promise<Stack> };

export function sharedStack(): Promise<Stack> {
  const global = globalThis as WithSharedStack;
  // The consumer flushes after 0.1 s: tests wait for what it writes.
  global[SHARED] ??= startStack("browser", { consumerBatchTimeoutS: 0.1 });
  return global[SHARED];
}

export async function stopSharedStack(): Promise<void> {
  const global = globalThis as WithSharedStack;
  const started = global[SHARED];
  delete global[SHARED];
  if (started) await (await started).stop();
}

/**
 * Another site with the demo catalogue (served by the demo origin), on which the stack's visitor has
 * a profile too; `policy` as a site's settings hold it (the default policy unless given).
 */
export async function addDemoSite(stack: Stack, id: string, consentModel: ConsentModel, policy?: unknown): Promise<void> {
  const site = { id, name: id, consentModel, allowedOrigins: [stack.url.origin], originUrl: "bundled:demo" };
  await insertDemoSite(createDb(stack.d1), policy === undefined ? site : { ...site, policy });
  const profile = demoVisitors().find((v) => v.id === stack.visitor.id)?.profile;
  if (!profile) throw new Error("the stack's visitor is not a demo visitor");
  await putProfiles(stack.url, seedSecrets(stack), [{ site: id, visitorId: stack.visitor.id, profile }]);
}

/** The stack's visitor as a browser cookie: the browser is then that identified visitor. */
export function visitorCookie(stack: Stack): { name: string; value: string; url: string } {
  const [name = "", value = ""] = stack.visitor.cookie.split(/=(.*)/s);
  return { name, value, url: stack.url.href };
}
