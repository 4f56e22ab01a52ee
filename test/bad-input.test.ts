import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createSite, decideBody, expectError, postDecide } from "./support/fixtures";

describe("bad input gets a 4xx JSON error that names the problem", () => {
  let site: string;
  beforeAll(async () => {
    site = await createSite("bad-input-site");
  });

  it("rejects malformed JSON", async () => {
    const err = await expectError(await postDecide("{ not json"));
    expect(err).toMatchObject({ status: 400, code: "invalid_json" });
  });

  it.each([
    ["a missing site", { page: { url: "https://shop.example/" }, slots: [{ id: "hero" }] }, "site"],
    ["a site of the wrong type", { site: 42, page: { url: "https://shop.example/" }, slots: [{ id: "hero" }] }, "site"],
    ["a page URL that is not http(s)", { site: "x", page: { url: "javascript:alert(1)" }, slots: [{ id: "hero" }] }, "page.url"],
    ["no slots", { site: "x", page: { url: "https://shop.example/" }, slots: [] }, "slots"],
    [
      "a count that is not an integer",
      { site: "x", page: { url: "https://shop.example/" }, slots: [{ id: "hero", count: 1.5 }] },
      "slots.0.count",
    ],
    ["an absurd count", { site: "x", page: { url: "https://shop.example/" }, slots: [{ id: "hero", count: 100000 }] }, "slots.0.count"],
    ["a slot id with odd characters", { site: "x", page: { url: "https://shop.example/" }, slots: [{ id: "<script>" }] }, "slots.0.id"],
    ["the same slot twice", { site: "x", page: { url: "https://shop.example/" }, slots: [{ id: "hero" }, { id: "hero" }] }, "slots"],
    [
      "too many slots",
      { site: "x", page: { url: "https://shop.example/" }, slots: Array.from({ length: 21 }, (_, i) => ({ id: `s${i}` })) },
      "slots",
    ],
  ])("rejects %s", async (_name, body, field) => {
    const err = await expectError(await postDecide(body));
    expect(err.status).toBe(400);
    expect(err.code).toBe("invalid_request");
    expect(err.field).toBe(field);
    expect(err.message).toContain(field);
  });

  it("answers 404 for an unknown site", async () => {
    const err = await expectError(await postDecide(decideBody("no-such-site")));
    expect(err).toMatchObject({ status: 404, code: "unknown_site", field: "site" });
  });

  it("answers 400 for a slot the site does not have", async () => {
    const err = await expectError(await postDecide(decideBody(site, [{ id: "hero" }, { id: "sidebar" }])));
    expect(err).toMatchObject({ status: 400, code: "unknown_slot", field: "slots.1.id" });
  });

  it("answers 400 for more items than the slot shows", async () => {
    const err = await expectError(await postDecide(decideBody(site, [{ id: "hero", count: 3 }])));
    expect(err).toMatchObject({ status: 400, code: "invalid_count", field: "slots.0.count" });
  });

  it("answers 413 for an oversized body", async () => {
    const huge = JSON.stringify({ ...decideBody(site), padding: "x".repeat(20_000) });
    const err = await expectError(await postDecide(huge));
    expect(err).toMatchObject({ status: 413, code: "payload_too_large" });
  });

  it("answers 400 for a hostile cookie header", async () => {
    const oversized = await expectError(await postDecide(decideBody(site), { cookie: `junk=${"a".repeat(9000)}` }));
    expect(oversized).toMatchObject({ status: 400, code: "invalid_cookie", field: "cookie" });
    const longId = await expectError(await postDecide(decideBody(site), { cookie: `ep_vid=${"b".repeat(1000)}` }));
    expect(longId).toMatchObject({ status: 400, code: "invalid_cookie", field: "ep_vid" });
  });

  it("names the bad query parameter on GET", async () => {
    const res = await SELF.fetch(
      `https://edge.example/v1/decide?site=${site}&slots=hero:lots&url=${encodeURIComponent("https://shop.example/")}`,
    );
    const err = await expectError(res);
    expect(err).toMatchObject({ status: 400, field: "slots.0.count" });
    const noUrl = await expectError(await SELF.fetch(`https://edge.example/v1/decide?site=${site}&slots=hero`));
    expect(noUrl).toMatchObject({ status: 400, field: "page.url" });
  });

  it("answers unknown routes with a JSON 404", async () => {
    const err = await expectError(await SELF.fetch("https://edge.example/v1/nothing-here"));
    expect(err).toMatchObject({ status: 404, code: "not_found" });
  });
});
