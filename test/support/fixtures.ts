import { env, SELF } from "cloudflare:test";
import { type DemoVisitor, demoVisitors, insertDemoSite } from "../../scripts/seed/demo-data";
import { configOf } from "../../worker/lib/config";
import type { ErrorBody } from "../../worker/lib/errors";
import { sign } from "../../worker/lib/signing";
import { writeCatalogueSnapshot } from "../../worker/site/catalogue";
import { createDb } from "../../worker/store/db";
import { visitorStore, visitorStub } from "../../worker/visitors/client";
import type { RecentItem } from "../../worker/visitors/features";
import type { ConsentModel } from "../../worker/wire/consent";
import { type DecideResponse, decideResponseSchema } from "../../worker/wire/decide";

export const db = createDb(env.DB);

/**
 * A site of the test's own, with the demo slots and the demo catalogue (real OBD item features).
 * Its id is `name` plus a random suffix: files share one runtime and its storage, so no two tests
 * (nor two runs of one file) can meet on a site.
 */
export async function createSite(
  name: string,
  options: { consentModel?: ConsentModel; allowedOrigins?: string[]; snapshot?: boolean; originUrl?: string; policy?: unknown } = {},
): Promise<string> {
  const id = `${name}-${crypto.randomUUID().slice(0, 8)}`;
  await insertDemoSite(db, {
    id,
    name: `Test site ${id}`,
    allowedOrigins: options.allowedOrigins ?? ["https://shop.example"],
    consentModel: options.consentModel ?? "opt-out",
    originUrl: options.originUrl ?? null,
    // No holdout unless a test asks for one: tests of the model path must get the model.
    policy: options.policy ?? { holdout: { share: 0 } },
  });
  if (options.snapshot) await writeCatalogueSnapshot(db, env.CONFIG, id);
  return id;
}

/** The visitors' Durable Objects as the worker reaches them (wrangler.toml's jurisdiction and timeout). */
export const visitors = visitorStore(env, configOf(env));

/** Seeds a visitor's profile on a site into their Durable Object, as `npm run seed` does. */
export async function putProfile(
  siteId: string,
  visitorId: string,
  profile: { attributes?: Record<string, string | number>; itemAffinity?: Record<string, number>; recent?: RecentItem[] },
) {
  const stub = await visitorStub(visitors, visitorId);
  const stored = { v: 1, attributes: profile.attributes ?? {}, itemAffinity: profile.itemAffinity ?? {}, recent: profile.recent ?? [] };
  const { revoked } = await stub.importProfile(siteId, stored, Date.now());
  if (revoked) throw new Error(`visitor ${visitorId} is revoked: no profile is written`);
}

/** What a visitor's Durable Object holds (the privacy export's view of it). */
export async function visitorState(visitorId: string) {
  return (await visitorStub(visitors, visitorId)).export();
}

/** A demo visitor's profile (the first unless `index` says), as a returning visitor has it in their object. */
export function demoProfile(index = 0): DemoVisitor["profile"] {
  const visitor = demoVisitors()[index];
  if (!visitor) throw new Error(`no demo visitor ${index}`);
  return visitor.profile;
}

/** A new visitor with a demo visitor's profile on `site`; returns the visitor's id. */
export async function profiledVisitor(site: string, index = 0): Promise<string> {
  const id = newVisitorId();
  await putProfile(site, id, demoProfile(index));
  return id;
}

export const newVisitorId = () => crypto.randomUUID();

export async function visitorCookie(visitorId: string, key = env.ID_SIGNING_KEY): Promise<string> {
  return `ep_vid=${encodeURIComponent(await sign(visitorId, key))}`;
}

export const PAGE = { url: "https://shop.example/women/knitwear?utm_source=x", referrer: "https://www.google.com/" };

export function decideBody(
  site: string,
  slotRequests: { id: string; count?: number }[] = [{ id: "hero" }, { id: "recommendations" }, { id: "promo" }],
) {
  return { site, page: PAGE, slots: slotRequests };
}

/** A desktop browser's user agent: the worker counts a request without one as a bot's. */
export const BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15";

/** Who asks: the visitor's cookies, other request headers, and Cloudflare's `request.cf` (country, time zone). */
export type Asker = { cookie?: string; headers?: Record<string, string>; cf?: { country?: string; timezone?: string } };

/** POST /v1/decide as a browser sends it; a string `body` is sent as it is. */
export async function postDecide(body: unknown, as: Asker = {}): Promise<Response> {
  return SELF.fetch("https://edge.example/v1/decide", {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": BROWSER, ...(as.cookie ? { cookie: as.cookie } : {}), ...as.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...(as.cf ? { cf: as.cf } : {}),
  } as RequestInit);
}

/** A decision that must succeed: a 200, its answer parsed with the wire schema. */
async function answered(res: Response): Promise<DecideResponse> {
  if (res.status !== 200) throw new Error(`decide answered ${res.status}: ${await res.text()}`);
  return decideResponseSchema.parse(await res.json());
}

export async function decideOk(body: unknown, as: Asker = {}): Promise<DecideResponse> {
  return answered(await postDecide(body, as));
}

/** The demo slots of `site` decided for `as`, with the response for its headers and cookies. */
export async function requestDecision(site: string, as: Asker = {}): Promise<{ res: Response; decision: DecideResponse }> {
  const res = await postDecide(decideBody(site), as);
  return { res, decision: await answered(res) };
}

/** The demo slots of `site` decided for `as`. */
export async function decideAs(site: string, as: Asker = {}): Promise<DecideResponse> {
  return (await requestDecision(site, as)).decision;
}

/**
 * A decision made with the visitor's state: one whose object did not answer in time (a slow
 * machine) is decided without it, its consent `revocation_unknown`, and its events are rightly
 * not measured; a test about what those events count asks again (`decide`), up to five times.
 */
export async function measured(decide: () => Promise<DecideResponse>): Promise<DecideResponse> {
  for (let attempt = 1; ; attempt++) {
    const decision = await decide();
    if (decision.modeReason !== "visitor_state_unavailable") return decision;
    if (attempt === 5) throw new Error("the visitor's object did not answer five decisions in a row");
  }
}

export async function expectError(res: Response): Promise<ErrorBody["error"] & { status: number }> {
  const body = (await res.json()) as ErrorBody;
  return { status: res.status, ...body.error };
}

export const contentIds = (response: DecideResponse) => response.slots.flatMap((slot) => slot.items.map((item) => item.contentId));
