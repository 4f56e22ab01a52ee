import { randomUUID } from "node:crypto";
import { checkEventToken } from "../../worker/events/token";
import { VISITOR_COOKIE } from "../../worker/http/cookies";
import { sign } from "../../worker/lib/signing";
import { type ClientEvent, MAX_EVENTS_BODY_BYTES, MAX_EVENTS_PER_REQUEST } from "../../worker/wire/events";
import { BEACONS_PATH, type Plan, type Sent } from "./interactions";
import { postDecide } from "./requests";

/**
 * Page views as the data-plane figures count them: one decision through `/v1/decide` and three
 * events about it (two impressions and a click), for a population of identified visitors, so that
 * the consumer sees what production traffic makes it do: many decisions, many visitors, each
 * decision's events arriving after it.
 */
export const EVENTS_PER_PAGE_VIEW = 3;

export type PageView = { decisionId: string; eventToken: string; shown: [string, string][] };

/** Signed cookies for `n` new visitors (the bench site is opt-out: they are measured and identified). */
export async function visitorCookies(n: number, signingKey: string): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, async () => `${VISITOR_COOKIE}=${encodeURIComponent(await sign(randomUUID(), signingKey))}`),
  );
}

/** A decision answered with an error is asked again, this many times, and counted. */
const DECIDE_ATTEMPTS = 3;

/**
 * One decision per page view, `concurrency` in flight, visitors taken in turn; each token is
 * checked as /v1/events will. `errors` collects the answers that were not 200 (asked again).
 */
export async function decidePageViews(
  base: URL,
  cookies: readonly string[],
  pageViews: number,
  signingKey: string,
  concurrency: number,
  errors: string[] = [],
): Promise<PageView[]> {
  const views: PageView[] = [];
  let next = 0;
  const decideOnce = async (cookie: string) => {
    for (let attempt = 1; ; attempt++) {
      const answer = await postDecide(base, cookie);
      if (answer.body) return answer.body;
      errors.push(`${answer.status}: ${answer.text.slice(0, 200)}`);
      if (attempt >= DECIDE_ATTEMPTS) throw new Error(`/v1/decide answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    }
  };
  const worker = async () => {
    for (let i = next++; i < pageViews; i = next++) {
      const body = await decideOnce(cookies[i % cookies.length] as string);
      const check = await checkEventToken(body.eventToken, [signingKey], Date.now());
      if (!check.ok || !check.grant.m || !check.grant.v || check.grant.i.length < 2)
        throw new Error("a bench decision would not be measured (no consent, no visitor id or fewer than two items shown)");
      views[i] = { decisionId: body.decisionId, eventToken: body.eventToken, shown: check.grant.i.map(([s, c]) => [s, c]) };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return views;
}

/**
 * How the page views' events are sent: `relay`, `perRequest` of them to a body in page-view order,
 * as a server relaying many visitors' events (their clicks are then applied by the consumer); or
 * `beacons`, as the script tag sends them: each page view's impressions in one request and its
 * click in another, to `/v1/events?delivery=batched` (the clicks applied at the edge, the events
 * queued through the isolate's outbox).
 */
export type EventShape = "relay" | "beacons";

/** Three events per page view, in page-view order, in bodies as `shape` says (serialized before the clock starts). */
export function planPageViewEvents(
  views: readonly PageView[],
  runId: string,
  shape: EventShape = "relay",
  perRequest = MAX_EVENTS_PER_REQUEST,
): Plan {
  const sent: Sent = { impressions: 0, clicks: 0 };
  const all: ClientEvent[] = [];
  const ts = Date.now();
  views.forEach((view, v) => {
    const [first, second] = view.shown as [[string, string], [string, string]];
    const kinds: [ClientEvent["type"], [string, string]][] = [
      ["impression", first],
      ["impression", second],
      ["click", first],
    ];
    kinds.forEach(([type, [slot, contentId]], k) => {
      sent[type === "click" ? "clicks" : "impressions"]++;
      all.push({ eventId: `${runId}-${v}-${k}`, type, decisionId: view.decisionId, slot, contentId, ts, eventToken: view.eventToken });
    });
  });
  const bodies: ClientEvent[][] = [];
  if (shape === "beacons")
    for (let start = 0; start < all.length; start += EVENTS_PER_PAGE_VIEW)
      bodies.push(all.slice(start, start + 2), all.slice(start + 2, start + 3));
  else for (let start = 0; start < all.length; start += perRequest) bodies.push(all.slice(start, start + perRequest));
  const requests = bodies.map((events) => {
    const body = JSON.stringify({ events });
    if (body.length > MAX_EVENTS_BODY_BYTES)
      throw new Error(`an events body is ${body.length} bytes, over the ${MAX_EVENTS_BODY_BYTES} limit`);
    return { body, events: events.length };
  });
  return { requests, events: all.length, sent, ...(shape === "beacons" ? { path: BEACONS_PATH } : {}) };
}
