import { SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { sites } from "../worker/store/schema";
import { type ConsentStateResponse, VISITOR_ID } from "../worker/wire/consent";
import { decideResponseSchema } from "../worker/wire/decide";
import {
  BROWSER,
  createSite,
  db,
  decideAs,
  demoProfile,
  profiledVisitor,
  putProfile,
  requestDecision,
  visitorCookie,
  visitorState,
} from "./support/fixtures";
import { event, postEvents, type Shown, shownIn } from "./support/pipeline";
import { TEST_VENDOR_ID, tcString } from "./support/tcf";

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
    const before = await requestDecision(site);
    expect(before.decision.mode).toBe("contextual");
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

    await putProfile(site, state.visitorId ?? "", demoProfile());
    const after = await decideAs(site, { cookie: cookiesFrom(granted) });
    expect(after.mode).toBe("personalized");
    expect(after.modeReason).toBe("banner_granted");

    const current = await SELF.fetch(`https://edge.example/v1/consent?site=${site}`, { headers: { cookie: cookiesFrom(granted) } });
    expect(await current.json()).toMatchObject({ visitorId: state.visitorId, personalization: true });
  });

  it("goes back to contextual when consent is withdrawn, and clears the id cookie", async () => {
    const granted = await postConsent(site, { personalization: true, measurement: false });
    const { visitorId } = (await granted.json()) as ConsentStateResponse;
    await putProfile(site, visitorId ?? "", demoProfile());
    const withdrawn = await postConsent(site, { personalization: false, measurement: false }, cookiesFrom(granted));
    expect(await withdrawn.json()).toMatchObject({ personalization: false, visitorId: null, basis: "banner_denied" });
    expect(withdrawn.headers.getSetCookie().some((c) => /^ep_vid=;/.test(c) && /Max-Age=0/i.test(c))).toBe(true);
    // Even with the old id cookie still sent, the banner's denial wins.
    const stale = `${await visitorCookie(visitorId ?? "")}; ${cookiesFrom(withdrawn)}`;
    const res = await decideAs(site, { cookie: stale });
    expect(res.mode).toBe("contextual");
    expect(res.modeReason).toBe("banner_denied");
  });

  it("reads the TC string that the tag passes as gdpr_consent, before the cookie (a CMP that keeps no cookie)", async () => {
    const id = await profiledVisitor(site);
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

  it("decides the first page after consent under the id it gives, so that a click there reaches the new profile", async () => {
    // A CMP's grant arrives with the re-decision itself (no banner post, no id yet).
    const url = `https://edge.example/v1/decide?site=${site}&slots=hero,recommendations&url=${encodeURIComponent("https://shop.example/")}`;
    const res = await SELF.fetch(`${url}&gdpr_consent=${tcString({ publisherPurposes: [1, 5, 6, 8] })}`, {
      headers: { "user-agent": BROWSER },
    });
    const first = decideResponseSchema.parse(await res.json());
    const idCookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith("ep_vid="))
      ?.split(";")[0];
    const id = decodeURIComponent(idCookie?.slice("ep_vid=".length) ?? "").split(".")[0] ?? "";
    expect(id).toMatch(VISITOR_ID);
    expect(first.modeReason).toBe("no_profile");
    const clicked = shownIn(first)[0] as Shown;
    expect((await postEvents([event(first, clicked, "click")])).status).toBe(202);
    // The decision's event token carried the new id: the click lands in that visitor's object.
    await waitFor(async () => (await visitorState(id)).profiles[site]?.recent[0]?.id === clicked.contentId);
  });

  it("personalizes with a TCF string granting purposes 1, 5 and 6 in the publisher segment", async () => {
    const id = await profiledVisitor(site);
    const tc = tcString({ publisherPurposes: [1, 5, 6, 8] });
    const res = await decideAs(site, { cookie: `${await visitorCookie(id)}; euconsent-v2=${tc}` });
    expect(res.mode).toBe("personalized");
    expect(res.modeReason).toBe("tcf_granted");
  });

  it.each([
    ["without purposes 5 and 6", () => tcString({ publisherPurposes: [1, 8] }), "tcf_denied"],
    ["without purpose 1", () => tcString({ publisherPurposes: [5, 6] }), "tcf_denied"],
    ["that does not decode", () => "not-a-tc-string!!", "tcf_invalid"],
    ["of policy version 3 (before TCF v2.2)", () => tcString({ publisherPurposes: [1, 5, 6], policyVersion: 3 }), "tcf_invalid"],
    ["that is not service-specific", () => tcString({ publisherPurposes: [1, 5, 6], serviceSpecific: false }), "tcf_invalid"],
  ])("does not personalize with a TCF string %s", async (_name, make, basis) => {
    const optOut = await createSite(`consent-tcf-${basis}`, { consentModel: "opt-out" });
    const id = await profiledVisitor(optOut);
    const res = await decideAs(optOut, { cookie: `${await visitorCookie(id)}; euconsent-v2=${make()}` });
    expect(res.mode).toBe("contextual");
    expect(res.modeReason).toBe(basis);
  });

  it("requires the configured vendor's consent too", async () => {
    const vendorSite = await createSite("consent-vendor", { consentModel: "opt-in" });
    await db.update(sites).set({ tcfVendorId: TEST_VENDOR_ID }).where(eq(sites.id, vendorSite));
    const id = await profiledVisitor(vendorSite);
    const cookie = await visitorCookie(id);
    const withoutVendor = tcString({ publisherPurposes: [1, 5, 6], purposes: [1, 5, 6] });
    expect((await decideAs(vendorSite, { cookie: `${cookie}; euconsent-v2=${withoutVendor}` })).modeReason).toBe("tcf_denied");
    const withVendor = tcString({ publisherPurposes: [1, 5, 6], purposes: [1, 5, 6], vendorConsent: true });
    expect((await decideAs(vendorSite, { cookie: `${cookie}; euconsent-v2=${withVendor}` })).mode).toBe("personalized");
  });

  it("lets Global Privacy Control override a banner grant", async () => {
    const granted = await postConsent(site, { personalization: true, measurement: true });
    const { visitorId } = (await granted.json()) as ConsentStateResponse;
    await putProfile(site, visitorId ?? "", demoProfile());
    const res = await decideAs(site, { cookie: cookiesFrom(granted), headers: { "sec-gpc": "1" } });
    expect(res.mode).toBe("contextual");
    expect(res.modeReason).toBe("gpc");
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
    const first = await requestDecision(site);
    const idCookie = first.res.headers.getSetCookie().find((c) => c.startsWith("ep_vid="));
    expect(idCookie).toBeDefined();
    const state = await SELF.fetch(`https://edge.example/v1/consent?site=${site}`, { headers: { cookie: cookiesFrom(first.res) } });
    const { visitorId } = (await state.json()) as ConsentStateResponse;
    expect(visitorId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await putProfile(site, visitorId ?? "", demoProfile());
    expect((await decideAs(site, { cookie: cookiesFrom(first.res) })).mode).toBe("personalized");
  });
});
