import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { subjectHash } from "../worker/store/subject";
import { requestStatus, waitForCompletion } from "./support/erasure";
import { createSite, decideAs, demoProfile, newVisitorId, putProfile, visitorCookie, visitorState } from "./support/fixtures";
import { logFileRows } from "./support/log";
import { countFor, event, postEvents, type Shown, shownIn } from "./support/pipeline";

const PRIVACY = { authorization: `Bearer ${env.PRIVACY_TOKEN}` };
const ADMIN = { authorization: `Bearer ${env.ADMIN_TOKEN}` };

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

/**
 * Every row of every table in which one of `needles` appears, as text: where a subject's id (or its
 * hash) would show if anything kept it. Scoped to the test's own ids, so that what other tests
 * write meanwhile (the queue consumer runs on) cannot change it.
 */
async function rowsMentioning(...needles: string[]): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name != 'd1_migrations'",
  ).all<{ name: string }>();
  const dumps = await Promise.all(
    tables.results.map(async ({ name }) => {
      const columns = await env.DB.prepare("SELECT name FROM pragma_table_info(?)").bind(name).all<{ name: string }>();
      const mentions = needles.flatMap((_, i) => columns.results.map((column) => `instr(CAST("${column.name}" AS TEXT), ?${i + 1}) > 0`));
      const rows = await env.DB.prepare(`SELECT * FROM "${name}" WHERE ${mentions.join(" OR ")}`)
        .bind(...needles)
        .all();
      return JSON.stringify(rows.results);
    }),
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
      await putProfile(siteA, id, demoProfile());
      await putProfile(siteB, id, demoProfile());
      await consentGrant(siteA, id);
    }
    const decided = await decideAs(siteA, { cookie: await visitorCookie(subject) });
    expect(decided.mode).toBe("personalized");
    // A logged decision and a click for the subject, through the real queue, before revoking.
    const click = event(decided, shownIn(decided)[0] as Shown, "click");
    expect((await postEvents([click])).status).toBe(202);
    const otherDecision = await decideAs(siteA, { cookie: await visitorCookie(other) });
    const subjectRows = async () => (await logFileRows()).filter((row) => row.visitor_id === subject);
    // The stored event's id is derived from the decision (worker/events/admit.ts): wait for it and both decisions in the log.
    await waitFor(async () => {
      const ids = (await logFileRows()).map((row) => row.id);
      return (
        (await countFor(decided.decisionId, siteA)) === 1 && ids.includes(decided.decisionId) && ids.includes(otherDecision.decisionId)
      );
    });
    const otherRows = (await logFileRows()).filter((row) => row.visitor_id === other).length;
    expect(otherRows).toBeGreaterThan(0);

    const res = await revoke(subject);
    expect(res.status).toBe(202);
    const { requestId } = (await res.json()) as { requestId: string };
    // The stores are cleaned at once; the request waits for the log's erasure pass.
    await waitFor(async () => (await env.DB.prepare("SELECT 1 FROM log_erasures WHERE request_id = ?").bind(requestId).first()) !== null);
    expect((await requestStatus(requestId)).status).toBe("pending");

    const next = await decideAs(siteA, { cookie: await visitorCookie(subject) });
    expect(next.mode).toBe("contextual");
    expect(next.modeReason).toBe("revoked");

    const done = await waitForCompletion(requestId);
    expect(done.status).toBe("completed");
    expect(done.completedAt).not.toBeNull();

    expect((await visitorState(subject)).profiles).toEqual({});
    expect(await rowsMentioning(subject)).not.toContain(subject);
    // Gone from every partition of the log; the other visitor's rows are all still there.
    expect(await subjectRows()).toEqual([]);
    expect((await logFileRows()).filter((row) => row.visitor_id === other)).toHaveLength(otherRows);

    expect(Object.keys((await visitorState(other)).profiles).sort()).toEqual([siteA, siteB].sort());
    expect(await rowsMentioning(other)).toContain(other);
    expect((await decideAs(siteA, { cookie: await visitorCookie(other) })).mode).toBe("personalized");
    // Still revoked after erasure: the tombstone (under the subject's hash) stays.
    expect((await decideAs(siteA, { cookie: await visitorCookie(subject) })).modeReason).toBe("revoked");
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
    await putProfile(siteA, subject, demoProfile());
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
    const subject = newVisitorId();
    const traces = async () => rowsMentioning(subject, await subjectHash(subject));
    const before = await traces();
    expect((await revoke(subject, {})).status).toBe(401);
    expect((await revoke(subject, { authorization: "Bearer not-a-token" })).status).toBe(401);
    const forbidden = await revoke(subject, ADMIN);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ error: { code: "forbidden" } });
    expect((await SELF.fetch(`https://edge.example/v1/privacy/subjects/${subject}/export`)).status).toBe(401);
    expect(await traces()).toBe(before);
  });

  it("rejects a subject id that is not a visitor id", async () => {
    const res = await revoke("alice@example.com");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { field: "subjectId" } });
  });
});
