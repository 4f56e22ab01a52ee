import { env } from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../worker/http/app-env";
import { COOKIE_MAX_AGE_S, readVisitorId, setVisitorId } from "../worker/http/cookies";

/** A tiny app around the cookie helpers, run with the deployment's `COOKIE_MODE`. */
function cookieApp() {
  return new Hono<AppEnv>()
    .get("/set", async (c) => {
      await setVisitorId(c, "3f0c8f7e-2b1a-4c3d-9e8f-0123456789ab");
      return c.text("ok");
    })
    .get("/read", async (c) => c.json({ id: await readVisitorId(c) }));
}

describe("visitor id cookie attributes", () => {
  it("uses the __Host- prefix with Secure, HttpOnly, SameSite=Lax, Path=/ and a bounded max age in secure mode", async () => {
    const res = await cookieApp().request("https://shop.example/set", {}, { ...env, COOKIE_MODE: "secure" });
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^__Host-ep_vid=/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(cookie).toContain(`Max-Age=${COOKIE_MAX_AGE_S}`);
    expect(COOKIE_MAX_AGE_S).toBeLessThanOrEqual(400 * 24 * 3600);

    const pair = cookie?.split(";")[0] ?? "";
    const read = await cookieApp().request("https://shop.example/read", { headers: { cookie: pair } }, { ...env, COOKIE_MODE: "secure" });
    expect(await read.json()).toEqual({ id: "3f0c8f7e-2b1a-4c3d-9e8f-0123456789ab" });
  });

  it("uses a plain name without Secure for local development over http", async () => {
    const res = await cookieApp().request("http://localhost/set", {}, { ...env, COOKIE_MODE: "dev" });
    const [cookie] = res.headers.getSetCookie();
    expect(cookie).toMatch(/^ep_vid=/);
    expect(cookie).not.toMatch(/; Secure/);
  });
});
