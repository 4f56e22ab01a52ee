import { checkEventToken, type EventGrant } from "../../worker/events/token";
import type { DecideResponse } from "../../worker/wire/decide";
import { type ClientEvent, MAX_EVENTS_BODY_BYTES, MAX_EVENTS_PER_REQUEST } from "../../worker/wire/events";
import { decideHeaders, postDecide } from "./requests";

export const EVENTS_PATH = "/v1/events";
/** Where the script tag sends its beacons (worker/tag/client.tag.js): batched with the isolate's other events. */
export const BEACONS_PATH = `${EVENTS_PATH}?delivery=batched`;

/** A decision whose token lets events through to D1: the consumer drops unmeasured and bot events. */
export type MeasuredDecision = { decisionId: string; eventToken: string; mode: DecideResponse["mode"]; shown: [string, string][] };

/**
 * Asks /v1/decide for the bench visitor and checks its event token the way /v1/events will. An
 * event the consumer would acknowledge without writing never reaches D1, so the count would never
 * reach N: better to say why now than to time out later.
 */
export async function measuredDecision(base: URL, cookie: string, signingKey: string): Promise<MeasuredDecision> {
  const answer = await postDecide(base, cookie);
  if (!answer.body) throw new Error(`/v1/decide answered ${answer.status}: ${answer.text.slice(0, 500)}`);
  const { decisionId, eventToken, mode } = answer.body;
  const check = await checkEventToken(eventToken, [signingKey], Date.now());
  if (!check.ok) throw new Error(`/v1/decide's event token does not verify (${check.reason})`);
  const problem = grantProblem(check.grant);
  if (problem) throw new Error(`the bench visitor's events would not be written: ${problem}`);
  return { decisionId, eventToken, mode, shown: check.grant.i.map(([slot, contentId]) => [slot, contentId]) };
}

/** `count` decisions, `concurrency` at a time. */
export async function measuredDecisions(base: URL, cookie: string, signingKey: string, count: number, concurrency = 8) {
  const decisions: MeasuredDecision[] = [];
  const worker = async () => {
    while (decisions.length < count) decisions.push(await measuredDecision(base, cookie, signingKey));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return decisions.slice(0, count);
}

function grantProblem(grant: EventGrant): string | undefined {
  if (!grant.m) return "no measurement consent";
  if (grant.b) return "classified as a bot";
  if (!grant.v) return "no visitor id";
  if (grant.i.length === 0) return "the decision showed nothing";
  return undefined;
}

/**
 * The distinct events one decision can count: an impression of each shown item and a click on the
 * first. /v1/events counts one of each kind per decision and shown item (worker/events/admit.ts),
 * so N events that all count need about N / (items + 1) decisions.
 */
export const eventsPerDecision = (decision: MeasuredDecision) => decision.shown.length + 1;

export type Sent = { impressions: number; clicks: number };
/**
 * Request bodies, serialized before the clock starts so that the client's JSON work is not timed,
 * and the path they are posted to (default EVENTS_PATH).
 */
export type Plan = { requests: { body: string; events: number }[]; events: number; sent: Sent; path?: string };

/** `total` events over `decisions` (each counted once), `perRequest` to a request body. */
export function planInteractions(
  decisions: readonly MeasuredDecision[],
  total: number,
  runId: string,
  perRequest = MAX_EVENTS_PER_REQUEST,
): Plan {
  const sent: Sent = { impressions: 0, clicks: 0 };
  const all: ClientEvent[] = [];
  const ts = Date.now();
  for (const decision of decisions) {
    const [first] = decision.shown;
    const shown = [
      ...decision.shown.map(([slot, contentId]) => ({ slot, contentId, type: "impression" as const })),
      ...(first ? [{ slot: first[0], contentId: first[1], type: "click" as const }] : []),
    ];
    for (const { slot, contentId, type } of shown) {
      if (all.length === total) break;
      sent[type === "click" ? "clicks" : "impressions"]++;
      all.push({
        eventId: `${runId}-${all.length}`,
        type,
        decisionId: decision.decisionId,
        slot,
        contentId,
        ts,
        eventToken: decision.eventToken,
      });
    }
  }
  if (all.length < total) throw new Error(`${decisions.length} decisions count only ${all.length} of ${total} events`);
  const requests: Plan["requests"] = [];
  for (let start = 0; start < total; start += perRequest) {
    const events = all.slice(start, start + perRequest);
    const body = JSON.stringify({ events });
    if (body.length > MAX_EVENTS_BODY_BYTES)
      throw new Error(`an events body is ${body.length} bytes, over the ${MAX_EVENTS_BODY_BYTES} limit`);
    requests.push({ body, events: events.length });
  }
  return { requests, events: total, sent };
}

/** Answers a request may get again: Miniflare's entry worker sometimes fails a request under concurrency with a 500 (I/O across requests). */
const ATTEMPTS = 3;
/** Requests that answered a 500 and were sent again (safe: events are idempotent by id), with the first few errors. */
export const resent: string[] = [];

/**
 * Posts one body; anything but a 202 that accepted every event (after ATTEMPTS tries of a 500) is
 * an error (the run would not add up). A slow answer is not: locally the consumer's batches run on
 * the same thread as the requests and can hold one back for tens of seconds, so only the run's
 * deadline bounds it.
 */
async function postEvents(url: URL, headers: Record<string, string>, body: string, expected: number, deadline: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const signal = AbortSignal.timeout(Math.max(1, Math.ceil(deadline - performance.now())));
    const res = await fetch(url, { method: "POST", headers, body, signal });
    const text = await res.text();
    if (res.status === 500 && attempt < ATTEMPTS) {
      resent.push(text.slice(0, 200));
      continue;
    }
    if (res.status !== 202) throw new Error(`${EVENTS_PATH} answered ${res.status}: ${text.slice(0, 500)}`);
    const { accepted } = JSON.parse(text) as { accepted: number };
    if (accepted !== expected) throw new Error(`${EVENTS_PATH} accepted ${accepted} of ${expected} events`);
    return;
  }
}

/**
 * Sends every body with `concurrency` requests in flight, as a browser-like client with the
 * visitor's cookie (an empty user agent would count as a bot, whose events are dropped).
 * Resolves with `performance.now()` when the last one was accepted; stops at `deadline`.
 */
export async function enqueueAll(base: URL, cookie: string, plan: Plan, concurrency: number, deadline: number): Promise<number> {
  const url = new URL(plan.path ?? EVENTS_PATH, base);
  const headers = decideHeaders(cookie);
  const pending = [...plan.requests];
  const sender = async () => {
    for (let request = pending.shift(); request; request = pending.shift()) {
      if (performance.now() > deadline) throw new Error(`enqueueing did not finish in time (${pending.length} requests left)`);
      await postEvents(url, headers, request.body, request.events, deadline);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, plan.requests.length) }, sender));
  return performance.now();
}
