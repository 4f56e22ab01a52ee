import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { demoVisitors } from "../scripts/seed/demo-data";
import { profileKey } from "../worker/store/profiles";
import { decideResponseSchema } from "../worker/wire/decide";
import { createSite, decideBody, newVisitorId, putProfile, visitorCookie } from "./support/fixtures";

const BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0";
const PRIVACY = { authorization: `Bearer ${env.PRIVACY_TOKEN}` };
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

const profile = () => {
  const [a] = demoVisitors();
  if (!a) throw new Error("a demo visitor expected");
  return a.profile;
};

async function modeFor(site: string, id: string) {
  const res = await SELF.fetch("https://edge.example/v1/decide", {
    method: "POST",
    headers: { "content-type": "application/json", cookie: await visitorCookie(id), "user-agent": BROWSER },
    body: JSON.stringify(decideBody(site)),
  });
  return decideResponseSchema.parse(await res.json());
}

async function consentGrant(site: string, id: string) {
  // A ledger row for the subject, through the public endpoint, as a visitor's banner click.
  const res = await SELF.fetch("https://edge.example/v1/consent", {
    method: "POST",
    headers: { "content-type": "application/json", cookie: await visitorCookie(id) },
    body: JSON.stringify({ site, purposes: { personalization: true, measurement: true } }),
  });
  expect(res.status).toBe(200);
}

function revoke(subjectId: string, headers: Record<string, string> = PRIVACY) {
  return SELF.fetch("https://edge.example/v1/privacy/revocations", {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ subjectId, reason: "data subject request" }),
  });
}

async function waitForCompletion(requestId: string): Promise<{ status: string; completedAt: string | null }> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await SELF.fetch(`https://edge.example/v1/privacy/requests/${requestId}`, { headers: PRIVACY });
    const body = (await res.json()) as { status: string; completedAt: string | null };
    if (body.status === "completed" || Date.now() > deadline) return body;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitFor(check: () => Promise<boolean>) {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the queue consumer");
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Every row of every table, as text: where a subject's id would show if anything kept it. */
async function allRowsText(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
  ).all<{ name: string }>();
  const dumps = await Promise.all(
    tables.results.map(async ({ name }) => JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results)),
  );
  return dumps.join("\n");
}

describe("revocation and erasure", () => {
  let siteA: string;
  let siteB: string;
  beforeAll(async () => {
    siteA = await createSite("privacy-a", { consentModel: "opt-out" });
    siteB = await createSite("privacy-b", { consentModel: "opt-out" });
  });

  it("holds on the very next request, erases the subject everywhere and leaves others untouched", async () => {
    const subject = newVisitorId();
    const other = newVisitorId();
    for (const id of [subject, other]) {
      await putProfile(siteA, id, profile());
      await putProfile(siteB, id, profile());
      await consentGrant(siteA, id);
    }
    const decided = await modeFor(siteA, subject);
    expect(decided.mode).toBe("personalized");
    // A logged decision and a click for the subject, through the real queue, before revoking.
    const shown = decided.slots[0]?.items[0];
    const click = {
      eventId: crypto.randomUUID(),
      type: "click",
      decisionId: decided.decisionId,
      slot: decided.slots[0]?.slot,
      contentId: shown?.contentId,
      ts: Date.now(),
      eventToken: decided.eventToken,
    };
    expect(
      (
        await SELF.fetch("https://edge.example/v1/events", {
          method: "POST",
          headers: { "content-type": "application/json", "user-agent": BROWSER },
          body: JSON.stringify({ events: [click] }),
        })
      ).status,
    ).toBe(202);
    await waitFor(async () => {
      const rows = await allRowsText();
      return rows.includes(click.eventId) && rows.includes(decided.decisionId);
    });

    const res = await revoke(subject);
    expect(res.status).toBe(202);
    const { requestId } = (await res.json()) as { requestId: string };

    const next = await modeFor(siteA, subject);
    expect(next.mode).toBe("contextual");
    expect(next.modeReason).toBe("revoked");

    const done = await waitForCompletion(requestId);
    expect(done.status).toBe("completed");
    expect(done.completedAt).not.toBeNull();

    expect(await env.PROFILES.get(profileKey(siteA, subject))).toBeNull();
    expect(await env.PROFILES.get(profileKey(siteB, subject))).toBeNull();
    const rows = await allRowsText();
    expect(rows).not.toContain(subject);

    expect(await env.PROFILES.get(profileKey(siteA, other))).not.toBeNull();
    expect(await env.PROFILES.get(profileKey(siteB, other))).not.toBeNull();
    expect(rows).toContain(other);
    expect((await modeFor(siteA, other)).mode).toBe("personalized");
    // Still revoked after erasure: the tombstone (under the subject's hash) stays.
    expect((await modeFor(siteA, subject)).modeReason).toBe("revoked");
  });

  it("is idempotent: the same subject gets the same request", async () => {
    const subject = newVisitorId();
    const first = (await (await revoke(subject)).json()) as { requestId: string };
    const second = await revoke(subject);
    expect(second.status).toBe(202);
    expect(((await second.json()) as { requestId: string }).requestId).toBe(first.requestId);
  });

  it("exports everything stored about a subject", async () => {
    const subject = newVisitorId();
    await putProfile(siteA, subject, profile());
    await consentGrant(siteA, subject);
    const res = await SELF.fetch(`https://edge.example/v1/privacy/subjects/${subject}/export`, { headers: PRIVACY });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { subjectId: string; profiles: Record<string, unknown>; consentLedger: { source: string }[] };
    expect(body.subjectId).toBe(subject);
    expect(Object.keys(body.profiles)).toEqual([siteA]);
    expect(body.consentLedger.map((row) => row.source)).toContain("banner");
  });
});

describe("privacy endpoints are authenticated and least-privilege", () => {
  it("answers 401 without a token or with an unknown one, 403 for the admin role, and records nothing", async () => {
    const before = await allRowsText();
    const subject = newVisitorId();
    expect((await revoke(subject, {})).status).toBe(401);
    expect((await revoke(subject, { authorization: "Bearer not-a-token" })).status).toBe(401);
    const forbidden = await revoke(subject, ADMIN);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: "forbidden" } });
    expect((await SELF.fetch(`https://edge.example/v1/privacy/subjects/${subject}/export`)).status).toBe(401);
    expect(await allRowsText()).toBe(before);
  });

  it("rejects a subject id that is not a visitor id", async () => {
    const res = await revoke("alice@example.com");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { field: "subjectId" } });
  });
});
