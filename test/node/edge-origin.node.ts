import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerWithConsumer } from "../../scripts/bench/stack";
import { type Miniflare, stopWorkerd } from "../../scripts/bench/workerd";
import { insertDemoSite } from "../../scripts/seed/demo-data";
import { VISITOR_COOKIE } from "../../worker/http/cookies";
import { sign } from "../../worker/lib/signing";
import { createDb } from "../../worker/store/db";

/**
 * The edge route in front of a real origin: the production bundle on workerd (a process of its
 * own, so that it can reach HTTP servers that this test starts) with a site whose origin is one
 * local server, while a second local server plays the host an attacker wants the worker to fetch.
 * Both record every connection and request. Requests are sent raw (node:http), so that paths
 * reach the worker exactly as written, backslashes and all. The site is reached both ways: the
 * path route `/edge/<site>/…` and its own host (EDGE_HOSTS).
 */

const UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";
const SITE = "victim";
const SITE_HOST = "shop.test";

type Seen = { method: string; url: string; headers: IncomingHttpHeaders };
type Recorder = { port: number; seen: Seen[]; connections: () => number; close: () => Promise<void> };

/** A real HTTP server on every loopback address (127.0.0.1 and ::1) that records what reaches it. */
async function recorder(page: string): Promise<Recorder> {
  const seen: Seen[] = [];
  let connections = 0;
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => {
      // The origin tries to set the worker's own cookie next to one of its own.
      res.writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "set-cookie": ["ep_vid=forged; Path=/", "site_session=s2; Path=/"],
      });
      res.end(page);
    });
  });
  server.on("connection", () => {
    connections++;
  });
  await new Promise<void>((resolve) => server.listen({ host: "::", port: 0, ipv6Only: false }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

type Answer = { status: number; headers: IncomingHttpHeaders; body: string };

let mf: Miniflare;
let worker: URL;
let secrets: Record<string, string>;
let origin: Recorder;
let attacker: Recorder;

/** One request with the path exactly as given (no URL parsing on this side). */
function raw(path: string, headers: Record<string, string>, method = "GET", body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: worker.hostname, port: Number(worker.port), path, method, headers, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer for ${path}`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** Everything a signed-in operator's browser or a curl with the worker's token would carry. */
async function workerCredentials(): Promise<Record<string, string>> {
  const vid = encodeURIComponent(await sign(crypto.randomUUID(), secrets.ID_SIGNING_KEY ?? ""));
  return {
    "user-agent": UA,
    authorization: `Bearer ${secrets.ADMIN_TOKEN}`,
    "x-ep-preview": "a-preview-token",
    cookie: [
      `${VISITOR_COOKIE}=${vid}`,
      "ep_console=console-session-id",
      "ep_consent=banner-choice",
      "ep_fc=caps",
      "__Host-ep_vid=host-prefixed",
      "site_session=s1",
      "euconsent-v2=CPtcf",
    ].join("; "),
  };
}

/** The worker's own credentials must never reach an origin; the site's own cookies must. */
function expectNoWorkerCredentials(seen: Seen) {
  expect(seen.headers.authorization).toBeUndefined();
  expect(seen.headers["x-ep-preview"]).toBeUndefined();
  expect(seen.headers.cookie).toBe("site_session=s1; euconsent-v2=CPtcf");
}

beforeAll(async () => {
  origin = await recorder(`<!doctype html><html><head><title>Shop</title></head><body><div data-slot="hero">own</div></body></html>`);
  attacker = await recorder("<!doctype html><html><body>stolen</body></html>");
  const stack = await startWorkerWithConsumer("edge-origin", {
    vars: { EDGE_HOSTS: JSON.stringify({ [SITE_HOST]: SITE }), PATH_PREFIX: "/p13n" },
  });
  mf = stack.mf;
  worker = stack.url;
  secrets = stack.secrets;
  const d1 = (await mf.getD1Database("DB")) as unknown as D1Database;
  await insertDemoSite(createDb(d1), {
    id: SITE,
    name: "A site with a real origin",
    allowedOrigins: [],
    consentModel: "opt-out",
    originUrl: `http://127.0.0.1:${origin.port}/shop`,
  });
});

afterAll(async () => {
  if (mf) await stopWorkerd(mf);
  await Promise.all([origin?.close(), attacker?.close()]);
});

/**
 * Every way the path was found to name another host: protocol-relative, backslashes (which URL
 * parsers read as slashes), a scheme, percent-encoded slashes and backslashes, userinfo before the
 * attacker's host, IPv6 and decimal IPv4 hosts.
 */
const tricks = (a: number, o: number) => [
  `//127.0.0.1:${a}/steal`,
  `///127.0.0.1:${a}/steal`,
  `/\\\\127.0.0.1:${a}/steal`,
  `/\\/127.0.0.1:${a}/steal`,
  `/http://127.0.0.1:${a}/steal`,
  `/https:127.0.0.1:${a}/steal`,
  `/http:127.0.0.1:${a}/steal`,
  `/HTTP://127.0.0.1:${a}/steal`,
  `/%2F%2F127.0.0.1:${a}/steal`,
  `/%2f/127.0.0.1:${a}/steal`,
  `/%5C%5C127.0.0.1:${a}/steal`,
  `/%5c127.0.0.1:${a}/steal`,
  `//127.0.0.1:${o}@127.0.0.1:${a}/steal`,
  `//user:pass@127.0.0.1:${a}/steal`,
  `//[::1]:${a}/steal`,
  `/http://[::1]:${a}/steal`,
  `//2130706433:${a}/steal`,
  `//0x7f000001:${a}/steal`,
  `/shop//127.0.0.1:${a}/steal`,
];

describe("the edge route only ever fetches the site's own origin", () => {
  it("forwards a page request to the origin under its base path, with the site's cookies and none of the worker's credentials", async () => {
    const credentials = await workerCredentials();
    const before = origin.seen.length;
    const page = await raw(`/edge/${SITE}/products/1?colour=red`, credentials);
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-filled="edge"');
    const onHost = await raw("/products/2", { ...credentials, host: SITE_HOST });
    expect(onHost.status).toBe(200);
    const posted = await raw(`/edge/${SITE}/newsletter`, { ...credentials, "content-type": "text/plain" }, "POST", "a@shop.test");
    expect(posted.status).toBe(200);

    const got = origin.seen.slice(before);
    expect(got.map((s) => `${s.method} ${s.url}`)).toEqual([
      "GET /shop/products/1?colour=red",
      "GET /shop/products/2",
      "POST /shop/newsletter",
    ]);
    for (const seen of got) expectNoWorkerCredentials(seen);
    // The origin may set its own cookies, never the worker's.
    for (const answer of [page, onHost, posted]) {
      const cookies = answer.headers["set-cookie"] ?? [];
      expect(cookies).toContain("site_session=s2; Path=/");
      expect(cookies.some((c) => c.startsWith("ep_vid=forged"))).toBe(false);
    }
  });

  it("refuses every form of the trick with a 400 naming the problem, on the path route and on the site's own host", async () => {
    const credentials = await workerCredentials();
    const before = origin.seen.length;
    const forms = tricks(attacker.port, origin.port);
    const requests = [
      ...forms.map((path) => ({ label: `path route ${path}`, path: `/edge/${SITE}${path}`, headers: credentials })),
      ...forms.map((path) => ({ label: `prefixed path route ${path}`, path: `/p13n/edge/${SITE}${path}`, headers: credentials })),
      ...forms.map((path) => ({ label: `site host ${path}`, path, headers: { ...credentials, host: SITE_HOST } })),
    ];
    for (const { label, path, headers } of requests) {
      const answer = await raw(path, headers);
      expect(answer.status, label).toBe(400);
      expect(answer.headers["content-type"], label).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body), label).toMatchObject({ error: { code: "invalid_path", field: "path" } });
    }
    // Nothing reached the other host, not even a connection; nothing odd reached the origin.
    expect(attacker.connections()).toBe(0);
    expect(attacker.seen).toEqual([]);
    expect(origin.seen.slice(before)).toEqual([]);
  });

  it("keeps paths that only look odd on the origin, under its base path", async () => {
    const credentials = await workerCredentials();
    const before = origin.seen.length;
    for (const path of [`/@127.0.0.1:${attacker.port}/x`, "/a:b/c", "/%2e%2e/%2e%2e/etc/passwd", "/shop/../../etc/passwd"]) {
      const answer = await raw(`/edge/${SITE}${path}`, credentials);
      expect(answer.status, path).toBeLessThan(500);
    }
    const got = origin.seen.slice(before);
    expect(got.map((s) => s.url)).toEqual(expect.arrayContaining([`/shop/@127.0.0.1:${attacker.port}/x`, "/shop/a:b/c"]));
    for (const seen of got) {
      expect(seen.url.startsWith("/shop/")).toBe(true);
      expect(seen.url).not.toMatch(/\.\./);
      expectNoWorkerCredentials(seen);
    }
    expect(attacker.connections()).toBe(0);
  });
});
