import type { DecideResponse } from "../../worker/wire/decide";
import { BENCH_SITE } from "./seed-state";

/** The trivial route: no I/O, the "hello" baseline of what workerd + Hono cost. */
export const HELLO_PATH = "/health/live";
export const DECIDE_PATH = "/v1/decide";
/** The demo origin's shop page, served plainly, and the same page through the edge-rewriting route. */
export const ORIGIN_PAGE_PATH = "/demo/origin";
export const EDGE_PAGE_PATH = "/edge/bench/";
/** The same shop page with the script tag, for the bench site. */
export const TAG_PAGE_PATH = `/demo/tag?site=${BENCH_SITE}`;
export const TAG_PATH = "/v1/tag.js";

/** Three slots over the 24-item demo catalogue: one batched model run of ~24 candidates. */
export const DECIDE_BODY = JSON.stringify({
  site: BENCH_SITE,
  page: { url: "https://shop.example/women/knitwear", referrer: "https://www.google.com/" },
  slots: [{ id: "hero" }, { id: "recommendations" }, { id: "promo" }],
});

/** Headers of a decide request; without a cookie the visitor is anonymous (a contextual, not personal, ranking). */
export function decideHeaders(cookie?: string): Record<string, string> {
  return {
    "content-type": "application/json",
    ...(cookie ? { cookie } : {}),
    // A desktop browser: a bot user agent would change the decision context's device class.
    "user-agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15",
  };
}

export type DecideAnswer = { status: number; body: DecideResponse | null; text: string };

export async function postDecide(base: URL, cookie: string): Promise<DecideAnswer> {
  const res = await fetch(new URL(DECIDE_PATH, base), { method: "POST", headers: decideHeaders(cookie), body: DECIDE_BODY });
  const text = await res.text();
  let body: DecideResponse | null = null;
  if (res.ok) {
    try {
      body = JSON.parse(text) as DecideResponse;
    } catch {
      body = null;
    }
  }
  return { status: res.status, body, text };
}

/** The slots' fallback reasons, e.g. "model_loading" while a cold isolate is still creating the session. */
export const fallbacksOf = (body: DecideResponse) => [...new Set(body.slots.flatMap((slot) => (slot.fallback ? [slot.fallback] : [])))];
