import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { buildBundle } from "../../scripts/bench/bundle";
import { readQueueConsumers, withQueueConsumers } from "../../scripts/bench/queues";
import { seedBenchState } from "../../scripts/bench/seed-state";
import {
  type Miniflare,
  miniflareOptions,
  readWranglerConfig,
  startWorkerd,
  stderrLogSink,
  stopWorkerd,
  throwawaySecrets,
} from "../../scripts/bench/workerd";

/**
 * The production bundle on workerd (Miniflare's own socket, real local D1/KV/queue with its
 * consumer) and Debian's Chromium driven by playwright-core: what a visitor's browser sees.
 */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const chromiumAvailable = existsSync(CHROMIUM);

/** A desktop browser's user agent: headless Chromium's own says "HeadlessChrome", which counts as a bot. */
export const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";

export type Stack = { mf: Miniflare; url: URL; d1: D1Database; browser: Browser; stop(): Promise<void> };

export async function startStack(): Promise<Stack> {
  const config = await readWranglerConfig();
  const bundle = buildBundle(config.main, join("bench-out", "browser-bundle"));
  const secrets = {
    ...throwawaySecrets(),
    // Every request reads the catalogue afresh, so that a test's changes show at once.
    CONFIG_TTL_MS: "0",
    // The first decision waits for the model instead of serving editor defaults.
    MODEL_LOAD_BUDGET_MS: "60000",
  };
  const options = miniflareOptions({
    bundle,
    config,
    secrets,
    stateDir: mkdtempSync(join(tmpdir(), "ep-browser-")),
    logs: stderrLogSink("workerd"),
  });
  const mf = startWorkerd(withQueueConsumers(options, await readQueueConsumers()));
  const url = await mf.ready;
  await seedBenchState(mf, secrets.ID_SIGNING_KEY);
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
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  return {
    mf,
    url,
    d1,
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
