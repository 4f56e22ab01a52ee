import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { parseEdgeHosts } from "../worker/http/mount";
import { createSite, expectError } from "./support/fixtures";

/**
 * The console lives on a host of its own (CONSOLE_HOST, "localhost" in wrangler.toml) that serves
 * nothing else, so that no page the edge route serves shares its origin. (The attack itself, in
 * Chromium: test/browser/attack.browser.ts.)
 */
describe("the console's own host", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("console-host-site", { originUrl: "bundled:demo" });
  });

  it("serves the console only on CONSOLE_HOST", async () => {
    expect(env.CONSOLE_HOST).toBe("localhost");
    const there = await SELF.fetch("https://localhost/admin/sign-in");
    expect(there.status).toBe(200);
    await there.arrayBuffer();
    for (const host of ["edge.example", "127.0.0.1", "shop.example"]) {
      for (const path of ["/admin", "/admin/", "/admin/sign-in", "/admin/privacy", "/admin/assets/console.client.js"]) {
        const res = await SELF.fetch(`https://${host}${path}`, { redirect: "manual" });
        expect(await expectError(res), `${host}${path}`).toMatchObject({ status: 404, code: "not_found" });
      }
      const post = await SELF.fetch(`https://${host}/admin/sign-in`, {
        method: "POST",
        body: new URLSearchParams({ token: env.PRIVACY_TOKEN }),
      });
      expect(post.status).toBe(404);
      expect(post.headers.get("set-cookie")).toBeNull();
    }
  });

  it("serves nothing but the console there: no edge route, no demo pages, no API", async () => {
    for (const path of [`/edge/${site}/`, `/edge/${site}/logo.svg`, "/demo/tag", "/demo/edge", "/demo/origin/", "/v1/tag.js", "/health"]) {
      const res = await SELF.fetch(`https://localhost${path}`, { redirect: "manual" });
      expect(await expectError(res), path).toMatchObject({ status: 404, code: "console_host" });
    }
    const decide = await SELF.fetch("https://localhost/v1/decide", { method: "POST", body: "{}" });
    expect(decide.status).toBe(404);
    // Elsewhere the edge route is served as before.
    const page = await SELF.fetch(`https://edge.example/edge/${site}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('data-filled="edge"');
  });

  it("refuses a site mapping (EDGE_HOSTS) that names the console's host", () => {
    expect(() => parseEdgeHosts('{"localhost":"demo"}', "/p13n", "localhost")).toThrow(/CONSOLE_HOST/);
    expect(parseEdgeHosts('{"shop.example":"demo"}', "/p13n", "localhost").get("shop.example")).toBe("demo");
  });
});
