import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DESKTOP_UA } from "../../scripts/bench/chromium";
import { BENCH_SITE, putProfiles, type SeedSecrets } from "../../scripts/bench/seed-state";
import { startWorkerWithConsumer } from "../../scripts/bench/stack";
import { type Miniflare, stopWorkerd } from "../../scripts/bench/workerd";
import { loadModelDir } from "../../scripts/evaluate/scorer";
import { waitFor } from "../../scripts/harness/wait";
import { localLogRows } from "../../scripts/log/local";
import { demoItems } from "../../scripts/seed/demo-data";
import { VISITOR_COOKIE } from "../../worker/http/cookies";
import type { RequestContext, VisitorProfile } from "../../worker/inference/encode";
import { sign } from "../../worker/lib/signing";
import { type DecideResponse, decideResponseSchema } from "../../worker/wire/decide";
import { decisionEventSchema } from "../../worker/wire/events";

/**
 * The worker's served scores equal `npm run evaluate`'s Node scorer on the same inputs: the
 * production bundle runs on workerd (Miniflare, real local D1/KV/queue), decides for a visitor whose
 * profile this test wrote, and the context it logged to D1 is scored again in Node.
 * (scripts/harness/stack.ts starts the same stack but also Chromium, which this test does not need.)
 */

const TOLERANCE = 1e-5;

let mf: Miniflare;
let url: URL;
let secrets: SeedSecrets;

beforeAll(async () => {
  // The consumer flushes after 1 s rather than production's 5: the test waits for the logged decision.
  const stack = await startWorkerWithConsumer("evaluate-parity", { consumerBatchTimeoutS: 1 });
  mf = stack.mf;
  url = stack.url;
  secrets = stack.secrets;
});

afterAll(async () => {
  if (mf) await stopWorkerd(mf);
});

async function loggedContext(decisionId: string): Promise<RequestContext> {
  const row = await waitFor(async () => (await localLogRows(mf)).find((r) => r.kind === "decision" && r.id === decisionId), 20_000);
  return decisionEventSchema.shape.context.parse(row.context);
}

async function decideAs(visitorId: string, page: string): Promise<DecideResponse> {
  const res = await fetch(new URL("/v1/decide", url), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": DESKTOP_UA,
      cookie: `${VISITOR_COOKIE}=${encodeURIComponent(await sign(visitorId, secrets.ID_SIGNING_KEY))}`,
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
    await putProfiles(url, secrets, [{ site: BENCH_SITE, visitorId, profile: { attributes, itemAffinity } }]);

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
