import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { auditLog } from "../worker/store/schema";
import { lineOf, merchantFeed } from "./support/feeds";
import { db, decideOk, expectError } from "./support/fixtures";

/** Onboarding a site through the admin API: the site, its slots and a product feed, then a decision for it. */
const ADMIN = { authorization: "Bearer test-admin-token" };
const api = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`https://edge.example/v1/admin${path}`, { ...init, headers: { ...ADMIN, ...(init.headers ?? {}) } });
const json = (method: string, body: unknown) => ({ method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("onboarding through the admin API", () => {
  const id = `onboard-${crypto.randomUUID().slice(0, 8)}`;
  const site = {
    id,
    name: "Knitwear shop",
    allowedOrigins: ["https://knit.example"],
    consentModel: "opt-out",
    timezone: "Europe/Paris",
    originUrl: "https://origin.knit.example",
  };

  it("refuses bad fields, each named: origins, the edge origin, the feed URL, the time zone, the consent model, unknown keys", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ allowedOrigins: ["http://knit.example"] }, "allowedOrigins.0"],
      [{ allowedOrigins: ["https://knit.example/shop"] }, "allowedOrigins.0"],
      [{ originUrl: "https://user:pw@origin.example" }, "originUrl"],
      [{ originUrl: "https://origin.example/a/../b" }, "originUrl"],
      [{ originUrl: "https://origin.example/\\\\evil.example" }, "originUrl"],
      [{ feedUrl: "http://feeds.knit.example/p.xml" }, "feedUrl"],
      [{ feedUrl: "https://user:pw@feeds.knit.example/p.xml" }, "feedUrl"],
      [{ feedUrl: "https://feeds.knit.example:8443/p.xml" }, "feedUrl"],
      [{ timezone: "Mars/Olympus" }, "timezone"],
      [{ consentModel: "maybe" }, "consentModel"],
      [{ color: "red" }, ""],
    ];
    for (const [change, field] of cases) {
      const error = await expectError(await api("/sites", json("POST", { ...site, ...change })));
      expect(error.status, JSON.stringify(change)).toBe(400);
      if (field) expect(error.field, JSON.stringify(change)).toBe(field);
    }
  });

  it("creates the site and its slots, lists them paged, and audits every change", async () => {
    expect((await api("/sites", json("POST", site))).status).toBe(201);
    expect((await expectError(await api("/sites", json("POST", site)))).status).toBe(409);
    for (const slot of [
      { id: "hero", name: "Hero", defaultCount: 1, maxCount: 1 },
      { id: "recommendations", name: "Recommended", defaultCount: 4, maxCount: 8 },
    ]) {
      expect((await api(`/sites/${id}/slots`, json("POST", slot))).status).toBe(201);
    }
    const bad = await expectError(await api(`/sites/${id}/slots`, json("POST", { id: "x", name: "X", defaultCount: 9, maxCount: 2 })));
    expect(bad.field).toBe("defaultCount");
    const shown = (await (await api(`/sites/${id}`)).json()) as { timezone: string; slots: { id: string }[] };
    expect(shown.timezone).toBe("Europe/Paris");
    expect(shown.slots.map((s) => s.id)).toEqual(["hero", "recommendations"]);
    const page = (await (await api(`/sites?limit=1&cursor=${id.slice(0, -1)}`)).json()) as { sites: { id: string }[]; next: string | null };
    expect(page.sites).toHaveLength(1);
    const audited = (await db.select().from(auditLog)).filter((r) => r.target?.startsWith(id)).map((r) => r.action);
    expect(audited).toEqual(expect.arrayContaining(["admin.site.create", "admin.slot.create"]));
  });

  it("previews a 10,000-item feed without changing anything, naming each bad row's line", async () => {
    const feed = merchantFeed(10_000, { bad: [17, 4242], outOfStock: [3] });
    const res = await api(`/sites/${id}/items/import?dryRun=true&slots=recommendations`, {
      method: "POST",
      body: feed,
      headers: { "content-type": "application/xml" },
    });
    expect(res.status).toBe(200);
    const preview = (await res.json()) as { added: string[]; refused: { line: number; id: string; reason: string }[]; applied: null };
    expect(preview.added).toHaveLength(9_998);
    expect(preview.refused).toEqual([
      { line: lineOf(17), id: "P-17", reason: "imageUrl: must be an https URL" },
      { line: lineOf(4242), id: "P-4242", reason: "imageUrl: must be an https URL" },
    ]);
    expect(preview.applied).toBeNull();
    const listed = (await (await api(`/sites/${id}/items`)).json()) as { items: unknown[] };
    expect(listed.items).toHaveLength(0);
  });

  it("applies the feed in one transaction, serves in-stock items only, and archives what a full feed drops", async () => {
    const feed = merchantFeed(10_000, { bad: [17, 4242], outOfStock: [3] });
    const res = await api(`/sites/${id}/items/import?mode=full&slots=recommendations`, { method: "POST", body: feed });
    expect(res.status).toBe(201);
    const applied = (await res.json()) as { added: string[]; applied: { statements: number } };
    expect(applied.added).toHaveLength(9_998);
    expect(applied.applied.statements).toBeLessThan(20);
    const page = (await (await api(`/sites/${id}/items?limit=500&status=active`)).json()) as { items: { id: string }[]; next: string };
    expect(page.items).toHaveLength(500);
    expect(page.next).toBe(page.items.at(-1)?.id);

    const decision = await decideOk({ site: id, page: { url: "https://knit.example/" }, slots: [{ id: "recommendations", count: 8 }] });
    const shown = decision.slots[0]?.items.map((i) => i.contentId) ?? [];
    expect(shown).toHaveLength(8);
    expect(shown).not.toContain("P-3");

    // The next full feed no longer lists P-5 and fixes P-17: one archived, one added.
    const next = merchantFeed(10_000, { outOfStock: [3], skip: [5], bad: [4242] });
    const diff = (await (
      await api(`/sites/${id}/items/import?mode=full&slots=recommendations`, { method: "POST", body: next })
    ).json()) as {
      added: string[];
      changed: string[];
      archived: string[];
      unchanged: number;
    };
    expect(diff).toMatchObject({ added: ["P-17"], changed: [], archived: ["P-5"], unchanged: 9_997 });
    const archived = (await (await api(`/sites/${id}/items/P-5`)).json()) as { status: string };
    expect(archived.status).toBe("archived");
  });

  it("a feed that cannot be read changes nothing and says why", async () => {
    const before = (await (await api(`/sites/${id}`)).json()) as { items: { active: number } };
    const error = await expectError(await api(`/sites/${id}/items/import`, { method: "POST", body: "<rss><channel><item><title>x" }));
    expect(error).toMatchObject({ status: 400, code: "invalid_feed" });
    const after = (await (await api(`/sites/${id}`)).json()) as { items: { active: number } };
    expect(after.items).toEqual(before.items);
  });

  it("archives a site: it answers as unknown from then on", async () => {
    expect((await api(`/sites/${id}/archive`, { method: "POST" })).status).toBe(200);
    const res = await SELF.fetch("https://edge.example/v1/decide", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ site: id, page: { url: "https://knit.example/" }, slots: [{ id: "hero" }] }),
    });
    expect((await expectError(res)).code).toBe("unknown_site");
  });
});
