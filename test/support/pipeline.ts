import { env, SELF } from "cloudflare:test";
import { expect } from "vitest";
import { type DecideResponse, decideResponseSchema } from "../../worker/wire/decide";
import type { InteractionEvent } from "../../worker/wire/events";
import { decideBody } from "./fixtures";

/** Helpers for driving the event pipeline through the worker and the real local queue. */
export const BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15";

export async function decideAs(site: string, cookie: string): Promise<DecideResponse> {
  const res = await SELF.fetch("https://edge.example/v1/decide", {
    method: "POST",
    headers: { "content-type": "application/json", cookie, "user-agent": BROWSER },
    body: JSON.stringify(decideBody(site)),
  });
  expect(res.status).toBe(200);
  return decideResponseSchema.parse(await res.json());
}

export type Shown = { slot: string; contentId: string };
export const shownIn = (d: DecideResponse): Shown[] =>
  d.slots.flatMap((s) => s.items.map((i) => ({ slot: s.slot, contentId: i.contentId })));

export function event(d: DecideResponse, shown: Shown, type: InteractionEvent["kind"], eventId = crypto.randomUUID()) {
  return {
    eventId,
    type,
    decisionId: d.decisionId,
    slot: shown.slot,
    contentId: shown.contentId,
    ts: Date.now(),
    eventToken: d.eventToken,
  };
}

export function postEvents(events: unknown[], headers: Record<string, string> = {}, contentType = "application/json") {
  return SELF.fetch("https://edge.example/v1/events", {
    method: "POST",
    headers: { "content-type": contentType, "user-agent": BROWSER, ...headers },
    body: JSON.stringify({ events }),
  });
}

export async function countFor(decisionId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM events WHERE decision_id = ?").bind(decisionId).first<{ n: number }>();
  return row?.n ?? 0;
}

export async function waitUntil(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the queue consumer");
    await new Promise((r) => setTimeout(r, 200));
  }
}
