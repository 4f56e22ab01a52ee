import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { CONSOLE_CSP } from "../worker/http/console/app";
import { Chart } from "../worker/http/console/chart";
import { auditLog } from "../worker/store/schema";
import { CONSOLE_ACTIONS } from "./support/console";
import { createSite, db } from "./support/fixtures";

/**
 * The console's sign-in, sessions, CSRF and headers, inside workerd (the pages in Chromium:
 * test/browser/console.browser.ts). The console is on its own host, CONSOLE_HOST (wrangler.toml).
 */
const BASE = "https://localhost/admin";
const ORIGIN = "https://localhost";

type Session = { cookie: string; csrf: string };

const form = (fields: Record<string, string>) => new URLSearchParams(fields);

async function signIn(token: string): Promise<Response> {
  return SELF.fetch(`${BASE}/sign-in`, { method: "POST", body: form({ token }), headers: { origin: ORIGIN }, redirect: "manual" });
}

/** A session and the CSRF token its pages carry. */
async function sessionAs(token: string, page: string): Promise<Session> {
  const res = await signIn(token);
  expect(res.status).toBe(303);
  const setCookie = res.headers.get("set-cookie") ?? "";
  const cookie = setCookie.split(";")[0] ?? "";
  const html = await (await SELF.fetch(`${BASE}/${page}`, { headers: { cookie } })).text();
  const csrf = html.match(/name="csrf" value="([^"]+)"/)?.[1] ?? "";
  expect(csrf).not.toBe("");
  return { cookie, csrf };
}

const post = (
  path: string,
  session: Partial<Session>,
  fields: Record<string, string>,
  headers: Record<string, string> = { origin: ORIGIN },
) =>
  SELF.fetch(`${BASE}/${path}`, {
    method: "POST",
    body: form({ ...(session.csrf ? { csrf: session.csrf } : {}), ...fields }),
    headers: { ...headers, ...(session.cookie ? { cookie: session.cookie } : {}) },
    redirect: "manual",
  });

describe("console: sign-in, sessions, CSRF, headers", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("console-site");
  });

  it("sets a strict, HttpOnly session cookie on /admin (Secure over HTTPS) and keeps only a hash of it in KV", async () => {
    const res = await signIn(env.ADMIN_TOKEN);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("performance");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^ep_console=[A-Za-z0-9_-]{43};/);
    expect(cookie).toContain("Path=/admin");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Secure");
    expect(cookie).toContain("Max-Age=1800");
    const id = cookie.slice("ep_console=".length).split(";")[0] ?? "";
    const keys = (await env.CONFIG.list({ prefix: "console-session:" })).keys.map((k) => k.name);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.some((k) => k.includes(id))).toBe(false);
  });

  it("refuses an unknown token with a 401 page and no session", async () => {
    const res = await signIn("not-a-token");
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
    expect(await res.text()).toContain("That token is not valid.");
  });

  it("without a session: pages redirect to the sign-in form, actions are 401", async () => {
    for (const page of ["performance", "content", "models", "segments", "experiments", "privacy", "privacy/export?subjectId=x"]) {
      const res = await SELF.fetch(`${BASE}/${page}`, { redirect: "manual" });
      expect(res.status, page).toBe(303);
      expect(res.headers.get("location"), page).toMatch(/sign-in\?next=/);
    }
    for (const path of CONSOLE_ACTIONS) {
      const res = await post(path, {}, { csrf: "x" });
      expect(res.status, path).toBe(401);
    }
  });

  it("sends the strict CSP and no-store on pages, and serves its own assets", async () => {
    const { cookie } = await sessionAs(env.ADMIN_TOKEN, `performance?site=${site}`);
    const res = await SELF.fetch(`${BASE}/performance?site=${site}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).not.toContain("unsafe-inline");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const html = await res.text();
    // No inline script: every script element is external or a JSON data block.
    for (const tag of html.match(/<script[^>]*>/g) ?? []) expect(tag).toMatch(/src="assets\/|type="application\/json"/);
    expect(html).not.toMatch(/ style="/);
    for (const asset of ["console.client.js", "console.client.css", "uPlot.iife.min.js", "uPlot.min.css"]) {
      const a = await SELF.fetch(`${BASE}/assets/${asset}`);
      expect(a.status, asset).toBe(200);
      expect((await a.text()).length, asset).toBeGreaterThan(500);
    }
    expect((await SELF.fetch(`${BASE}/assets/nope.js`)).status).toBe(404);
  });

  it("refuses a post without the CSRF token, with a wrong one, or from another origin", async () => {
    const session = await sessionAs(env.ADMIN_TOKEN, `models?site=${site}`);
    const none = await post("models/kill-switch", { cookie: session.cookie }, { on: "true" });
    expect(none.status).toBe(403);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe("csrf");
    const wrong = await post("models/kill-switch", { cookie: session.cookie, csrf: "x".repeat(43) }, { on: "true" });
    expect(wrong.status).toBe(403);
    const foreign = await post("models/kill-switch", session, { on: "true" }, { origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe("bad_origin");
    const health = (await (await SELF.fetch("https://edge.example/health")).json()) as { model: { killSwitch: boolean } };
    expect(health.model.killSwitch).toBe(false);
  });

  it("keeps each role to its own pages and actions", async () => {
    const privacy = await sessionAs(env.PRIVACY_TOKEN, "privacy");
    for (const page of ["performance", "content", "models", "segments", "experiments"]) {
      expect((await SELF.fetch(`${BASE}/${page}?site=${site}`, { headers: { cookie: privacy.cookie } })).status, page).toBe(403);
    }
    expect((await post("models/rollback", privacy, {})).status).toBe(403);
    expect((await post("content/blocklist", privacy, { terms: "x" })).status).toBe(403);

    const admin = await sessionAs(env.ADMIN_TOKEN, `performance?site=${site}`);
    expect((await SELF.fetch(`${BASE}/privacy`, { headers: { cookie: admin.cookie } })).status).toBe(403);
    expect((await post("privacy/revocations", admin, { subjectId: crypto.randomUUID() })).status).toBe(403);
  });

  it("names bad input: an unknown site is a 404 page, a bad form field a 400 page", async () => {
    const admin = await sessionAs(env.ADMIN_TOKEN, `performance?site=${site}`);
    const unknown = await SELF.fetch(`${BASE}/performance?site=nope`, { headers: { cookie: admin.cookie } });
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain("no site &quot;nope&quot;");
    const badVersion = await post("models/promote", admin, { version: "../etc" });
    expect(badVersion.status).toBe(400);
    const privacy = await sessionAs(env.PRIVACY_TOKEN, "privacy");
    const huge = await post(`content/blocklist?site=${site}`, admin, { terms: "x".repeat(200_000) });
    expect(huge.status).toBe(413);
    const badSubject = await post("privacy/revocations", privacy, { subjectId: "not-an-id" });
    expect(badSubject.status).toBe(400);
    expect(await badSubject.text()).toContain("subjectId");
  });

  it("saves the blocklist through the site policy, audited", async () => {
    const admin = await sessionAs(env.ADMIN_TOKEN, `content?site=${site}`);
    const res = await post(`content/blocklist?site=${site}`, admin, { terms: "free money\n\n  miracle \nfree money" });
    expect(res.status).toBe(303);
    const policy = (await (
      await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/policy`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })
    ).json()) as {
      blocklist: string[];
    };
    expect(policy.blocklist).toEqual(["free money", "miracle"]);
    const page = await (await SELF.fetch(`${BASE}/content?site=${site}`, { headers: { cookie: admin.cookie } })).text();
    expect(page).toContain("free money\nmiracle");
    const audited = (await db.select().from(auditLog)).filter((r) => r.action === "admin.site.policy" && r.target === site);
    expect(audited.map((r) => r.role)).toEqual(["admin"]);
  });

  it("draws a single day of a daily series as bars with whiskers, from zero, not as a dot at the edge", async () => {
    const day = Date.parse("2026-11-20T00:00:00Z") / 1000;
    const spec = {
      kind: "time" as const,
      unit: "ratio" as const,
      x: [day],
      series: [{ label: "model", values: [0.12], low: [0.08], high: [0.17] }],
    };
    const html = (await Chart({ id: "one-day", title: "CTR per day", spec }))?.toString() ?? "";
    expect(html).toContain('data-kind="bars"');
    expect(html).toContain('data-y-min="0"');
    expect(html.match(/class="whisker"/g)).toHaveLength(1);
    expect(html).toContain("2026-11-20");
    expect(html).not.toContain('type="application/json"');
  });

  it("renders tables with a caption and column headers in a scroll wrapper", async () => {
    const privacy = await sessionAs(env.PRIVACY_TOKEN, "privacy");
    const html = await (await SELF.fetch(`${BASE}/privacy`, { headers: { cookie: privacy.cookie } })).text();
    expect(html).toContain(
      '<div class="scroll"><table id="audit"><caption class="visually-hidden">Audit log entries</caption><thead><tr><th scope="col">at</th>',
    );
    expect(html).toContain('<td data-label="action">console.sign_in</td>');
  });

  it("ends the session on the server at sign-out", async () => {
    const admin = await sessionAs(env.ADMIN_TOKEN, `performance?site=${site}`);
    const out = await post("sign-out", admin, {});
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/ep_console=;.*Max-Age=0/);
    // The old cookie, replayed, no longer opens anything.
    const replay = await SELF.fetch(`${BASE}/performance?site=${site}`, { headers: { cookie: admin.cookie }, redirect: "manual" });
    expect(replay.status).toBe(303);
    const actions = (await db.select().from(auditLog)).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["console.sign_in", "console.sign_out"]));
  });

  it("lists privacy requests, consent and audit records through the privacy API with filters", async () => {
    const headers = { authorization: `Bearer ${env.PRIVACY_TOKEN}`, "content-type": "application/json" };
    const subjectId = crypto.randomUUID();
    const revoked = (await (
      await SELF.fetch("https://edge.example/v1/privacy/revocations", { method: "POST", headers, body: JSON.stringify({ subjectId }) })
    ).json()) as { requestId: string };
    const requests = (await (await SELF.fetch("https://edge.example/v1/privacy/requests?limit=500", { headers })).json()) as {
      requests: { id: string; status: string }[];
    };
    expect(requests.requests.map((r) => r.id)).toContain(revoked.requestId);
    const consent = (await (
      await SELF.fetch(`https://edge.example/v1/privacy/consent-log?source=revocation&subject=${subjectId}`, { headers })
    ).json()) as {
      records: { source: string }[];
    };
    expect(consent.records).toHaveLength(1);
    const audit = (await (await SELF.fetch("https://edge.example/v1/privacy/audit-log?action=privacy.revoke", { headers })).json()) as {
      entries: { action: string }[];
    };
    expect(audit.entries.length).toBeGreaterThan(0);
    expect(audit.entries.every((e) => e.action.startsWith("privacy.revoke"))).toBe(true);
    const bad = await SELF.fetch("https://edge.example/v1/privacy/requests?status=lost", { headers });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe("status");
  });
});
