import { VISITOR_COOKIE } from "../../worker/http/cookies";
import { sign } from "../../worker/lib/signing";
import type { DecideResponse } from "../../worker/wire/decide";
import { DESKTOP_UA } from "../bench/chromium";
import { putProfiles, type SeedSecrets } from "../bench/seed-state";
import type { Miniflare } from "../bench/workerd";
import { localLogRows } from "../log/local";
import { demoVariants, demoVisitors } from "../seed/demo-data";
import { createRandom } from "../train/random";
import { waitFor } from "./wait";

/**
 * Simulated visitors through the real endpoints of a running stack, with clicks that follow a known
 * rule (SYNTHETIC behaviour): `BASE_CTR` per shown item, ×`PERSONALIZATION_LIFT` outside the
 * holdout, ×`MOBILE_FACTOR` on mobile, × the item's own `lift`. Used by `npm run simulate`, `npm run
 * screenshot` and the console's browser test.
 */
export const BASE_CTR = 0.04;
export const PERSONALIZATION_LIFT = 1.5;
export const MOBILE_FACTOR = 0.6;
const COUNTRIES = ["FR", "DE", "ES"] as const;
const UA = {
  desktop: DESKTOP_UA,
  mobile: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1",
};
/** What the simulator needs of a stack: the worker's socket, its bindings, and its throwaway secrets. */
export type Target = { mf: Miniflare; url: URL; secrets: Record<string, string> };

export type TrafficOptions = {
  site: string;
  visitors: number;
  seed?: number;
  /** Every `bannerEvery`-th visitor answers the consent banner first (personalization granted 4 times in 5). */
  bannerEvery?: number;
  /** Each visitor has one of the demo visitors' profiles in their object, as a returning visitor would. */
  profiles?: boolean;
  /** A conversion after a shown item at a quarter of its click rate. */
  conversions?: boolean;
  /** How much more than `BASE_CTR` a shown item is truly clicked (a headline's lift, say). */
  lift?: (item: { contentId: string; title: string }) => number;
};

/** What the simulation sent: visitors by id (each with a signed cookie), and the events that the consumer wrote. */
export type Traffic = { visitors: { id: string; cookie: string }[]; events: number; impressions: number; clicks: number };

/** The stack's secrets that seeding profiles needs. */
export const seedSecrets = (target: Target): SeedSecrets => ({
  ADMIN_TOKEN: target.secrets.ADMIN_TOKEN ?? "",
  ID_SIGNING_KEY: target.secrets.ID_SIGNING_KEY ?? "",
});

/** The admin API of a stack, with its throwaway admin token. */
export function adminApi(target: Target): (path: string, init?: RequestInit) => Promise<Response> {
  return (path, init = {}) =>
    fetch(new URL(`/v1/admin${path}`, target.url), {
      ...init,
      headers: { authorization: `Bearer ${target.secrets.ADMIN_TOKEN}`, ...(init.headers ?? {}) },
    });
}

const JSON_BODY = { "content-type": "application/json" };

/** Changes only the sections of the site's policy that `policy` names (a JSON merge patch; PUT would have to name them all). */
export async function patchSitePolicy(target: Target, site: string, policy: unknown): Promise<void> {
  const patched = await adminApi(target)(`/sites/${site}/policy`, { method: "PATCH", headers: JSON_BODY, body: JSON.stringify(policy) });
  if (!patched.ok) throw new Error(`policy: ${patched.status} ${await patched.text()}`);
}

/** The demo catalogue's variants, reviewed as `npm run seed` leaves them (drafts stay for a reviewer). */
export async function importDemoVariants(target: Target, site: string): Promise<void> {
  const admin = adminApi(target);
  const variants = demoVariants();
  const imported = await admin(`/sites/${site}/variants`, {
    method: "POST",
    headers: JSON_BODY,
    body: JSON.stringify({ variants: variants.map((v) => v.variant) }),
  });
  if (!imported.ok) throw new Error(`variants: ${imported.status} ${await imported.text()}`);
  for (const { variant, status } of variants.filter((v) => v.status === "approved")) {
    const path = `/sites/${site}/variants/${variant.contentId}/${variant.id}/review`;
    const reviewed = await admin(path, { method: "POST", headers: JSON_BODY, body: JSON.stringify({ status }) });
    if (!reviewed.ok) throw new Error(`review: ${reviewed.status} ${await reviewed.text()}`);
  }
}

/**
 * Each visitor (from FR, DE or ES, on desktop or mobile) decides once for the hero, three
 * recommendations and the promo, then reports an impression per shown item and its clicks (and
 * conversions). Returns once the queue consumer has written every event.
 */
export async function simulateTraffic(target: Target, options: TrafficOptions): Promise<Traffic> {
  const { site, visitors, seed = 1, bannerEvery = 0, profiles = false, conversions = false, lift = () => 1 } = options;
  const random = createRandom(seed).next;
  const demoProfiles = demoVisitors();
  const sent: Traffic = { visitors: [], events: 0, impressions: 0, clicks: 0 };
  for (let i = 0; i < visitors; i++) {
    const id = crypto.randomUUID();
    const device = random() < 0.4 ? "mobile" : "desktop";
    const country = COUNTRIES[Math.floor(random() * COUNTRIES.length)] ?? "FR";
    if (profiles) {
      const profile = demoProfiles[Math.floor(random() * demoProfiles.length)]?.profile;
      if (profile) await putProfiles(target.url, seedSecrets(target), [{ site, visitorId: id, profile }]);
    }
    const cookie = `${VISITOR_COOKIE}=${encodeURIComponent(await sign(id, target.secrets.ID_SIGNING_KEY ?? ""))}`;
    const headers = { ...JSON_BODY, cookie, "user-agent": UA[device] };
    sent.visitors.push({ id, cookie });
    if (bannerEvery > 0 && i % bannerEvery === 0) {
      const consent = await target.mf.dispatchFetch(new URL("/v1/consent", target.url), {
        method: "POST",
        headers,
        body: JSON.stringify({ site, purposes: { personalization: random() < 0.8, measurement: true } }),
      });
      if (!consent.ok) throw new Error(`consent: ${consent.status} ${await consent.text()}`);
    }
    const res = await target.mf.dispatchFetch(new URL("/v1/decide", target.url), {
      method: "POST",
      headers,
      body: JSON.stringify({
        site,
        page: { url: "https://shop.example/" },
        slots: [{ id: "hero" }, { id: "recommendations", count: 3 }, { id: "promo" }],
      }),
      cf: { country, timezone: "Europe/Paris" },
    });
    if (!res.ok) throw new Error(`decide: ${res.status} ${await res.text()}`);
    const d = (await res.json()) as DecideResponse;
    const treated = d.modeReason !== "holdout";
    const p = BASE_CTR * (treated ? PERSONALIZATION_LIFT : 1) * (device === "mobile" ? MOBILE_FACTOR : 1);
    // An event's time must lie within its decision's token lifetime (worker/events/admit.ts), and
    // roll-ups are dated by the decision: events happen right after their decision.
    const ts = Date.now();
    const events = d.slots.flatMap((slot) =>
      slot.items.flatMap((item, k) => {
        const base = { decisionId: d.decisionId, slot: slot.slot, contentId: item.contentId, ts, eventToken: d.eventToken };
        const eventId = (kind: string) => `${d.decisionId.slice(0, 8)}-${slot.slot}-${k}-${kind}`;
        const shown = [{ ...base, eventId: eventId("i"), type: "impression" }];
        sent.impressions++;
        if (random() < p * lift(item)) {
          sent.clicks++;
          shown.push({ ...base, eventId: eventId("c"), type: "click" });
        }
        if (conversions && random() < p / 4) shown.push({ ...base, eventId: eventId("v"), type: "conversion" });
        return shown;
      }),
    );
    if (!events.length) continue;
    const posted = await target.mf.dispatchFetch(new URL("/v1/events", target.url), {
      method: "POST",
      headers,
      body: JSON.stringify({ events }),
    });
    if (posted.status !== 202) throw new Error(`events: ${posted.status} ${await posted.text()}`);
    sent.events += events.length;
  }
  await waitFor(async () => {
    const logged = (await localLogRows(target.mf, { site })).filter((row) => row.kind === "interaction").length;
    return logged >= sent.events;
  }, 120_000);
  return sent;
}

/**
 * The console's scenario (its browser test and `npm run screenshot`): the site gets a 20% holdout,
 * ε = 0.1 exploration, country/device fairness segments, a two-arm experiment and the demo
 * catalogue's variants; one visitor in four answers the banner; conversions follow clicks.
 */
export async function simulateConsoleTraffic(target: Target, site: string, options: { visitors: number }): Promise<Traffic> {
  await patchSitePolicy(target, site, {
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
  });
  await importDemoVariants(target, site);
  return simulateTraffic(target, { site, ...options, bannerEvery: 4, conversions: true });
}
