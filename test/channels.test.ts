import { env, SELF } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { checkEventToken } from "../worker/events/token";
import { sign } from "../worker/lib/signing";
import { privacyRequests } from "../worker/store/schema";
import { subjectHash } from "../worker/store/subject";
import type { DecideResponse } from "../worker/wire/decide";
import {
  BROWSER,
  createSite,
  db,
  decideAs,
  decideBody,
  demoProfile,
  expectError,
  newVisitorId,
  putProfile,
  visitorCookie,
  visitorState,
} from "./support/fixtures";
import { event, postEvents, type Shown, shownIn } from "./support/pipeline";

const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const PRIVACY = { authorization: `Bearer ${env.PRIVACY_TOKEN}`, "content-type": "application/json" };
const CF = { country: "JP", timezone: "Asia/Tokyo" };
/** A fixed clock: the model reads the local hour and weekday (see decide.test.ts). */
const NOW = new Date("2026-11-25T03:00:00Z");
const GRANTED = { personalization: true, measurement: true };

type KeyAnswer = { id: string; site: string; name: string; scopes: string[]; secret?: string; revokedAt: string | null };

async function createKey(site: string, scopes: string[] = ["decide", "events"]): Promise<KeyAnswer & { secret: string }> {
  const res = await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/keys`, {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify({ name: "checkout server", scopes }),
  });
  expect(res.status).toBe(201);
  return res.json();
}

function post(path: string, body: unknown, headers: Record<string, string>) {
  return SELF.fetch(`https://edge.example${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": BROWSER, ...headers },
    body: JSON.stringify(body),
    cf: CF,
  } as RequestInit);
}

const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

/** A server's decision for `visitor` (a customer id or a signed visitor id) with the consent it states. */
async function serverDecide(site: string, secret: string, visitor: unknown, consent: unknown = GRANTED): Promise<DecideResponse> {
  const res = await post("/v1/decide", { ...decideBody(site), visitor, ...(consent ? { consent } : {}) }, bearer(secret));
  if (res.status !== 200) throw new Error(`decide answered ${res.status}: ${await res.text()}`);
  return res.json();
}

async function link(site: string, secret: string, visitorId: string, customerId: string, consent = GRANTED) {
  return post("/v1/identity/link", { site, visitorToken: await sign(visitorId, env.ID_SIGNING_KEY), customerId, consent }, bearer(secret));
}

const webDecide = async (site: string, visitorId: string) => decideAs(site, { cookie: await visitorCookie(visitorId), cf: CF });
const slotsOf = (d: DecideResponse) => d.slots.map(({ slot, items }) => ({ slot, items: items.map((i) => [i.contentId, i.score]) }));

/** The subject a decision's events will be applied to (its token's visitor). */
async function subjectOf(d: DecideResponse): Promise<string | null> {
  const check = await checkEventToken(d.eventToken, [env.ID_SIGNING_KEY], Date.now());
  if (!check.ok) throw new Error("the decision's token does not verify");
  return check.grant.v;
}

function customerExport(site: string, customerId: string) {
  return post("/v1/privacy/customers/export", { site, customerId }, PRIVACY);
}

describe("API keys", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("keys", { consentModel: "opt-out" });
  });

  it("shows the secret once, keeps only its hash, lists keys without secrets and audits each change", async () => {
    const key = await createKey(site);
    expect(key.secret).toMatch(/^epk_[A-Za-z0-9_-]{43}$/);
    const stored = await env.DB.prepare("SELECT * FROM api_keys WHERE id = ?").bind(key.id).first<Record<string, unknown>>();
    expect(JSON.stringify(stored)).not.toContain(key.secret.slice(4));
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key.secret));
    expect(stored?.secret_hash).toBe([...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join(""));

    const listed = await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/keys`, { headers: ADMIN });
    const { keys } = (await listed.json()) as { keys: KeyAnswer[] };
    expect(keys.map((k) => k.id)).toContain(key.id);
    expect(JSON.stringify(keys)).not.toContain(key.secret);
    const audited = await env.DB.prepare("SELECT action FROM audit_log WHERE target = ?")
      .bind(`${site}/${key.id}`)
      .all<{ action: string }>();
    expect(audited.results.map((r) => r.action)).toEqual(["admin.api_key.create"]);
  });

  it("decides over the key for a signed visitor id, with no cookie set and no profile without stated consent", async () => {
    const key = await createKey(site);
    const visitorId = newVisitorId();
    await putProfile(site, visitorId, demoProfile());
    const visitorToken = await sign(visitorId, env.ID_SIGNING_KEY);
    const res = await post("/v1/decide", { ...decideBody(site), visitor: { visitorToken }, consent: GRANTED }, bearer(key.secret));
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toBeNull();
    const decided = (await res.json()) as DecideResponse;
    expect(decided.mode).toBe("personalized");
    expect(await subjectOf(decided)).toBe(visitorId);
    // Without a consent field, none is assumed: not even an opt-out site's default applies to a server's call.
    const unstated = await serverDecide(site, key.secret, { visitorToken }, null);
    expect(unstated.mode).not.toBe("personalized");
    expect(unstated.modeReason).toContain("opt-in_without_consent");
  });

  it("refuses a revoked key with 401 on decide and events, a key out of scope or of another site with 403", async () => {
    const key = await createKey(site);
    const visitor = { visitorToken: await sign(newVisitorId(), env.ID_SIGNING_KEY) };
    const decided = await serverDecide(site, key.secret, visitor);
    const click = event(decided, shownIn(decided)[0] as Shown, "click");
    expect((await postEvents([click], bearer(key.secret))).status).toBe(202);

    const revoked = await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/keys/${key.id}`, { method: "DELETE", headers: ADMIN });
    expect(((await revoked.json()) as KeyAnswer).revokedAt).not.toBeNull();
    const refused = await post("/v1/decide", { ...decideBody(site), visitor, consent: GRANTED }, bearer(key.secret));
    expect(await expectError(refused)).toMatchObject({ status: 401, code: "unauthorized" });
    expect((await postEvents([click], bearer(key.secret))).status).toBe(401);
    expect((await post("/v1/decide", decideBody(site), bearer("epk_not-a-key"))).status).toBe(401);

    const eventsOnly = await createKey(site, ["events"]);
    expect(await expectError(await post("/v1/decide", { ...decideBody(site), visitor }, bearer(eventsOnly.secret)))).toMatchObject({
      status: 403,
      code: "forbidden",
    });
    const other = await createSite("keys-other", { consentModel: "opt-out" });
    const otherKey = await createKey(other);
    expect((await post("/v1/decide", { ...decideBody(site), visitor }, bearer(otherKey.secret))).status).toBe(403);
    expect((await postEvents([click], bearer(otherKey.secret))).status).toBe(403);
  });

  it("limits each key, whichever address its calls come from", async () => {
    const [busy, calm] = [await createKey(site, ["events"]), await createKey(site, ["events"])];
    const burst = async (secret: string, n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        const address = { "cf-connecting-ip": `2001:db8::${crypto.randomUUID().slice(0, 4)}` };
        const res = await SELF.fetch("https://edge.example/v1/events", {
          method: "POST",
          headers: { ...bearer(secret), ...address },
          body: "{}",
        });
        statuses.push(res.status);
        await res.body?.cancel();
      }
      return statuses;
    };
    // The limiter's windows follow the wall clock: a burst that straddled two is sent again with a new key.
    let statuses: number[] = [];
    for (let key = busy; ; key = await createKey(site, ["events"])) {
      const window = Math.floor(Date.now() / 60_000);
      statuses = await burst(key.secret, 601);
      if (Math.floor(Date.now() / 60_000) === window) break;
    }
    expect(statuses.slice(0, 600).every((s) => s === 400)).toBe(true);
    expect(statuses[600]).toBe(429);
    expect(await burst(calm.secret, 1)).toEqual([400]);
  });

  it("names a bad caller in a 400", async () => {
    const key = await createKey(site);
    const forged = await post(
      "/v1/decide",
      { ...decideBody(site), visitor: { visitorToken: `${newVisitorId()}.forged` } },
      bearer(key.secret),
    );
    expect(await expectError(forged)).toMatchObject({ status: 400, code: "invalid_visitor", field: "visitor.visitorToken" });
    const missing = await post("/v1/decide", decideBody(site), bearer(key.secret));
    expect(await expectError(missing)).toMatchObject({ status: 400, field: "visitor" });
  });
});

describe("identity linking", () => {
  let site: string;
  let secret: string;
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: NOW });
    site = await createSite("linking", { consentModel: "opt-out" });
    secret = (await createKey(site)).secret;
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  it("gives a customer the same decision over the key as on the web, on a device linked to them", async () => {
    const customerId = `ada-${crypto.randomUUID()}@example.com`;
    const device = newVisitorId();
    await putProfile(site, device, demoProfile(1));
    expect((await link(site, secret, device, customerId)).status).toBe(200);
    const web = await webDecide(site, device);
    const server = await serverDecide(site, secret, { customerId });
    expect(web.mode).toBe("personalized");
    expect(server.mode).toBe("personalized");
    expect(slotsOf(server)).toEqual(slotsOf(web));
    // Both are decided as the customer: their events reach one profile.
    expect(await subjectOf(web)).toMatch(/^customer:/);
    expect(await subjectOf(server)).toBe(await subjectOf(web));
    // The customer id is kept nowhere in clear.
    const tables = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'",
    ).all<{ name: string }>();
    for (const { name } of tables.results)
      expect(JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results)).not.toContain(customerId);
  });

  it("merges a device's history into the customer once, and shares one device's clicks with another in the next decision", async () => {
    const customerId = `grace-${crypto.randomUUID()}`;
    const laptop = newVisitorId();
    const phone = newVisitorId();
    await putProfile(site, laptop, { itemAffinity: { "obd-1": 2 } });
    for (let i = 0; i < 2; i++)
      expect(await (await link(site, secret, laptop, customerId)).json()).toEqual({ linked: true, merged: i === 0 });
    expect((await link(site, secret, phone, customerId)).status).toBe(200);
    const customer = (await subjectOf(await webDecide(site, phone))) as string;
    const merged = await visitorState(customer);
    // Applied once although linked twice: the laptop's affinity, not twice it.
    expect(merged.profiles[site]?.itemAffinity["obd-1"]).toBeCloseTo(2, 5);

    const onLaptop = await webDecide(site, laptop);
    const clicked = shownIn(onLaptop)[0] as Shown;
    expect((await postEvents([event(onLaptop, clicked, "click")])).status).toBe(202);
    await waitFor(async () => (await visitorState(customer)).profiles[site]?.recent.some((r) => r.id === clicked.contentId) ?? false);
    const [laptopNext, phoneNext] = [await webDecide(site, laptop), await webDecide(site, phone)];
    expect(phoneNext.mode).toBe("personalized");
    expect(slotsOf(phoneNext)).toEqual(slotsOf(laptopNext));
    expect(await subjectOf(phoneNext)).toBe(customer);

    const exported = (await (await customerExport(site, customerId)).json()) as { linkedDevices: { visitorId: string }[] };
    expect(exported.linkedDevices.map((d) => d.visitorId).sort()).toEqual([laptop, phone].sort());
  });

  it("writes a profile imported for a signed-in device into its customer's object, which the device's decisions read", async () => {
    const customerId = `lin-${crypto.randomUUID()}`;
    const device = newVisitorId();
    expect((await link(site, secret, device, customerId)).status).toBe(200);
    expect((await webDecide(site, device)).modeReason).toBe("no_profile");
    // Trained profiles arrive by visitor id (`npm run load-profiles`), after the device signed in.
    const { attributes, itemAffinity } = demoProfile(1);
    const imported = await post(
      "/v1/admin/visitors/import",
      { profiles: [{ site, visitorId: device, profile: { v: 1, attributes, itemAffinity, recent: [] } }] },
      ADMIN,
    );
    expect(await imported.json()).toMatchObject({ imported: 1, refused: [] });
    const after = await webDecide(site, device);
    expect(after.mode).toBe("personalized");
    const customer = (await subjectOf(after)) as string;
    expect(customer).toMatch(/^customer:/);
    expect((await visitorState(customer)).profiles[site]?.itemAffinity).toEqual(itemAffinity);
    // Imported again (a nightly load): replaced, not added up.
    const again = await post(
      "/v1/admin/visitors/import",
      { profiles: [{ site, visitorId: device, profile: { v: 1, attributes, itemAffinity, recent: [] } }] },
      ADMIN,
    );
    expect(again.status).toBe(200);
    expect((await visitorState(customer)).profiles[site]?.itemAffinity).toEqual(itemAffinity);
  });

  it("links a signed-in page's own browser with a link token its server minted, only from the site's origin and with consent", async () => {
    const customerId = `page-${crypto.randomUUID()}`;
    const minted = await post("/v1/identity/tokens", { site, customerId }, bearer(secret));
    const { linkToken } = (await minted.json()) as { linkToken: string };
    const device = newVisitorId();
    await putProfile(site, device, demoProfile(2));
    const fromPage = async (origin: string, token = linkToken, visitorId = device) =>
      post("/v1/identity/link", { site, linkToken: token }, { origin, cookie: await visitorCookie(visitorId) });

    expect(await expectError(await fromPage("https://evil.example"))).toMatchObject({ status: 403, code: "forbidden_origin" });
    expect(await expectError(await fromPage("https://shop.example", `${linkToken.slice(0, -4)}AAAA`))).toMatchObject({
      status: 403,
      code: "invalid_token",
    });
    // A recipient token (another purpose, another key) never links a device.
    const mail = await post("/v1/email/tokens", { site, recipients: [{ customerId, consent: GRANTED }] }, bearer(secret));
    const [recipient = ""] = ((await mail.json()) as { tokens: string[] }).tokens;
    expect((await fromPage("https://shop.example", recipient)).status).toBe(403);
    expect((await visitorState(device)).linkedTo).toBeNull();

    const linked = await fromPage("https://shop.example");
    expect(linked.status).toBe(200);
    expect(linked.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(await subjectOf(await webDecide(site, device))).toBe(await subjectOf(await serverDecide(site, secret, { customerId })));

    // On an opt-in site without a choice, the browser has no personalization consent: no link.
    const optIn = await createSite("linking-opt-in", { consentModel: "opt-in" });
    const optInKey = (await createKey(optIn)).secret;
    const optInToken = (
      (await (await post("/v1/identity/tokens", { site: optIn, customerId }, bearer(optInKey))).json()) as { linkToken: string }
    ).linkToken;
    const refused = await post(
      "/v1/identity/link",
      { site: optIn, linkToken: optInToken },
      { origin: "https://shop.example", cookie: await visitorCookie(newVisitorId()) },
    );
    expect(await expectError(refused)).toMatchObject({ status: 403, code: "consent_required" });
  });

  it("links only with personalization consent", async () => {
    const device = newVisitorId();
    const refused = await link(site, secret, device, "no-consent", { personalization: false, measurement: true });
    expect(await expectError(refused)).toMatchObject({ status: 403, code: "consent_required" });
    expect((await visitorState(device)).linkedTo).toBeNull();
  });

  it("revokes a customer on every linked device, and the erasure removes the links", async () => {
    const customerId = `lin-${crypto.randomUUID()}`;
    const [a, b] = [newVisitorId(), newVisitorId()];
    await putProfile(site, a, demoProfile());
    for (const device of [a, b]) expect((await link(site, secret, device, customerId)).status).toBe(200);
    expect((await webDecide(site, b)).mode).toBe("personalized");

    const res = await post("/v1/privacy/customers/revocations", { site, customerId, reason: "data subject request" }, PRIVACY);
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ devices: 2 });
    for (const device of [a, b]) {
      const next = await webDecide(site, device);
      expect(next.mode).not.toBe("personalized");
      expect(next.modeReason).toContain("revoked");
    }
    expect((await serverDecide(site, secret, { customerId })).mode).not.toBe("personalized");
    const exported = (await (await customerExport(site, customerId)).json()) as { linkedDevices: unknown[]; revocation: unknown };
    expect(exported.linkedDevices).toEqual([]);
    expect(exported.revocation).not.toBeNull();
    for (const device of [a, b]) expect(await visitorState(device)).toMatchObject({ linkedTo: null, profiles: {} });
    // A revoked customer is never linked again.
    expect(await expectError(await link(site, secret, newVisitorId(), customerId))).toMatchObject({
      status: 409,
      code: "revoked_customer",
    });
    // Each device has an erasure request of its own, as if it had been revoked by its visitor id.
    for (const device of [a, b]) {
      const hash = await subjectHash(device);
      expect(await db.select().from(privacyRequests).where(eq(privacyRequests.subjectHash, hash))).toHaveLength(1);
    }
  });
});
