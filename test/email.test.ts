import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { demoItems } from "../scripts/seed/demo-data";
import { sign } from "../worker/lib/signing";
import type { DecideResponse } from "../worker/wire/decide";
import { BROWSER, createSite, demoProfile, expectError, newVisitorId, putProfile, visitorCookie } from "./support/fixtures";
import { loggedRows } from "./support/log";

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const GRANTED = { personalization: true, measurement: true };
const HOUR_MS = 60 * 60 * 1000;

async function newKey(site: string): Promise<string> {
  const res = await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/keys`, {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify({ name: "mailer", scopes: ["decide"] }),
  });
  return ((await res.json()) as { secret: string }).secret;
}

async function serverCall(path: string, secret: string, body: unknown) {
  return SELF.fetch(`https://edge.example${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json", "user-agent": BROWSER },
    body: JSON.stringify(body),
  });
}

/** One recipient token, for a mail sent `sentAgoMs` ago. */
async function recipientToken(site: string, secret: string, customerId: string, consent = GRANTED, sentAgoMs = HOUR_MS): Promise<string> {
  const res = await serverCall("/v1/email/tokens", secret, { site, sentAt: Date.now() - sentAgoMs, recipients: [{ customerId, consent }] });
  expect(res.status).toBe(200);
  return ((await res.json()) as { tokens: string[] }).tokens[0] as string;
}

/** A mail client's request, answered with the redirect's target (not followed). */
async function fetchMail(path: string, userAgent = BROWSER): Promise<{ status: number; location: string | null }> {
  const res = await SELF.fetch(`https://edge.example${path}`, { headers: { "user-agent": userAgent }, redirect: "manual" });
  await res.body?.cancel();
  return { status: res.status, location: res.headers.get("location") };
}

const image = (site: string, token: string, slot = "hero") => `/v1/email/${site}/${slot}.png?r=${encodeURIComponent(token)}`;
const click = (site: string, token: string, slot = "hero", d?: string) =>
  `/v1/email/${site}/${slot}/click?r=${encodeURIComponent(token)}${d ? `&d=${encodeURIComponent(d)}` : ""}`;
const contentOf = (url: string | null) => /\/demo\/(?:img|products)\/([^./]+)/.exec(url ?? "")?.[1];

async function interactions(site: string) {
  return (await loggedRows(site)).filter((row) => row.kind === "interaction").map((row) => `${row.event}:${row.content_id}`);
}

/** A customer with a profile on `site`, through a linked device (as a signed-in visitor has one). */
async function profiledCustomer(site: string, secret: string): Promise<string> {
  const customerId = `mail-${crypto.randomUUID()}`;
  const device = newVisitorId();
  await putProfile(site, device, demoProfile());
  const linked = await serverCall("/v1/identity/link", secret, {
    site,
    visitorToken: await sign(device, env.ID_SIGNING_KEY),
    customerId,
    consent: GRANTED,
  });
  expect(linked.status).toBe(200);
  return customerId;
}

describe("e-mail at open time", () => {
  let site: string;
  let secret: string;
  beforeAll(async () => {
    site = await createSite("email", { consentModel: "opt-out" });
    secret = await newKey(site);
  });

  it("shows the content chosen at the first open on every open, lands its click on the same item, and logs each once", async () => {
    const token = await recipientToken(site, secret, await profiledCustomer(site, secret));
    const first = await fetchMail(image(site, token));
    expect(first.status).toBe(302);
    const shown = contentOf(first.location);
    expect(first.location).toBe(`https://edge.example/demo/img/${shown}.svg`);
    expect((await fetchMail(image(site, token))).location).toBe(first.location);
    for (let i = 0; i < 2; i++) {
      const followed = await fetchMail(click(site, token));
      expect(followed).toEqual({ status: 302, location: `https://edge.example/demo/products/${shown}` });
    }
    await waitFor(async () => (await interactions(site)).length >= 2);
    await new Promise((r) => setTimeout(r, 500));
    expect((await interactions(site)).sort()).toEqual([`click:${shown}`, `impression:${shown}`]);
  });

  it("does not count a privacy proxy's fetch as an open, by its user agent or by fetching at send time", async () => {
    const proxySite = await createSite("email-proxy", { consentModel: "opt-out" });
    const proxyKey = await newKey(proxySite);
    const customerId = await profiledCustomer(proxySite, proxyKey);
    const gmail = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
    const viaProxy = await fetchMail(image(proxySite, await recipientToken(proxySite, proxyKey, customerId)), gmail);
    const atSend = await fetchMail(image(proxySite, await recipientToken(proxySite, proxyKey, customerId, GRANTED, 0)));
    expect([viaProxy.status, atSend.status]).toEqual([302, 302]);
    expect(contentOf(viaProxy.location)).toBeDefined();
    // A person's open of another mail, to know when the queue has delivered what it holds.
    await fetchMail(image(proxySite, await recipientToken(proxySite, proxyKey, customerId), "promo"));
    await waitFor(async () => (await interactions(proxySite)).length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    expect((await interactions(proxySite)).map((i) => i.split(":")[0])).toEqual(["impression"]);
  });

  it("gives a recipient without consent, or with a revoked customer, the editor's default and records nothing", async () => {
    const withoutConsent = await recipientToken(site, secret, "nobody", { personalization: false, measurement: false });
    const editorsFirst = demoItems()
      .filter((item) => item.slotIds.includes("hero"))
      .sort((a, b) => a.defaultRank - b.defaultRank)[0];
    expect(contentOf((await fetchMail(image(site, withoutConsent))).location)).toBe(editorsFirst?.id);
    expect(contentOf((await fetchMail(click(site, withoutConsent))).location)).toBe(editorsFirst?.id);

    const revokedId = await profiledCustomer(site, secret);
    const revokedToken = await recipientToken(site, secret, revokedId);
    const revoked = await SELF.fetch("https://edge.example/v1/privacy/customers/revocations", {
      method: "POST",
      headers: { authorization: `Bearer ${env.PRIVACY_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ site, customerId: revokedId }),
    });
    expect(revoked.status).toBe(202);
    expect(contentOf((await fetchMail(image(site, revokedToken))).location)).toBe(editorsFirst?.id);
    const exported = await SELF.fetch("https://edge.example/v1/privacy/customers/export", {
      method: "POST",
      headers: { authorization: `Bearer ${env.PRIVACY_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ site, customerId: revokedId }),
    });
    expect(((await exported.json()) as { emailOpens: unknown[] }).emailOpens).toEqual([]);
  });

  it("never redirects off the site's origins, and refuses a forged or another site's token", async () => {
    const token = await recipientToken(site, secret, `d-${crypto.randomUUID()}`);
    // No open recorded (images off): the mail's own link, if it is the site's.
    expect((await fetchMail(click(site, token, "hero", "https://shop.example/sale"))).location).toBe("https://shop.example/sale");
    const off = await SELF.fetch(`https://edge.example${click(site, token, "hero", "https://evil.example/")}`, { redirect: "manual" });
    expect(await expectError(off)).toMatchObject({ status: 400, code: "invalid_redirect", field: "d" });
    const forged = await SELF.fetch(`https://edge.example${image(site, `${token.slice(0, -4)}AAAA`)}`, { redirect: "manual" });
    expect(await expectError(forged)).toMatchObject({ status: 403, field: "r" });
    const other = await createSite("email-other", { consentModel: "opt-out" });
    expect((await SELF.fetch(`https://edge.example${image(other, token)}`, { redirect: "manual" })).status).toBe(403);
  });

  it("counts an item seen in an e-mail toward its frequency cap on the site", async () => {
    const ids = demoItems().map((item) => item.id);
    const capped = await createSite("email-caps", {
      consentModel: "opt-out",
      policy: { holdout: { share: 0 }, caps: [{ contentIds: ids, perDay: 1 }] },
    });
    const cappedKey = await newKey(capped);
    const customerId = await profiledCustomer(capped, cappedKey);
    const seen = contentOf((await fetchMail(image(capped, await recipientToken(capped, cappedKey, customerId)))).location);
    expect(seen).toBeDefined();
    const onSite = async () => {
      const res = await serverCall("/v1/decide", cappedKey, {
        site: capped,
        page: { url: "https://shop.example/" },
        slots: [{ id: "hero" }, { id: "recommendations", count: 5 }],
        visitor: { customerId },
        consent: GRANTED,
      });
      return (await res.json()) as DecideResponse;
    };
    // The e-mail's decision counted the item in the customer's object, which the site's decisions read.
    const counted = async () => {
      const res = await SELF.fetch("https://edge.example/v1/privacy/customers/export", {
        method: "POST",
        headers: { authorization: `Bearer ${env.PRIVACY_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ site: capped, customerId }),
      });
      const exported = (await res.json()) as { frequencyCaps: Record<string, { shown: Record<string, number> }> };
      return exported.frequencyCaps[capped]?.shown[seen as string] ?? 0;
    };
    await waitFor(async () => (await counted()) === 1);
    const decided = await onSite();
    expect(decided.mode).toBe("personalized");
    expect(decided.slots.flatMap((s) => s.items.map((i) => i.contentId))).not.toContain(seen);
  });
  it("splits the performance report by channel: web, server, e-mail", async () => {
    const split = await createSite("email-channels", { consentModel: "opt-out" });
    const splitKey = await newKey(split);
    const customerId = await profiledCustomer(split, splitKey);
    const onWeb = await SELF.fetch("https://edge.example/v1/decide", {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": BROWSER, cookie: await visitorCookie(newVisitorId()) },
      body: JSON.stringify({ site: split, page: { url: "https://shop.example/" }, slots: [{ id: "hero" }] }),
    });
    expect(onWeb.status).toBe(200);
    const onServer = await serverCall("/v1/decide", splitKey, {
      site: split,
      page: { url: "https://shop.example/" },
      slots: [{ id: "hero" }],
      visitor: { customerId },
      consent: GRANTED,
      channel: "app",
    });
    expect(onServer.status).toBe(200);
    const token = await recipientToken(split, splitKey, customerId);
    await fetchMail(image(split, token));
    await fetchMail(click(split, token));
    type ChannelRow = { channel: string; decisions: number; impressions: number; clicks: number };
    const report = async () => {
      const res = await SELF.fetch(`https://edge.example/v1/admin/reports/performance?site=${split}`, { headers: ADMIN });
      return ((await res.json()) as { byChannel: ChannelRow[] }).byChannel;
    };
    await waitFor(
      async () => (await report()).reduce((n, row) => n + row.decisions, 0) === 3 && (await report()).some((r) => r.clicks === 1),
    );
    expect((await report()).map(({ channel, decisions, impressions, clicks }) => [channel, decisions, impressions, clicks])).toEqual([
      ["app", 1, 0, 0],
      ["email", 1, 1, 1],
      ["web", 1, 0, 0],
    ]);
  });
});
