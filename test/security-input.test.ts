import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createSite, expectError } from "./support/fixtures";

/**
 * The low findings of the outside attack: the console sign-in's `next`, extreme sample-size
 * parameters, admin bodies without a size or nesting limit, a policy update that silently reset
 * the policy. Each is a 4xx naming the problem (or a bounded answer), never a 500.
 */
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const CONSOLE = "https://localhost/admin";

const nested = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("console sign-in: next is a local console page", () => {
  const signIn = (next: string) =>
    SELF.fetch(`${CONSOLE}/sign-in`, {
      method: "POST",
      body: new URLSearchParams({ token: env.ADMIN_TOKEN, next }),
      headers: { origin: "https://localhost" },
      redirect: "manual",
    });

  it("goes home for anything else: header injection, absolute URLs, other hosts, unknown pages", async () => {
    for (const next of [
      "performance?\r\nX-Injected: 1",
      "performance?x=\nSet-Cookie: a=b",
      "//evil.example/performance",
      "https://evil.example/performance",
      "/\\evil.example",
      "\\\\evil.example",
      "javascript:alert(1)",
      "../../v1/admin/models",
      "privacy",
      "performance#x",
      `performance?${"a".repeat(500)}`,
    ]) {
      const res = await signIn(next);
      expect(res.status, JSON.stringify(next)).toBe(303);
      expect(res.headers.get("location"), JSON.stringify(next)).toBe("performance");
      expect(res.headers.get("x-injected")).toBeNull();
    }
  });

  it("keeps a console page of the role with its query", async () => {
    const res = await signIn("content?site=demo&flash=blocklist");
    expect(res.headers.get("location")).toBe("content?site=demo&flash=blocklist");
  });
});

describe("admin inputs", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("security-input", {
      policy: { holdout: { share: 0.1 }, variants: { coldStart: { share: 0.5, minImpressions: 10 } } },
    });
  });

  it("answers extreme sample-size parameters with a 400 naming the parameter or a finite answer", async () => {
    const queries = [
      "baseline=0.999999&mde=0.0000001&alpha=1e-300&power=0.9999999",
      "baseline=0.5&mde=0.1&alpha=1e-300",
      "baseline=0.5&mde=0.1&power=0.9999999999999999",
      "baseline=0.5&mde=1e-300",
      "baseline=1e-300&mde=0.1",
      "baseline=0.5&mde=0.1&alpha=0.9999999",
      "baseline=0.5&mde=0.1&power=1e-300",
      "baseline=0.5&mde=Infinity",
      "baseline=NaN&mde=0.1",
      "baseline=0.5&mde=-0.4999999",
      `baseline=0.5&mde=${"9".repeat(400)}`,
    ];
    for (const query of queries) {
      const res = await SELF.fetch(`https://edge.example/v1/admin/sample-size?${query}`, { headers: ADMIN });
      expect(res.status, query).toBeLessThan(500);
      const body = (await res.json()) as { perArm?: number; error?: { field?: string } };
      if (res.status === 200) expect(Number.isFinite(body.perArm), query).toBe(true);
      else expect(["baseline", "mde", "alpha", "power"], query).toContain(body.error?.field);
    }
  });

  it("limits admin bodies in size and nesting", async () => {
    const huge = JSON.stringify({ variants: Array.from({ length: 40_000 }, (_, i) => ({ contentId: "x", id: `v${i}`, language: "en" })) });
    expect(huge.length).toBeGreaterThan(1024 * 1024);
    const imported = await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/variants`, {
      method: "POST",
      headers: ADMIN,
      body: huge,
    });
    expect(await expectError(imported)).toMatchObject({ status: 413, code: "payload_too_large" });

    const bigPolicy = await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/policy`, {
      method: "PUT",
      headers: ADMIN,
      body: JSON.stringify({ blocklist: ["x".repeat(1024 * 1024)] }),
    });
    expect(bigPolicy.status).toBe(413);

    for (const [method, path] of [
      ["PUT", `/v1/admin/sites/${site}/policy`],
      ["PATCH", `/v1/admin/sites/${site}/policy`],
      ["POST", `/v1/admin/sites/${site}/variants`],
      ["POST", "/v1/admin/preview-tokens"],
      ["POST", "/v1/admin/models/kill-switch"],
    ] as const) {
      const deep = await SELF.fetch(`https://edge.example${path}`, { method, headers: ADMIN, body: `{"holdout":${nested(50_000)}}` });
      expect(await expectError(deep), `${method} ${path}`).toMatchObject({ status: 400, code: "invalid_json" });
    }
    const policy = await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/policy`, { headers: ADMIN });
    expect(await policy.json()).toMatchObject({ holdout: { share: 0.1 } });
  });

  it("refuses unknown policy keys by name, at any depth", async () => {
    const put = (body: unknown, method = "PUT") =>
      SELF.fetch(`https://edge.example/v1/admin/sites/${site}/policy`, { method, headers: ADMIN, body: JSON.stringify(body) });
    const current = await (await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/policy`, { headers: ADMIN })).json<
      Record<string, unknown>
    >();
    const unknown = await put({ ...current, holdOut: { share: 0.5 }, explore: true });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/holdOut.*explore|explore.*holdOut/);
    const deep = await put({ variants: { coldStart: { sharee: 0.1 } } }, "PATCH");
    expect(await expectError(deep)).toMatchObject({ status: 400, field: "variants.coldStart" });
    expect((await put({ x: 1 }, "PATCH")).status).toBe(400);
  });

  it("PUT replaces the whole policy and must name every section; PATCH changes only what it names", async () => {
    const url = `https://edge.example/v1/admin/sites/${site}/policy`;
    const read = async () => (await SELF.fetch(url, { headers: ADMIN })).json<Record<string, { [k: string]: unknown }>>();
    const partialPut = await SELF.fetch(url, { method: "PUT", headers: ADMIN, body: JSON.stringify({ holdout: { share: 0.2 } }) });
    expect(partialPut.status).toBe(400);
    expect(((await partialPut.json()) as { error: { message: string } }).error.message).toMatch(/exploration/);
    expect((await read()).holdout).toEqual({ share: 0.1 });

    const patched = await SELF.fetch(url, {
      method: "PATCH",
      headers: ADMIN,
      body: JSON.stringify({ exploration: { kind: "epsilon-greedy", epsilon: 0.1 }, variants: { defaultLanguage: "fr" } }),
    });
    expect(patched.status).toBe(200);
    const after = await read();
    expect(after.holdout).toEqual({ share: 0.1 });
    expect(after.exploration).toEqual({ kind: "epsilon-greedy", epsilon: 0.1 });
    expect(after.variants).toMatchObject({ defaultLanguage: "fr", coldStart: { share: 0.5, minImpressions: 10 } });

    // A full PUT (what GET answers, changed) replaces it all.
    const replaced = await SELF.fetch(url, { method: "PUT", headers: ADMIN, body: JSON.stringify({ ...after, holdout: { share: 0.3 } }) });
    expect(replaced.status).toBe(200);
    expect((await read()).holdout).toEqual({ share: 0.3 });
  });
});

describe("public JSON bodies", () => {
  it("refuses JSON nested past any real request's depth with a 400, on every JSON route", async () => {
    for (const path of ["/v1/decide", "/v1/events", "/v1/consent"]) {
      const res = await SELF.fetch(`https://edge.example${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": "203.0.113.77" },
        body: nested(1_000),
      });
      expect(await expectError(res), path).toMatchObject({ status: 400, code: "invalid_json" });
    }
  });
});
