import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BENCH_SITE } from "../../scripts/bench/seed-state";
import { startWorkerWithConsumer } from "../../scripts/bench/stack";
import { type Miniflare, stopWorkerd } from "../../scripts/bench/workerd";
import { loadModelDir } from "../../scripts/evaluate/scorer";
import { demoItems } from "../../scripts/seed/demo-data";
import { VISITOR_COOKIE } from "../../worker/http/cookies";
import type { RequestContext, VisitorProfile } from "../../worker/inference/encode";
import { sign } from "../../worker/lib/signing";
import { writeProfile } from "../../worker/store/profiles";
import { type DecideResponse, decideResponseSchema } from "../../worker/wire/decide";
import { decisionEventSchema } from "../../worker/wire/events";

/**
 * The worker's served scores equal `npm run evaluate`'s Node scorer on the same inputs: the
 * production bundle runs on workerd (Miniflare, real local D1/KV/queue), decides for a visitor whose
 * profile this test wrote, and the context it logged to D1 is scored again in Node.
 * (test/browser/harness.ts starts the same stack but also Chromium, which this test does not need.)
 */

const DESKTOP_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
const TOLERANCE = 1e-5;

let mf: Miniflare;
let url: URL;
let signingKey: string;

beforeAll(async () => {
  // The consumer flushes after 1 s rather than production's 5: the test waits for the logged decision.
  const stack = await startWorkerWithConsumer("evaluate-parity", { consumerBatchTimeoutS: 1 });
  mf = stack.mf;
  url = stack.url;
  signingKey = stack.secrets.ID_SIGNING_KEY;
});

afterAll(async () => {
  if (mf) await stopWorkerd(mf);
});

async function loggedContext(decisionId: string): Promise<RequestContext> {
  const d1 = await mf.getD1Database("DB");
  for (let attempt = 0; attempt < 200; attempt++) {
    const row = await d1.prepare("SELECT context FROM decisions WHERE id = ?").bind(decisionId).first<{ context: string }>();
    if (row) return decisionEventSchema.shape.context.parse(JSON.parse(row.context));
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`decision ${decisionId} never reached D1`);
}

async function decideAs(visitorId: string, page: string): Promise<DecideResponse> {
  const res = await fetch(new URL("/v1/decide", url), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": DESKTOP_UA,
      cookie: `${VISITOR_COOKIE}=${encodeURIComponent(await sign(visitorId, signingKey))}`,
    },
    body: JSON.stringify({
      site: BENCH_SITE,
      page: { url: page },
      slots: [{ id: "hero" }, { id: "recommendations", count: 6 }, { id: "promo", count: 2 }],
    }),
  });
  expect(res.status).toBe(200);
  return decideResponseSchema.parse(await res.json());
}

describe("worker scores vs npm run evaluate's scorer", () => {
  it("agree to 1e-5 for every item of a personalized decision", async () => {
    const scorer = await loadModelDir("models/default");
    const items = new Map(demoItems().map((item) => [item.id, item.attributes]));
    const [first, second] = [...items.keys()];
    // A known value of each of the model's visitor features and affinities for two catalogue items, so
    // that every block of the feature row (user, user-item, item, context) is non-trivial.
    const attributes: Record<string, string> = {};
    for (const spec of scorer.manifest.features) {
      if (spec.kind === "categorical" && spec.source === "user") attributes[spec.key] = spec.vocabulary.at(-1) ?? "";
    }
    expect(Object.keys(attributes).length).toBeGreaterThan(0);
    const itemAffinity: Record<string, number> = { [first as string]: 3, [second as string]: 1.5 };
    const profile: VisitorProfile = { attributes, itemAffinity };
    const visitorId = crypto.randomUUID();
    const profiles = (await mf.getKVNamespace("PROFILES")) as unknown as KVNamespace;
    await writeProfile(profiles, BENCH_SITE, visitorId, { attributes, itemAffinity });

    const decision = await decideAs(visitorId, "https://shop.example/women/knitwear");
    expect(decision.mode, `mode ${decision.mode} (${decision.modeReason})`).toBe("personalized");
    const served = decision.slots.flatMap((slot) => slot.items);
    expect(served.length).toBeGreaterThanOrEqual(5);

    const context = await loggedContext(decision.decisionId);
    expect(decision.modelVersion).toBe(scorer.version);
    const candidates = served.map((item) => ({ contentId: item.contentId, attributes: items.get(item.contentId) ?? {} }));
    const offline = await scorer.score(profile, context, candidates);
    served.forEach((item, i) => {
      expect(item.score).not.toBeNull();
      expect(Math.abs((item.score as number) - (offline[i] as number))).toBeLessThanOrEqual(TOLERANCE);
    });
    // The profile reached the model: without it, the same items score differently.
    const anonymous = await scorer.score(null, context, candidates);
    expect(anonymous.some((score, i) => Math.abs(score - (offline[i] as number)) > TOLERANCE)).toBe(true);
  });
});
