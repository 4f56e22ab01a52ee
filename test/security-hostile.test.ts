import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createSite, decideOk, newVisitorId, visitorCookie } from "./support/fixtures";

/**
 * Hostile input over every route, generated systematically: wrong methods, bodies that are not
 * JSON (or not the JSON asked for), huge bodies, odd paths, bad tokens, bad query parameters, odd
 * headers, hostile forms. Whatever arrives, the worker answers: never a 5xx, never a hang, and a
 * JSON error (`{ error: { code, message } }`) from the API.
 */

type Probe = { name: string; url: string; init: RequestInit; json: boolean };

const API = "https://edge.example";
const CONSOLE = "https://localhost";
const TIMEOUT_MS = 15_000;
const ADMIN = `Bearer ${env.ADMIN_TOKEN}`;
const PRIVACY = `Bearer ${env.PRIVACY_TOKEN}`;
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
const TWO_MIB = "x".repeat(2 * 1024 * 1024);
const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

/** Every route of the worker, with the method it takes and the bearer token it needs. */
function routes(site: string) {
  const uuid = "11111111-1111-4111-8111-111111111111";
  return [
    { method: "GET", path: "/health" },
    { method: "GET", path: "/health/live" },
    { method: "GET", path: "/v1/tag.js" },
    { method: "GET", path: `/v1/decide?site=${site}&slots=hero&url=https%3A%2F%2Fshop.example%2F` },
    { method: "POST", path: "/v1/decide" },
    { method: "GET", path: `/v1/consent?site=${site}` },
    { method: "POST", path: "/v1/consent" },
    { method: "POST", path: "/v1/events" },
    { method: "GET", path: `/v1/why?decisionId=${uuid}` },
    { method: "POST", path: "/v1/privacy/revocations", auth: PRIVACY },
    { method: "GET", path: "/v1/privacy/requests", auth: PRIVACY },
    { method: "GET", path: "/v1/privacy/consent-log", auth: PRIVACY },
    { method: "GET", path: "/v1/privacy/audit-log", auth: PRIVACY },
    { method: "GET", path: `/v1/privacy/requests/${uuid}`, auth: PRIVACY },
    { method: "GET", path: `/v1/privacy/subjects/${uuid}/export`, auth: PRIVACY },
    { method: "GET", path: `/v1/admin/reports/performance?site=${site}`, auth: ADMIN },
    { method: "GET", path: `/v1/admin/reports/models?site=${site}`, auth: ADMIN },
    { method: "GET", path: `/v1/admin/reports/uplift?site=${site}`, auth: ADMIN },
    { method: "GET", path: `/v1/admin/reports/experiments?site=${site}`, auth: ADMIN },
    { method: "GET", path: `/v1/admin/reports/fairness?site=${site}`, auth: ADMIN },
    { method: "GET", path: `/v1/admin/reports/variants?site=${site}`, auth: ADMIN },
    { method: "GET", path: "/v1/admin/models", auth: ADMIN },
    { method: "PUT", path: "/v1/admin/models/hostile-1", auth: ADMIN },
    { method: "POST", path: "/v1/admin/models/rollback", auth: ADMIN },
    { method: "POST", path: "/v1/admin/models/kill-switch", auth: ADMIN },
    { method: "POST", path: "/v1/admin/models/hostile-1/promote", auth: ADMIN },
    { method: "POST", path: "/v1/admin/models/hostile-1/canary", auth: ADMIN },
    { method: "POST", path: "/v1/admin/models/hostile-1/retire", auth: ADMIN },
    { method: "GET", path: `/v1/admin/sites/${site}/policy`, auth: ADMIN },
    { method: "PUT", path: `/v1/admin/sites/${site}/policy`, auth: ADMIN },
    { method: "PATCH", path: `/v1/admin/sites/${site}/policy`, auth: ADMIN },
    { method: "POST", path: "/v1/admin/preview-tokens", auth: ADMIN },
    { method: "GET", path: "/v1/admin/sample-size?baseline=0.1&mde=0.01", auth: ADMIN },
    { method: "GET", path: `/v1/admin/sites/${site}/variants`, auth: ADMIN },
    { method: "POST", path: `/v1/admin/sites/${site}/variants`, auth: ADMIN },
    { method: "POST", path: `/v1/admin/sites/${site}/variants/men-1/v1/review`, auth: ADMIN },
    { method: "GET", path: "/v1/admin/sites?limit=5", auth: ADMIN },
    { method: "POST", path: "/v1/admin/sites", auth: ADMIN },
    { method: "GET", path: `/v1/admin/sites/${site}`, auth: ADMIN },
    { method: "PATCH", path: `/v1/admin/sites/${site}`, auth: ADMIN },
    { method: "GET", path: `/v1/admin/sites/${site}/slots`, auth: ADMIN },
    { method: "POST", path: `/v1/admin/sites/${site}/slots`, auth: ADMIN },
    { method: "PATCH", path: `/v1/admin/sites/${site}/slots/hero`, auth: ADMIN },
    { method: "GET", path: `/v1/admin/sites/${site}/items`, auth: ADMIN },
    { method: "GET", path: `/v1/admin/sites/${site}/items/men-1`, auth: ADMIN },
    { method: "PUT", path: `/v1/admin/sites/${site}/items/hostile-1`, auth: ADMIN },
    { method: "POST", path: `/v1/admin/sites/${site}/items/import?dryRun=true`, auth: ADMIN },
    { method: "GET", path: "/openapi.json" },
    { method: "GET", path: "/openapi" },
    { method: "GET", path: `/edge/${site}/` },
    { method: "POST", path: `/edge/${site}/newsletter` },
    { method: "GET", path: "/demo/tag" },
  ] as { method: string; path: string; auth?: string }[];
}

const CONSOLE_PAGES = ["sign-in", "performance", "content", "models", "experiments", "privacy", "privacy/export"];
const CONSOLE_ACTIONS = [
  "sign-in",
  "sign-out",
  "content/review",
  "content/blocklist",
  "models/promote",
  "models/rollback",
  "models/kill-switch",
  "privacy/revocations",
];

const BAD_JSON = [
  "",
  "{",
  "null",
  "[]",
  "1",
  '"text"',
  '{"site":',
  '{"site": "x", "site": 1}',
  "\uFEFF{}",
  '{"a": 1e999}',
  '{"a": "\\ud800"}',
  nested(100),
  `{"events": [${Array.from({ length: 200 }, () => "{}").join(",")}]}`,
  '{"site": {"$gt": ""}, "slots": [{"id": {"toString": 1}}]}',
  '{"__proto__": {"admin": true}, "constructor": {"prototype": {}}}',
];

const WEIRD_PATHS = [
  "/v1",
  "/v1/",
  "//v1/decide",
  "/v1//decide",
  "/v1/decide/",
  "/v1/decide/extra",
  "/v1/decide;x=1",
  "/v1/%00",
  "/v1/%ZZ",
  "/v1/decide%2F..%2Fadmin",
  "/v1/admin/../privacy/requests",
  "/v1/admin/%2e%2e/privacy/requests",
  "/v1/privacy/requests/%00",
  "/v1/privacy/requests/..%2F..%2Fadmin",
  `/v1/privacy/subjects/${"a".repeat(4000)}/export`,
  "/v1/privacy/subjects/not-a-uuid/export",
  "/v1/admin/models/..%2F..%2Fetc/promote",
  "/v1/admin/sites/%3Cscript%3E/policy",
  "/v1/admin/sites/a%00b/variants",
  `/${"a".repeat(8000)}`,
  "/edge",
  "/edge/",
  "/edge/%ZZ/",
  "/edge/no-such-site/",
  "/edge/<script>/",
  "/health/%2e%2e",
  "/demo/img/..%2F..%2Fetc.svg",
  "/demo/products/%3Cscript%3E",
  "/demo/tag?site=%3Cscript%3E&lang=%00",
  "/🙂",
  "/admin/../v1/decide",
  "/.env",
  "/wp-login.php",
  "/v1/tag.js?v=../../etc",
];

const AUTH_HEADERS = [
  "",
  "Bearer",
  "Bearer ",
  "bearer x",
  "Basic YWRtaW46YWRtaW4=",
  `Bearer ${"A".repeat(10_000)}`,
  `Bearer ${env.ADMIN_TOKEN}x`,
  `Bearer  ${env.ADMIN_TOKEN}`,
  "Bearer null",
  "Token xyz",
];

const QUERIES = [
  "/v1/decide?site=",
  "/v1/decide?slots=hero",
  "/v1/decide?site=SITE&slots=",
  "/v1/decide?site=SITE&slots=hero:abc",
  "/v1/decide?site=SITE&slots=hero:-1",
  "/v1/decide?site=SITE&slots=hero:99999999999999999999",
  `/v1/decide?site=SITE&slots=${Array.from({ length: 50 }, (_, i) => `s${i}`).join(",")}`,
  "/v1/decide?site=SITE&slots=hero&url=javascript:alert(1)",
  "/v1/decide?site=SITE&slots=hero&url=%ZZ",
  `/v1/decide?site=SITE&slots=hero&url=https://x/${"a".repeat(9000)}`,
  "/v1/decide?site=SITE&slots=hero&url=https%3A%2F%2Fx%2F&lang=%00",
  "/v1/decide?site=SITE&slots=hero&url=https%3A%2F%2Fx%2F&gdpr_consent=%%%%",
  "/v1/decide?site=SITE&site=other&slots=hero&url=https%3A%2F%2Fx%2F",
  "/v1/decide?site=SITE&slots=hero&url=https%3A%2F%2Fx%2F&preview=garbage",
  "/v1/consent",
  "/v1/consent?site=%00",
  `/v1/consent?site=${"s".repeat(5000)}`,
  "/v1/why",
  "/v1/why?decisionId=not-a-uuid",
  "/v1/why?decisionId=%27%20OR%201%3D1--",
  "/v1/admin/reports/performance",
  "/v1/admin/reports/performance?site=SITE&from=yesterday",
  "/v1/admin/reports/performance?site=SITE&from=2026-02-30",
  "/v1/admin/reports/performance?site=SITE&from=9999-99-99&to=0000-00-00",
  "/v1/admin/reports/performance?site=SITE&from=2026-01-01&to=1970-01-01",
  "/v1/admin/reports/models?site=%27;DROP%20TABLE%20sites;--",
  "/v1/admin/reports/uplift?site=nope",
  "/v1/admin/reports/fairness?site=",
  "/v1/admin/reports/variants?site=SITE&from=-1",
  "/v1/admin/sample-size",
  "/v1/admin/sample-size?baseline=abc&mde=0.1",
  "/v1/admin/sample-size?baseline=0.5&mde=0",
  "/v1/admin/sample-size?baseline=0.5&mde=0.6",
  "/v1/admin/sample-size?baseline=0.999999&mde=0.0000001&alpha=1e-300&power=0.9999999",
  "/v1/admin/sample-size?baseline=0.5&mde=0.1&alpha=-1&power=2",
  "/v1/admin/sites/SITE/variants?status=lost",
  "/v1/privacy/requests?status=lost",
  "/v1/privacy/requests?limit=-1",
  "/v1/privacy/requests?limit=99999999999",
  "/v1/privacy/consent-log?source=%00&subject=x",
  "/v1/privacy/audit-log?role=root&action=%",
];

const HEADERS: Record<string, string>[] = [
  { cookie: `ep_vid=${"x".repeat(9000)}` },
  { cookie: "ep_vid=a.b.c.d; ep_vid=; ep_consent=%%%; ep_fc=[]" },
  { cookie: `${"a=b; ".repeat(2000)}` },
  { cookie: "euconsent-v2=not-a-tc-string" },
  { cookie: "ep_console=../../etc/passwd" },
  { "content-type": "application/json; charset=utf-16" },
  { "content-type": "multipart/form-data; boundary=x" },
  { "content-type": "application/x-www-form-urlencoded" },
  { "content-type": "text/html" },
  { "accept-language": `${"x-".repeat(2000)}` },
  { "accept-language": "*;q=abc, en;q=-1, fr;q=999" },
  { "user-agent": "a".repeat(8000) },
  { "user-agent": "" },
  { "x-ep-preview": "garbage.token" },
  { "x-ep-preview": `${"A".repeat(9000)}.x` },
  { "sec-gpc": "1, 1" },
  { "sec-gpc": "true" },
  { origin: "null" },
  { origin: "https://evil.example" },
  { referer: "javascript:alert(1)" },
  { "x-forwarded-host": "evil.example", "x-forwarded-proto": "gopher" },
  { "cf-connecting-ip": "not-an-ip" },
  { "content-encoding": "gzip" },
  { "transfer-encoding": "chunked" },
];

describe("hostile input on every route", () => {
  let site: string;
  let eventToken: string;
  let decisionId: string;
  let session: { cookie: string; csrf: string };
  const probes: Probe[] = [];

  beforeAll(async () => {
    site = await createSite("hostile", { consentModel: "opt-out", originUrl: "bundled:demo" });
    const decided = await decideOk(
      { site, page: { url: "https://shop.example/" }, slots: [{ id: "hero" }] },
      { cookie: await visitorCookie(newVisitorId()) },
    );
    eventToken = decided.eventToken;
    decisionId = decided.decisionId;
    const signIn = await SELF.fetch(`${CONSOLE}/admin/sign-in`, {
      method: "POST",
      body: new URLSearchParams({ token: env.ADMIN_TOKEN }),
      redirect: "manual",
    });
    const cookie = (signIn.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const page = await (await SELF.fetch(`${CONSOLE}/admin/content?site=${site}`, { headers: { cookie } })).text();
    session = { cookie, csrf: page.match(/name="csrf" value="([^"]+)"/)?.[1] ?? "" };
    expect(session.csrf).not.toBe("");
    build();
  });

  /** JSON errors are asked of the API; the edge route and the demo pass their origin's own answers through. */
  function add(name: string, path: string, init: RequestInit, host = API) {
    const page = path.startsWith("/edge/") || path.startsWith("/demo/");
    probes.push({ name, url: `${host}${path.replaceAll("SITE", site)}`, init, json: host === API && !page });
  }

  function build() {
    const all = routes(site);
    // Wrong methods, with the right token so that the method itself is what is wrong.
    for (const route of all) {
      for (const method of METHODS.filter((m) => m !== route.method)) {
        add(`${method} ${route.path}`, route.path, {
          method,
          headers: route.auth ? { authorization: route.auth } : {},
          ...(method === "GET" ? {} : { body: "{}" }),
        });
      }
    }
    const bodied = all.filter((r) => r.method !== "GET");
    for (const route of bodied) {
      const headers = { "content-type": "application/json", ...(route.auth ? { authorization: route.auth } : {}) };
      for (const [i, body] of BAD_JSON.entries())
        add(`bad JSON #${i} ${route.method} ${route.path}`, route.path, { method: route.method, headers, body });
      add(`2 MiB ${route.method} ${route.path}`, route.path, { method: route.method, headers, body: TWO_MIB });
    }
    for (const path of WEIRD_PATHS) {
      add(`odd path ${path}`, path, { headers: { authorization: ADMIN } });
      add(`odd path on the console host ${path}`, path, {}, CONSOLE);
    }
    for (const route of all.filter((r) => r.auth)) {
      for (const [i, authorization] of AUTH_HEADERS.entries())
        add(`auth #${i} ${route.method} ${route.path}`, route.path, {
          method: route.method,
          headers: { authorization },
          ...(route.method === "GET" ? {} : { body: "{}" }),
        });
      const other = route.auth === ADMIN ? PRIVACY : ADMIN;
      add(`other role ${route.method} ${route.path}`, route.path, { method: route.method, headers: { authorization: other } });
    }
    for (const query of QUERIES)
      add(`query ${query}`, query, { headers: { authorization: query.includes("/privacy/") ? PRIVACY : ADMIN } });
    // Event tokens: forged, truncated, another decision's, absurd events.
    const event = { eventId: "e1", type: "click", decisionId, slot: "hero", contentId: "men-1", ts: Date.now() };
    const eventBodies = [
      { ...event, eventToken: "" },
      { ...event, eventToken: "a.b" },
      { ...event, eventToken: `${eventToken}x` },
      { ...event, eventToken: eventToken.split(".").reverse().join(".") },
      { ...event, eventToken: "x".repeat(9000) },
      { ...event, eventToken, decisionId: "11111111-1111-4111-8111-111111111111" },
      { ...event, eventToken, ts: 8640000000000001 },
      { ...event, eventToken, ts: -1 },
      { ...event, eventToken, ts: "now" },
      { ...event, eventToken, value: Number.MAX_VALUE },
      { ...event, eventToken, type: "purchase" },
      { ...event, eventToken, eventId: "../../x" },
      { ...event, eventToken, currency: "euro" },
    ];
    for (const [i, e] of eventBodies.entries())
      add(`event #${i}`, "/v1/events", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ events: [e] }),
      });
    // Odd headers on the public routes, the edge route and the console.
    const targets: [string, string, string][] = [
      ["GET", `/v1/decide?site=${site}&slots=hero&url=https%3A%2F%2Fshop.example%2F`, API],
      ["POST", "/v1/consent", API],
      ["GET", `/edge/${site}/`, API],
      ["POST", "/admin/sign-in", CONSOLE],
    ];
    for (const headers of HEADERS) {
      for (const [method, path, host] of targets) {
        const body =
          method === "POST"
            ? path === "/v1/consent"
              ? JSON.stringify({ site, purposes: { personalization: true, measurement: true } })
              : "token=x"
            : undefined;
        add(
          `headers ${JSON.stringify(headers).slice(0, 60)} ${method} ${path}`,
          path,
          { method, headers, ...(body ? { body } : {}) },
          host,
        );
      }
    }
    // The console: pages without a session or with odd queries, actions without a session, with a
    // bad CSRF token, with a good one and hostile forms.
    for (const page of CONSOLE_PAGES) {
      add(`console page ${page}`, `/admin/${page}?site=%00&days=abc&subjectId=../../x&flash=%0d%0a`, {}, CONSOLE);
      add(
        `console page with session ${page}`,
        `/admin/${page}?site=nope&days=1e999&status=lost`,
        { headers: { cookie: session.cookie } },
        CONSOLE,
      );
    }
    add("console asset", "/admin/assets/..%2F..%2Fwrangler.toml", {}, CONSOLE);
    const forms = [
      "",
      "csrf=x",
      "%%%%",
      `csrf=CSRF&version=../../etc&on=maybe&status=gone&subjectId=${"a".repeat(5000)}`,
      `csrf=CSRF&terms=${"x".repeat(200_000)}`,
      "csrf=CSRF&contentId=&id=&status=approved",
      "csrf=CSRF&csrf=CSRF&on=true&on=false",
    ];
    for (const action of CONSOLE_ACTIONS) {
      for (const [i, form] of forms.entries()) {
        const body = form.replaceAll("CSRF", session.csrf);
        const headers = { cookie: session.cookie, "content-type": "application/x-www-form-urlencoded" };
        add(`console action #${i} ${action}`, `/admin/${action}?site=${site}`, { method: "POST", headers, body }, CONSOLE);
      }
      add(`console action without a session ${action}`, `/admin/${action}`, { method: "POST", body: "csrf=x" }, CONSOLE);
      add(
        `console action, multipart garbage ${action}`,
        `/admin/${action}`,
        {
          method: "POST",
          headers: { cookie: session.cookie, "content-type": "multipart/form-data; boundary=zz" },
          body: "--zz\r\ngarbage",
        },
        CONSOLE,
      );
    }
  }

  it("answers at least 300 malformed requests without a 5xx or a hang, with JSON errors from the API", { timeout: 600_000 }, async () => {
    expect(probes.length).toBeGreaterThanOrEqual(300);
    const failures: string[] = [];
    for (const [i, probe] of probes.entries()) {
      // A client address of its own per request: these requests must not spend another test's rate budget.
      const headers = new Headers(probe.init.headers);
      if (!headers.has("cf-connecting-ip")) headers.set("cf-connecting-ip", `198.18.${i >> 8}.${i & 255}`);
      const answer = await Promise.race([
        SELF.fetch(probe.url, { ...probe.init, headers, redirect: "manual" }).then(async (res) => ({ res, text: await res.text() })),
        new Promise<null>((resolve) => setTimeout(() => resolve(null), TIMEOUT_MS)),
      ]);
      if (!answer) {
        failures.push(`${probe.name}: no answer in ${TIMEOUT_MS} ms`);
        continue;
      }
      const { res, text } = answer;
      if (res.status >= 500) failures.push(`${probe.name}: ${res.status} ${text.slice(0, 200)}`);
      else if (probe.json && res.status >= 400) {
        const type = res.headers.get("content-type") ?? "";
        let code: unknown;
        try {
          code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
        } catch {
          code = undefined;
        }
        if (!type.startsWith("application/json") || typeof code !== "string")
          failures.push(`${probe.name}: ${res.status} not a JSON error: ${text.slice(0, 120)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});
