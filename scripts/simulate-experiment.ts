import { parseArgs } from "node:util";
import { VISITOR_COOKIE } from "../worker/http/cookies";
import { sign } from "../worker/lib/signing";
import { writeProfile } from "../worker/store/profiles";
import { BENCH_SITE } from "./bench/seed-state";
import { startWorkerWithConsumer } from "./bench/stack";
import { stopWorkerd } from "./bench/workerd";
import { demoItems, demoVisitors } from "./seed/demo-data";
import { createRandom } from "./train/random";

const BASE_CTR = 0.04;
/** With --variants: the hero item's headlines, and how much more each is truly clicked. */
const HEADLINES = [
  { text: "Merino crew-neck knit", lift: 1 },
  { text: "Merino knit: warm, light, itch-free", lift: 2 },
  { text: "New: merino knit", lift: 1.2 },
];
const PERSONALIZATION_LIFT = 1.5;
const MOBILE_FACTOR = 0.6;
const COUNTRIES = ["FR", "DE", "ES"] as const;
const UA = {
  desktop: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15",
  mobile: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1",
};

type Decided = {
  decisionId: string;
  eventToken: string;
  modeReason: string;
  slots: { slot: string; items: { contentId: string; title: string }[] }[];
};

type Admin = (path: string, init?: RequestInit) => Promise<Response>;

/** The hero item's headlines as one combination set, each approved by a reviewer. */
async function importHeadlines(admin: Admin, contentId: string) {
  const set = {
    contentId,
    idPrefix: "headline",
    language: "en",
    components: { title: HEADLINES.map((h) => h.text) },
    provenance: { origin: "human" },
    synthetic: false,
  };
  const imported = await admin(`/sites/${BENCH_SITE}/variants`, { method: "POST", body: JSON.stringify({ combinations: [set] }) });
  if (!imported.ok) throw new Error(`variants: ${imported.status} ${await imported.text()}`);
  for (let i = 0; i < HEADLINES.length; i++) {
    const review = await admin(`/sites/${BENCH_SITE}/variants/${contentId}/headline-t${i}/review`, {
      method: "POST",
      body: JSON.stringify({ status: "approved" }),
    });
    if (!review.ok) throw new Error(`review: ${review.status} ${await review.text()}`);
  }
}

/** The true click-rate multiplier of a shown item: its headline's lift, if it is one of ours. */
const headlineLift = (title: string) => HEADLINES.find((h) => h.text === title)?.lift ?? 1;

async function main() {
  const { values } = parseArgs({
    options: {
      visitors: { type: "string", default: "1500" },
      seed: { type: "string", default: "1" },
      variants: { type: "boolean", default: false },
    },
  });
  const visitors = Number(values.visitors);
  const random = createRandom(Number(values.seed)).next;
  const { mf, url, secrets } = await startWorkerWithConsumer("simulate");
  try {
    const admin: Admin = (path, init = {}) =>
      fetch(new URL(`/v1/admin${path}`, url), {
        ...init,
        headers: { authorization: `Bearer ${secrets.ADMIN_TOKEN}`, "content-type": "application/json" },
      });
    const heroItem = demoItems().find((item) => item.slotIds.includes("hero"))?.id ?? "";
    const policy = {
      holdout: { share: 0.2 },
      exploration: { kind: "epsilon-greedy", epsilon: 0.1 },
      fairness: { segments: ["country", "device"], disparityRatio: 1.25 },
      // The variants scenario pins one item in the hero, so that its headlines get the traffic.
      ...(values.variants ? { pinned: [{ slot: "hero", contentId: heroItem, share: 1 }] } : {}),
    };
    const put = await admin(`/sites/${BENCH_SITE}/policy`, { method: "PUT", body: JSON.stringify(policy) });
    if (!put.ok) throw new Error(`policy: ${put.status} ${await put.text()}`);
    if (values.variants) await importHeadlines(admin, heroItem);

    const profiles = (await mf.getKVNamespace("PROFILES")) as unknown as KVNamespace;
    const profilesToUse = demoVisitors();
    let clicks = 0;
    let impressions = 0;
    for (let i = 0; i < visitors; i++) {
      const id = crypto.randomUUID();
      const device = random() < 0.4 ? "mobile" : "desktop";
      const country = COUNTRIES[Math.floor(random() * COUNTRIES.length)] ?? "FR";
      const profile = profilesToUse[Math.floor(random() * profilesToUse.length)]?.profile;
      if (profile) await writeProfile(profiles, BENCH_SITE, id, profile);
      const cookie = `${VISITOR_COOKIE}=${encodeURIComponent(await sign(id, secrets.ID_SIGNING_KEY))}`;
      const res = await mf.dispatchFetch(new URL("/v1/decide", url), {
        method: "POST",
        headers: { "content-type": "application/json", cookie, "user-agent": UA[device] },
        body: JSON.stringify({
          site: BENCH_SITE,
          page: { url: "https://shop.example/" },
          slots: [{ id: "hero" }, { id: "recommendations" }, { id: "promo" }],
        }),
        cf: { country, timezone: "Europe/Paris" },
      });
      if (!res.ok) throw new Error(`decide: ${res.status} ${await res.text()}`);
      const d = (await res.json()) as Decided;
      const treated = d.modeReason !== "holdout";
      const p = BASE_CTR * (treated ? PERSONALIZATION_LIFT : 1) * (device === "mobile" ? MOBILE_FACTOR : 1);
      const events = d.slots.flatMap((slot) =>
        slot.items.flatMap((item, k) => {
          const base = { decisionId: d.decisionId, slot: slot.slot, contentId: item.contentId, ts: Date.now(), eventToken: d.eventToken };
          const shown = [{ ...base, eventId: `${d.decisionId.slice(0, 8)}-${slot.slot}-${k}-i`, type: "impression" }];
          impressions++;
          if (random() < p * headlineLift(item.title)) {
            clicks++;
            shown.push({ ...base, eventId: `${d.decisionId.slice(0, 8)}-${slot.slot}-${k}-c`, type: "click" });
          }
          return shown;
        }),
      );
      const posted = await mf.dispatchFetch(new URL("/v1/events", url), {
        method: "POST",
        headers: { "content-type": "application/json", cookie, "user-agent": UA[device] },
        body: JSON.stringify({ events }),
      });
      if (posted.status !== 202) throw new Error(`events: ${posted.status} ${await posted.text()}`);
    }
    process.stderr.write(`simulated ${visitors} visitors: ${impressions} impressions, ${clicks} clicks; waiting for the consumer\n`);

    const d1 = await mf.getD1Database("DB");
    const deadline = Date.now() + 120_000;
    for (;;) {
      const row = await d1.prepare("SELECT count(*) AS n FROM events").first<{ n: number }>();
      if ((row?.n ?? 0) >= impressions + clicks) break;
      if (Date.now() > deadline) throw new Error(`the consumer wrote ${row?.n} of ${impressions + clicks} events`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const report = async (path: string) => (await admin(`${path}?site=${BENCH_SITE}`)).json();
    const expectedUplift = BASE_CTR * (PERSONALIZATION_LIFT - 1) * (0.6 + 0.4 * MOBILE_FACTOR);
    console.log(
      JSON.stringify(
        {
          truth: {
            ctrUplift: expectedUplift,
            mobileOverDesktopCtr: MOBILE_FACTOR,
            holdoutShare: 0.2,
            explorationEpsilon: 0.1,
            ...(values.variants ? { headlines: HEADLINES } : {}),
          },
          uplift: await report("/reports/uplift"),
          fairness: await report("/reports/fairness"),
          ...(values.variants ? { variants: await report("/reports/variants") } : {}),
        },
        null,
        2,
      ),
    );
  } finally {
    await stopWorkerd(mf);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
