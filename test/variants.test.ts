import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { demoItems } from "../scripts/seed/demo-data";
import { auditLog } from "../worker/store/schema";
import { createSite, db, expectError } from "./support/fixtures";

/** Content variants: import with a blocklist, and the human review gate (serving is #8's next step). */
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}`, "content-type": "application/json" };
const call = (path: string, method = "GET", body?: unknown) =>
  SELF.fetch(`https://edge.example/v1/admin${path}`, {
    method,
    headers: ADMIN,
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe("content variants: import and review", () => {
  it("imports drafts, rejects blocklisted and invalid variants with reasons, and audits each review", async () => {
    const site = await createSite("variants-site", { policy: { holdout: { share: 0 }, blocklist: ["miracle", "guaranteed"] } });
    const [item] = demoItems();
    if (!item) throw new Error("a demo item expected");
    const base = { contentId: item.id, language: "fr", synthetic: false, provenance: { origin: "human" } };
    const res = await call(`/sites/${site}/variants`, "POST", {
      variants: [
        { ...base, id: "fr-1", components: { title: "Pull en mérinos", cta: "Découvrir" } },
        { ...base, id: "fr-2", components: { title: "A MIRACLE knit, guaranteed warm" } },
        { ...base, id: "gen-1", synthetic: true, provenance: { origin: "generated" }, components: { title: "Généré" } },
        { ...base, id: "js", components: { imageUrl: "javascript:alert(1)" } },
        { ...base, id: "ghost", contentId: "no-such-item", components: { title: "x" } },
      ],
    });
    expect(res.status).toBe(200);
    const body = await res.json<{ imported: number; rejected: { id?: string; index: number; reason: string }[] }>();
    expect(body.imported).toBe(1);
    expect(body.rejected.map((r) => r.index)).toEqual([1, 2, 3, 4]);
    expect(body.rejected[0]?.reason).toBe("blocklisted: miracle, guaranteed");
    expect(body.rejected[1]?.reason).toContain("provenance.tool");
    expect(body.rejected[2]?.reason).toContain("imageUrl");
    expect(body.rejected[3]?.reason).toBe(`no content item "no-such-item"`);

    const drafts = await (await call(`/sites/${site}/variants?status=draft`)).json<{ variants: { id: string; status: string }[] }>();
    expect(drafts.variants.map((v) => [v.id, v.status])).toEqual([["fr-1", "draft"]]);

    expect((await call(`/sites/${site}/variants/${item.id}/fr-1/review`, "POST", { status: "approved" })).status).toBe(200);
    const approved = await (await call(`/sites/${site}/variants?status=approved`)).json<{
      variants: { id: string; reviewedBy: string; reviewedAt: string }[];
    }>();
    expect(approved.variants[0]).toMatchObject({ id: "fr-1", reviewedBy: "admin" });
    expect(Date.parse(approved.variants[0]?.reviewedAt ?? "")).toBeGreaterThan(0);
    const actions = (await db.select().from(auditLog)).map((a) => [a.action, a.target]);
    expect(actions).toContainEqual(["admin.variant.approve", `${site}:${item.id}:fr-1`]);

    // A re-import is a new draft that must be reviewed again.
    await call(`/sites/${site}/variants`, "POST", {
      variants: [{ ...base, id: "fr-1", components: { title: "Pull en mérinos (nouveau)" } }],
    });
    const again = await (await call(`/sites/${site}/variants?status=approved`)).json<{ variants: unknown[] }>();
    expect(again.variants).toEqual([]);

    expect((await expectError(await call(`/sites/${site}/variants/${item.id}/nope/review`, "POST", { status: "approved" }))).status).toBe(
      404,
    );
    expect((await expectError(await call(`/sites/${site}/variants/${item.id}/fr-1/review`, "POST", { status: "maybe" }))).field).toBe(
      "status",
    );
    const asPrivacy = await SELF.fetch(`https://edge.example/v1/admin/sites/${site}/variants`, {
      headers: { authorization: `Bearer ${env.PRIVACY_TOKEN}` },
    });
    expect(asPrivacy.status).toBe(403);
  });
});
