import { env, SELF } from "cloudflare:test";
import { insertDemoSite } from "../../scripts/seed/demo-data";
import type { ErrorBody } from "../../worker/lib/errors";
import { sign } from "../../worker/lib/signing";
import { writeCatalogueSnapshot } from "../../worker/site/catalogue";
import { createDb } from "../../worker/store/db";
import { writeProfile } from "../../worker/store/profiles";
import type { ConsentModel } from "../../worker/store/schema";
import type { DecideResponse } from "../../worker/wire/decide";

export const db = createDb(env.DB);

/** A site of the test's own, with the demo slots and the demo catalogue (real OBD item features). */
export async function createSite(
  id: string,
  options: { consentModel?: ConsentModel; allowedOrigins?: string[]; snapshot?: boolean; originUrl?: string; policy?: unknown } = {},
): Promise<string> {
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

export async function putProfile(
  siteId: string,
  visitorId: string,
  profile: { attributes?: Record<string, string | number>; itemAffinity?: Record<string, number> },
) {
  await writeProfile(env.PROFILES, siteId, visitorId, { attributes: profile.attributes ?? {}, itemAffinity: profile.itemAffinity ?? {} });
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

export async function postDecide(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch("https://edge.example/v1/decide", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15",
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

export async function decideOk(body: unknown, headers: Record<string, string> = {}): Promise<DecideResponse> {
  const res = await postDecide(body, headers);
  if (res.status !== 200) throw new Error(`decide answered ${res.status}: ${await res.text()}`);
  return res.json();
}

export async function expectError(res: Response): Promise<ErrorBody["error"] & { status: number }> {
  const body = (await res.json()) as ErrorBody;
  return { status: res.status, ...body.error };
}

export const contentIds = (response: DecideResponse) => response.slots.flatMap((slot) => slot.items.map((item) => item.contentId));
