import { SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { demoVisitors } from "../scripts/seed/demo-data";
import { sites } from "../worker/store/schema";
import type { ConsentStateResponse } from "../worker/wire/consent";
import { decideResponseSchema } from "../worker/wire/decide";
import { createSite, db, decideBody, newVisitorId, putProfile, visitorCookie } from "./support/fixtures";
import { BROWSER } from "./support/pipeline";
import { TEST_VENDOR_ID, tcString } from "./support/tcf";

const profile = () => {
  const [a] = demoVisitors();
  if (!a) throw new Error("a demo visitor expected");
  return a.profile;
};

async function decide(site: string, cookie: string, headers: Record<string, string> = {}) {
  const res = await SELF.fetch("https://edge.example/v1/decide", {
    method: "POST",
    headers: { "content-type": "application/json", cookie, ...headers },
    body: JSON.stringify(decideBody(site)),
  });
  expect(res.status).toBe(200);
  return { res, body: decideResponseSchema.parse(await res.json()) };
}

/** The `name=value` pairs of a response's Set-Cookie headers, ready to send back. */
function cookiesFrom(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((line) => line.split(";")[0] ?? "")
    .filter((pair) => !pair.endsWith("="))
    .join("; ");
}

async function postConsent(
  site: string,
  purposes: { personalization: boolean; measurement: boolean },
  cookie = "",
  headers: Record<string, string> = {},
) {
  return SELF.fetch("https://edge.example/v1/consent", {
    method: "POST",
    headers: { "content-type": "application/json", cookie, ...headers },
    body: JSON.stringify({ site, purposes, policyVersion: "2026-11" }),
  });
}

describe("consent on an opt-in site", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("consent-opt-in", { consentModel: "opt-in" });
  });

  it("sets no id and reads no profile before consent, then personalizes after it", async () => {
    const before = await decide(site, "");
    expect(before.body.mode).toBe("contextual");
    expect(before.res.headers.getSetCookie().some((c) => c.startsWith("ep_vid="))).toBe(false);

    const granted = await postConsent(site, { personalization: true, measurement: true });
    expect(granted.status).toBe(200);
    const state = (await granted.json()) as ConsentStateResponse;
    expect(state).toMatchObject({ personalization: true, measurement: true, basis: "banner_granted" });
    expect(state.visitorId).toMatch(/^[0-9a-f-]{36}$/);
    const setCookies = granted.headers.getSetCookie();
    const idCookie = setCookies.find((c) => c.startsWith("ep_vid="));
    expect(idCookie).toMatch(/HttpOnly/i);
    expect(idCookie).toMatch(/SameSite=Lax/i);
    expect(idCookie).toMatch(/Max-Age=\d+/);

    await putProfile(site, state.visitorId ?? "", profile());
    const after = await decide(site, cookiesFrom(granted));
    expect(after.body.mode).toBe("personalized");
    expect(after.body.modeReason).toBe("banner_granted");

    const current = await SELF.fetch(`https://edge.example/v1/consent?site=${site}`, { headers: { cookie: cookiesFrom(granted) } });
    expect(await current.json()).toMatchObject({ visitorId: state.visitorId, personalization: true });
  });

  it("goes back to contextual when consent is withdrawn, and clears the id cookie", async () => {
    const granted = await postConsent(site, { personalization: true, measurement: false });
    const { visitorId } = (await granted.json()) as ConsentStateResponse;
    await putProfile(site, visitorId ?? "", profile());
    const withdrawn = await postConsent(site, { personalization: false, measurement: false }, cookiesFrom(granted));
    expect(await withdrawn.json()).toMatchObject({ personalization: false, visitorId: null, basis: "banner_denied" });
    expect(withdrawn.headers.getSetCookie().some((c) => /^ep_vid=;/.test(c) && /Max-Age=0/i.test(c))).toBe(true);
    // Even with the old id cookie still sent, the banner's denial wins.
    const stale = `${await visitorCookie(visitorId ?? "")}; ${cookiesFrom(withdrawn)}`;
    const res = await decide(site, stale);
    expect(res.body.mode).toBe("contextual");
    expect(res.body.modeReason).toBe("banner_denied");
  });

  it("reads the TC string that the tag passes as gdpr_consent, before the cookie (a CMP that keeps no cookie)", async () => {
    const id = newVisitorId();
    await putProfile(site, id, profile());
    const query = (tc: string) =>
      `https://edge.example/v1/decide?site=${site}&slots=hero&url=${encodeURIComponent("https://shop.example/")}&gdpr_consent=${tc}`;
    const ask = async (tc: string, cookie: string) =>
      (await SELF.fetch(query(tc), { headers: { cookie, "user-agent": BROWSER } })).json<{ mode: string; modeReason: string }>();
    const granted = tcString({ publisherPurposes: [1, 5, 6, 8] });
    const denied = tcString({ publisherPurposes: [] });
    expect(await ask(granted, await visitorCookie(id))).toMatchObject({ mode: "personalized", modeReason: "tcf_granted" });
    // The page's CMP says no, whatever an older cookie says.
    expect(await ask(denied, `${await visitorCookie(id)}; euconsent-v2=${granted}`)).toMatchObject({ modeReason: "tcf_denied" });
  });

  it("personalizes with a TCF string granting purposes 1, 5 and 6 in the publisher segment", async () => {
    const id = newVisitorId();
    await putProfile(site, id, profile());
    const tc = tcString({ publisherPurposes: [1, 5, 6, 8] });
    const res = await decide(site, `${await visitorCookie(id)}; euconsent-v2=${tc}`);
    expect(res.body.mode).toBe("personalized");
    expect(res.body.modeReason).toBe("tcf_granted");
  });

  it.each([
    ["without purposes 5 and 6", () => tcString({ publisherPurposes: [1, 8] }), "tcf_denied"],
    ["without purpose 1", () => tcString({ publisherPurposes: [5, 6] }), "tcf_denied"],
    ["that does not decode", () => "not-a-tc-string!!", "tcf_invalid"],
    ["of policy version 3 (before TCF v2.2)", () => tcString({ publisherPurposes: [1, 5, 6], policyVersion: 3 }), "tcf_invalid"],
    ["that is not service-specific", () => tcString({ publisherPurposes: [1, 5, 6], serviceSpecific: false }), "tcf_invalid"],
  ])("does not personalize with a TCF string %s", async (_name, make, basis) => {
    const optOut = await createSite(`consent-tcf-${basis}-${Math.random().toString(36).slice(2, 8)}`, { consentModel: "opt-out" });
    const id = newVisitorId();
    await putProfile(optOut, id, profile());
    const res = await decide(optOut, `${await visitorCookie(id)}; euconsent-v2=${make()}`);
    expect(res.body.mode).toBe("contextual");
    expect(res.body.modeReason).toBe(basis);
  });

  it("requires the configured vendor's consent too", async () => {
    const vendorSite = await createSite("consent-vendor", { consentModel: "opt-in" });
    await db.update(sites).set({ tcfVendorId: TEST_VENDOR_ID }).where(eq(sites.id, vendorSite));
    const id = newVisitorId();
    await putProfile(vendorSite, id, profile());
    const cookie = await visitorCookie(id);
    const withoutVendor = tcString({ publisherPurposes: [1, 5, 6], purposes: [1, 5, 6] });
    expect((await decide(vendorSite, `${cookie}; euconsent-v2=${withoutVendor}`)).body.modeReason).toBe("tcf_denied");
    const withVendor = tcString({ publisherPurposes: [1, 5, 6], purposes: [1, 5, 6], vendorConsent: true });
    expect((await decide(vendorSite, `${cookie}; euconsent-v2=${withVendor}`)).body.mode).toBe("personalized");
  });

  it("lets Global Privacy Control override a banner grant", async () => {
    const granted = await postConsent(site, { personalization: true, measurement: true });
    const { visitorId } = (await granted.json()) as ConsentStateResponse;
    await putProfile(site, visitorId ?? "", profile());
    const res = await decide(site, cookiesFrom(granted), { "sec-gpc": "1" });
    expect(res.body.mode).toBe("contextual");
    expect(res.body.modeReason).toBe("gpc");
  });

  it("rejects a malformed consent request with a 4xx naming the field", async () => {
    const res = await SELF.fetch("https://edge.example/v1/consent", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ site, purposes: { personalization: "yes" } }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { field: "purposes.personalization" } });
  });
});

describe("identity on an opt-out site", () => {
  it("gives a new visitor a signed id once storage is allowed", async () => {
    const site = await createSite("identity-opt-out", { consentModel: "opt-out" });
    const first = await decide(site, "");
    const idCookie = first.res.headers.getSetCookie().find((c) => c.startsWith("ep_vid="));
    expect(idCookie).toBeDefined();
    const state = await SELF.fetch(`https://edge.example/v1/consent?site=${site}`, { headers: { cookie: cookiesFrom(first.res) } });
    const { visitorId } = (await state.json()) as ConsentStateResponse;
    expect(visitorId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await putProfile(site, visitorId ?? "", profile());
    expect((await decide(site, cookiesFrom(first.res))).body.mode).toBe("personalized");
  });
});
