import { parseArgs } from "node:util";
import { BENCH_SITE } from "./bench/seed-state";
import { startWorkerWithConsumer } from "./bench/stack";
import { stopWorkerd } from "./bench/workerd";
import { adminApi, BASE_CTR, MOBILE_FACTOR, PERSONALIZATION_LIFT, patchSitePolicy, simulateTraffic } from "./harness/traffic";
import { demoItems } from "./seed/demo-data";

/** With --variants: the hero item's headlines, and how much more each is truly clicked. */
const HEADLINES = [
  { text: "Merino crew-neck knit", lift: 1 },
  { text: "Merino knit: warm, light, itch-free", lift: 2 },
  { text: "New: merino knit", lift: 1.2 },
];

type Admin = ReturnType<typeof adminApi>;

/** The hero item's headlines as one combination set, each approved by a reviewer. */
async function importHeadlines(admin: Admin, contentId: string) {
  const json = { "content-type": "application/json" };
  const set = {
    contentId,
    idPrefix: "headline",
    language: "en",
    components: { title: HEADLINES.map((h) => h.text) },
    provenance: { origin: "human" },
    synthetic: false,
  };
  const imported = await admin(`/sites/${BENCH_SITE}/variants`, {
    method: "POST",
    headers: json,
    body: JSON.stringify({ combinations: [set] }),
  });
  if (!imported.ok) throw new Error(`variants: ${imported.status} ${await imported.text()}`);
  for (let i = 0; i < HEADLINES.length; i++) {
    const review = await admin(`/sites/${BENCH_SITE}/variants/${contentId}/headline-t${i}/review`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ status: "approved" }),
    });
    if (!review.ok) throw new Error(`review: ${review.status} ${await review.text()}`);
  }
}

/** The true click-rate multiplier of a shown item: its headline's lift, if it is one of ours. */
const headlineLift = (item: { title: string }) => HEADLINES.find((h) => h.text === item.title)?.lift ?? 1;

async function main() {
  const { values } = parseArgs({
    options: {
      visitors: { type: "string", default: "1500" },
      seed: { type: "string", default: "1" },
      variants: { type: "boolean", default: false },
    },
  });
  const stack = await startWorkerWithConsumer("simulate");
  try {
    const admin = adminApi(stack);
    const heroItem = demoItems().find((item) => item.slotIds.includes("hero"))?.id ?? "";
    await patchSitePolicy(stack, BENCH_SITE, {
      holdout: { share: 0.2 },
      exploration: { kind: "epsilon-greedy", epsilon: 0.1 },
      fairness: { segments: ["country", "device"], disparityRatio: 1.25 },
      // The variants scenario pins one item in the hero, so that its headlines get the traffic.
      ...(values.variants ? { pinned: [{ slot: "hero", contentId: heroItem, share: 1 }] } : {}),
    });
    if (values.variants) await importHeadlines(admin, heroItem);

    const traffic = await simulateTraffic(stack, {
      site: BENCH_SITE,
      visitors: Number(values.visitors),
      seed: Number(values.seed),
      profiles: true,
      ...(values.variants ? { lift: headlineLift } : {}),
    });
    process.stderr.write(`simulated ${traffic.visitors.length} visitors: ${traffic.impressions} impressions, ${traffic.clicks} clicks\n`);

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
    await stopWorkerd(stack.mf);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
