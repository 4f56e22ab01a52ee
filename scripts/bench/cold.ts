import type { MiniflareOptions } from "miniflare";
import type { DecideResponse } from "../../worker/wire/decide";
import { fallbacksOf, postDecide } from "./requests";
import { sleep } from "./stats";
import { type Miniflare, startWorkerd, stopWorkerd } from "./workerd";

export type ColdStart = {
  mf: Miniflare;
  url: URL;
  /** From `new Miniflare()` to workerd accepting requests (process start, config, module compilation). */
  readyMs: number;
  /** From `new Miniflare()` (a new workerd process) to the first 200 from /v1/decide. */
  coldStartMs: number;
  /** The first decide request alone: ORT start and session creation on the cold isolate, if it waited for them. */
  firstRequestMs: number;
  /** From `new Miniflare()` to the first decision ranked by the model (mode other than "default"). */
  coldModelMs: number;
  first: { mode: DecideResponse["mode"]; modeReason: string; fallbacks: string[] };
  /** Requests sent until the model answered (the first ones may get editor defaults). */
  attempts: number;
};

const POLL_INTERVAL_MS = 10;

/**
 * Starts workerd on already seeded state and polls /v1/decide until the model answers. With
 * MODEL_LOAD_BUDGET_MS = 0 (the default) a cold isolate answers at once with editor defaults and
 * loads the model after the response, so the first answer and the first model answer differ.
 */
export async function measureColdStart(options: MiniflareOptions, cookie: string, timeoutMs = 60_000): Promise<ColdStart> {
  const started = performance.now();
  const mf = startWorkerd(options);
  try {
    const url = await mf.ready;
    const readyMs = performance.now() - started;
    let first: { at: number; took: number; body: DecideResponse } | undefined;
    let attempts = 0;
    while (performance.now() - started < timeoutMs) {
      attempts++;
      const sent = performance.now();
      const answer = await postDecide(url, cookie);
      const at = performance.now() - started;
      if (answer.status !== 200 || !answer.body) throw new Error(`cold /v1/decide answered ${answer.status}: ${answer.text.slice(0, 500)}`);
      first ??= { at, took: performance.now() - sent, body: answer.body };
      if (answer.body.mode !== "default") {
        return {
          mf,
          url,
          readyMs,
          coldStartMs: first.at,
          firstRequestMs: first.took,
          coldModelMs: at,
          first: { mode: first.body.mode, modeReason: first.body.modeReason, fallbacks: fallbacksOf(first.body) },
          attempts,
        };
      }
      await sleep(POLL_INTERVAL_MS);
    }
    throw new Error(`no model-ranked decision within ${timeoutMs} ms (every answer was editor defaults)`);
  } catch (err) {
    await stopWorkerd(mf);
    throw err;
  }
}
