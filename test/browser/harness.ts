import type { Browser } from "playwright-core";
import { chromiumAvailable as chromiumInstalled, DESKTOP_UA, launchChromium } from "../../scripts/bench/chromium";
import type { BenchVisitor } from "../../scripts/bench/seed-state";
import { startWorkerWithConsumer } from "../../scripts/bench/stack";
import { type Miniflare, stopWorkerd } from "../../scripts/bench/workerd";
import { demoVisitors, insertDemoSite } from "../../scripts/seed/demo-data";
import { createDb } from "../../worker/store/db";
import { writeProfile } from "../../worker/store/profiles";
import type { ConsentModel } from "../../worker/store/schema";

export const chromiumAvailable = chromiumInstalled();
export { DESKTOP_UA };

/**
 * The production bundle on workerd (Miniflare's own socket, real local D1/KV/queue with its
 * consumer) and Debian's Chromium driven by playwright-core: what a visitor's browser sees.
 * `visitor`: the first demo visitor, with a profile on the bench site and a cookie signed for this stack.
 */
export type Stack = { mf: Miniflare; url: URL; d1: D1Database; visitor: BenchVisitor; browser: Browser; stop(): Promise<void> };

export async function startStack(): Promise<Stack> {
  // Every request reads the catalogue afresh (a test's changes show at once); the first decision
  // waits for the model instead of serving editor defaults.
  const { mf, url, visitor } = await startWorkerWithConsumer("browser");
  const d1 = (await mf.getD1Database("DB")) as unknown as D1Database;
  // The demo origin, for the edge-rewriting route.
  await d1.prepare("UPDATE sites SET origin_url = 'bundled:demo' WHERE id = 'bench'").run();
  // Wait until the model serves, so that no test meets a cold isolate's editor defaults.
  await waitFor(async () => {
    const res = await fetch(new URL("/v1/decide", url), {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": DESKTOP_UA },
      body: JSON.stringify({ site: "bench", page: { url: "https://shop.example/" }, slots: [{ id: "hero" }] }),
    });
    return res.ok && ((await res.json()) as { mode: string }).mode !== "default";
  }, 60_000);
  const browser = await launchChromium();
  return {
    mf,
    url,
    d1,
    visitor,
    browser,
    async stop() {
      await browser.close();
      await stopWorkerd(mf);
    },
  };
}

export async function waitFor<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Another site with the demo catalogue (served by the demo origin), on which the stack's visitor has a profile too. */
export async function addDemoSite(stack: Stack, id: string, consentModel: ConsentModel): Promise<void> {
  await insertDemoSite(createDb(stack.d1), { id, name: id, consentModel, allowedOrigins: [stack.url.origin], originUrl: "bundled:demo" });
  const profile = demoVisitors().find((v) => v.id === stack.visitor.id)?.profile;
  if (!profile) throw new Error("the stack's visitor is not a demo visitor");
  // Miniflare types its KV proxy with the experimental workers types; writeProfile takes the stable ones.
  await writeProfile((await stack.mf.getKVNamespace("PROFILES")) as unknown as KVNamespace, id, stack.visitor.id, profile);
}

/** The stack's visitor as a browser cookie: the browser is then that identified visitor. */
export function visitorCookie(stack: Stack): { name: string; value: string; url: string } {
  const [name = "", value = ""] = stack.visitor.cookie.split(/=(.*)/s);
  return { name, value, url: stack.url.href };
}
