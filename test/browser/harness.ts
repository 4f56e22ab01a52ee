import type { Browser } from "playwright-core";
import { chromiumAvailable as chromiumInstalled, DESKTOP_UA, launchChromium } from "../../scripts/bench/chromium";
import { BENCH_SITE, type BenchVisitor } from "../../scripts/bench/seed-state";
import { startWorkerWithConsumer } from "../../scripts/bench/stack";
import { type Miniflare, stopWorkerd } from "../../scripts/bench/workerd";
import { demoVariants, demoVisitors, insertDemoSite } from "../../scripts/seed/demo-data";
import { createRandom } from "../../scripts/train/random";
import { VISITOR_COOKIE } from "../../worker/http/cookies";
import { sign } from "../../worker/lib/signing";
import { createDb } from "../../worker/store/db";
import { writeProfile } from "../../worker/store/profiles";
import type { ConsentModel } from "../../worker/store/schema";
import type { DecideResponse } from "../../worker/wire/decide";

export const chromiumAvailable = chromiumInstalled();
export { DESKTOP_UA };

/**
 * The production bundle on workerd (Miniflare's own socket, real local D1/KV/queue with its
 * consumer) and Debian's Chromium driven by playwright-core: what a visitor's browser sees.
 * `visitor`: the first demo visitor, with a profile on the bench site and a cookie signed for this stack.
 */
export type Stack = {
  mf: Miniflare;
  url: URL;
  d1: D1Database;
  visitor: BenchVisitor;
  browser: Browser;
  /** The stack's throwaway tokens and keys (ADMIN_TOKEN, PRIVACY_TOKEN, ID_SIGNING_KEY), for tests that sign in. */
  secrets: Record<string, string>;
  stop(): Promise<void>;
};

/** `name` names the bundle and state directories: suites that may run at once each take their own. */
export async function startStack(name = "browser"): Promise<Stack> {
  // Every request reads the catalogue afresh (a test's changes show at once); the first decision
  // waits for the model instead of serving editor defaults.
  const { mf, url, visitor, secrets } = await startWorkerWithConsumer(name);
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
    secrets,
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

/** What `simulateTraffic` sent: visitors by id (each with a signed cookie), and the events the consumer must write. */
export type Traffic = { visitors: { id: string; cookie: string }[]; events: number };

const SIM_UA = {
  desktop: DESKTOP_UA,
  mobile: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1",
};

/**
 * Simulated visitors through the real endpoints (as `npm run simulate` does): the bench site gets a
 * 20% holdout, ε = 0.1 exploration, country/device fairness segments and a two-arm experiment;
 * the demo catalogue's variants are imported and the seed's approved ones approved; each visitor decides once (from FR, DE or ES, on desktop or mobile), reports an impression per
 * shown item and clicks at a known rate (SYNTHETIC behaviour), and one in four answers the banner.
 * Events are stamped over the last `days` days (the event's `ts` is the client's), so that the
 * console's daily series have more than one point; decisions are logged today. Returns once the
 * queue consumer has written every event.
 */
export async function simulateTraffic(stack: Stack, options: { visitors?: number; days?: number; seed?: number } = {}): Promise<Traffic> {
  const { visitors = 300, days = 7, seed = 1 } = options;
  const random = createRandom(seed).next;
  const admin = { authorization: `Bearer ${stack.secrets.ADMIN_TOKEN}`, "content-type": "application/json" };
  const policy = {
    holdout: { share: 0.2 },
    exploration: { kind: "epsilon-greedy", epsilon: 0.1 },
    fairness: { segments: ["country", "device"], disparityRatio: 1.25 },
    experiments: [
      {
        id: "hero-order",
        arms: [
          { name: "model", weight: 1 },
          { name: "editor", weight: 1, policy: "editor-default" },
        ],
      },
    ],
  };
  const put = await fetch(new URL(`/v1/admin/sites/${BENCH_SITE}/policy`, stack.url), {
    method: "PUT",
    headers: admin,
    body: JSON.stringify(policy),
  });
  if (!put.ok) throw new Error(`policy: ${put.status} ${await put.text()}`);
  // The demo catalogue's variants, reviewed as `npm run seed` leaves them (drafts stay for a reviewer).
  const variants = demoVariants();
  const imported = await fetch(new URL(`/v1/admin/sites/${BENCH_SITE}/variants`, stack.url), {
    method: "POST",
    headers: admin,
    body: JSON.stringify({ variants: variants.map((v) => v.variant) }),
  });
  if (!imported.ok) throw new Error(`variants: ${imported.status} ${await imported.text()}`);
  for (const { variant, status } of variants.filter((v) => v.status === "approved")) {
    const path = `/v1/admin/sites/${BENCH_SITE}/variants/${variant.contentId}/${variant.id}/review`;
    const reviewed = await fetch(new URL(path, stack.url), { method: "POST", headers: admin, body: JSON.stringify({ status }) });
    if (!reviewed.ok) throw new Error(`review: ${reviewed.status} ${await reviewed.text()}`);
  }
  const sent: Traffic = { visitors: [], events: 0 };
  for (let i = 0; i < visitors; i++) {
    const id = crypto.randomUUID();
    const device = random() < 0.4 ? "mobile" : "desktop";
    const country = (["FR", "DE", "ES"] as const)[Math.floor(random() * 3)] ?? "FR";
    const cookie = `${VISITOR_COOKIE}=${encodeURIComponent(await sign(id, stack.secrets.ID_SIGNING_KEY ?? ""))}`;
    const headers = { "content-type": "application/json", cookie, "user-agent": SIM_UA[device] };
    sent.visitors.push({ id, cookie });
    if (i % 4 === 0) {
      const consent = await stack.mf.dispatchFetch(new URL("/v1/consent", stack.url), {
        method: "POST",
        headers,
        body: JSON.stringify({ site: BENCH_SITE, purposes: { personalization: random() < 0.8, measurement: true } }),
      });
      if (!consent.ok) throw new Error(`consent: ${consent.status} ${await consent.text()}`);
    }
    const res = await stack.mf.dispatchFetch(new URL("/v1/decide", stack.url), {
      method: "POST",
      headers,
      body: JSON.stringify({
        site: BENCH_SITE,
        page: { url: "https://shop.example/" },
        slots: [{ id: "hero" }, { id: "recommendations", count: 3 }, { id: "promo" }],
      }),
      cf: { country, timezone: "Europe/Paris" },
    });
    if (!res.ok) throw new Error(`decide: ${res.status} ${await res.text()}`);
    const d = (await res.json()) as DecideResponse;
    const treated = d.modeReason !== "holdout";
    const p = 0.04 * (treated ? 1.5 : 1) * (device === "mobile" ? 0.6 : 1);
    const ts = Date.now() - (i % days) * 24 * 60 * 60 * 1000;
    const events = d.slots.flatMap((slot) =>
      slot.items.flatMap((item, k) => {
        const base = { decisionId: d.decisionId, slot: slot.slot, contentId: item.contentId, ts, eventToken: d.eventToken };
        const shown = [{ ...base, eventId: `${d.decisionId.slice(0, 8)}-${slot.slot}-${k}-i`, type: "impression" }];
        if (random() < p) shown.push({ ...base, eventId: `${d.decisionId.slice(0, 8)}-${slot.slot}-${k}-c`, type: "click" });
        if (random() < p / 4) shown.push({ ...base, eventId: `${d.decisionId.slice(0, 8)}-${slot.slot}-${k}-v`, type: "conversion" });
        return shown;
      }),
    );
    if (!events.length) continue;
    const posted = await stack.mf.dispatchFetch(new URL("/v1/events", stack.url), {
      method: "POST",
      headers,
      body: JSON.stringify({ events }),
    });
    if (posted.status !== 202) throw new Error(`events: ${posted.status} ${await posted.text()}`);
    sent.events += events.length;
  }
  await waitFor(async () => {
    const row = await stack.d1.prepare("SELECT count(*) AS n FROM events WHERE site_id = ?").bind(BENCH_SITE).first<{ n: number }>();
    return (row?.n ?? 0) >= sent.events;
  }, 120_000);
  return sent;
}
