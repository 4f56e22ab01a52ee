import { env, SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../scripts/harness/wait";
import { VISITOR_ID } from "../worker/wire/consent";
import { decideResponseSchema } from "../worker/wire/decide";
import { waitForCompletion } from "./support/erasure";
import { BROWSER, createSite, decideBody, newVisitorId, putProfile, visitorCookie, visitorState } from "./support/fixtures";
import { logFileRows } from "./support/log";
import { countFor, event, postEvents, shownIn } from "./support/pipeline";

/**
 * Nothing is ever written under a revoked id again, from any route: the consent banner's post,
 * a decision and its events all leave the erased subject erased, and a returning browser gets a
 * fresh id only when it gives consent again. (`npm run seed`: the visitor's object refuses a profile under its tombstone, test/visitors.test.ts.)
 */
const PRIVACY = { authorization: `Bearer ${env.PRIVACY_TOKEN}`, "content-type": "application/json" };
const GRANT = { personalization: true, measurement: true };

/** Every row and key that could name the subject. */
async function storedUnder(site: string, subjectId: string) {
  const count = async (sql: string) => (await env.DB.prepare(sql).bind(subjectId).first<{ n: number }>())?.n ?? 0;
  // Every copy in the log's files, not one per id: a copy left behind would still name the subject.
  const logged = (await logFileRows()).filter((row) => row.visitor_id === subjectId);
  return {
    consentLedger: await count("SELECT count(*) AS n FROM consent_ledger WHERE subject_id = ?"),
    decisions: logged.filter((row) => row.kind === "decision").length,
    events: logged.filter((row) => row.kind === "interaction").length,
    privacyRequests: await count("SELECT count(*) AS n FROM privacy_requests WHERE subject_id = ?"),
    profile: (await visitorState(subjectId)).profiles[site] !== undefined,
  };
}
const NOTHING = { consentLedger: 0, decisions: 0, events: 0, privacyRequests: 0, profile: false };

function postConsent(site: string, cookie: string, purposes: { personalization: boolean; measurement: boolean }) {
  return SELF.fetch("https://edge.example/v1/consent", {
    method: "POST",
    headers: { "content-type": "application/json", cookie, "user-agent": BROWSER },
    body: JSON.stringify({ site, purposes }),
  });
}

/** Revokes the subject and waits until its erasure has completed. */
async function revokeAndErase(subjectId: string) {
  const res = await SELF.fetch("https://edge.example/v1/privacy/revocations", {
    method: "POST",
    headers: PRIVACY,
    body: JSON.stringify({ subjectId }),
  });
  expect(res.status).toBe(202);
  const { requestId } = (await res.json()) as { requestId: string };
  await waitForCompletion(requestId);
}

const idCookies = (res: Response) => res.headers.getSetCookie().filter((c) => c.startsWith("ep_vid="));

describe("a revoked subject stays erased", () => {
  let optIn: string;
  let optOut: string;
  beforeAll(async () => {
    optIn = await createSite("erased-opt-in", { consentModel: "opt-in" });
    optOut = await createSite("erased-opt-out", { consentModel: "opt-out" });
  });

  it("a consent post with the erased visitor's cookie writes nothing under that id; a grant gives a fresh id", async () => {
    const subject = newVisitorId();
    const cookie = await visitorCookie(subject);
    expect((await postConsent(optIn, cookie, GRANT)).status).toBe(200);
    await putProfile(optIn, subject, { itemAffinity: { "men-1": 1 } });
    await revokeAndErase(subject);
    expect(await storedUnder(optIn, subject)).toEqual(NOTHING);

    const again = await postConsent(optIn, cookie, GRANT);
    expect(again.status).toBe(200);
    const body = (await again.json()) as { visitorId: string | null; personalization: boolean; basis: string };
    // Consent given again: a new pseudonym, unrelated to the erased one.
    expect(body.visitorId).toMatch(VISITOR_ID);
    expect(body.visitorId).not.toBe(subject);
    expect(body).toMatchObject({ personalization: true, basis: "banner_granted" });
    expect(idCookies(again)).toHaveLength(1);
    expect(await storedUnder(optIn, subject)).toEqual(NOTHING);
    const fresh = await env.DB.prepare("SELECT source FROM consent_ledger WHERE subject_id = ?").bind(body.visitorId).all();
    expect(fresh.results).toEqual([{ source: "banner" }]);

    // The erased id's export stays empty, and a second revocation has nothing left to find.
    const exported = await SELF.fetch(`https://edge.example/v1/privacy/subjects/${subject}/export`, { headers: PRIVACY });
    expect(((await exported.json()) as { consentLedger: unknown[] }).consentLedger).toEqual([]);
  });

  it("a denial from a revoked browser clears its id cookie and writes nothing", async () => {
    const subject = newVisitorId();
    await revokeAndErase(subject);
    const res = await postConsent(optIn, await visitorCookie(subject), { personalization: false, measurement: false });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { visitorId: string | null }).visitorId).toBeNull();
    expect(idCookies(res)).toEqual([expect.stringMatching(/^ep_vid=;.*Max-Age=0/)]);
    expect(await storedUnder(optIn, subject)).toEqual(NOTHING);
  });

  it("decisions and events with the erased visitor's cookie write nothing and give no new id without consent", async () => {
    const subject = newVisitorId();
    await revokeAndErase(subject);
    const cookie = await visitorCookie(subject);
    const res = await SELF.fetch("https://edge.example/v1/decide", {
      method: "POST",
      headers: { "content-type": "application/json", cookie, "user-agent": BROWSER },
      body: JSON.stringify(decideBody(optOut)),
    });
    expect(res.status).toBe(200);
    expect(idCookies(res)).toEqual([]);
    const decided = decideResponseSchema.parse(await res.json());
    expect(decided.modeReason).toBe("revoked");
    const shown = shownIn(decided);
    expect((await postEvents(shown.map((s) => event(decided, s, "click")))).status).toBe(202);

    // Another visitor's events after them: once those are written, the revoked ones were consumed.
    const other = decideResponseSchema.parse(
      await (
        await SELF.fetch("https://edge.example/v1/decide", {
          method: "POST",
          headers: { "content-type": "application/json", cookie: await visitorCookie(newVisitorId()), "user-agent": BROWSER },
          body: JSON.stringify(decideBody(optOut)),
        })
      ).json(),
    );
    expect((await postEvents([event(other, shownIn(other)[0] ?? { slot: "", contentId: "" }, "click")])).status).toBe(202);
    await waitFor(async () => (await countFor(other.decisionId, optOut)) === 1);
    expect(await countFor(decided.decisionId, optOut)).toBe(0);
    expect(await storedUnder(optOut, subject)).toEqual(NOTHING);
  });
});
