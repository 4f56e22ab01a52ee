import type { z } from "zod";

/** The one error shape on the wire: `{ error: { code, message, field? } }`. */
export type ErrorBody = { error: { code: string; message: string; field?: string } };

/** The statuses an ApiError answers with: client errors, and the gateway errors of the edge route. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 502 | 503;

/** A client error that names the problem (and the field, when there is one). */
export class ApiError extends Error {
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/**
 * A dependency (KV, D1, queue, model) failed. Never reaches the client as an error: the decision
 * path turns it into editor defaults with `fallback: reason`.
 */
export class DependencyError extends Error {
  constructor(
    readonly reason: FallbackReason,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

/**
 * Why a decision fell back: D1 failed in this request (the catalogue came from the isolate's last
 * copy or the KV snapshot), no catalogue could be read at all, KV failed, the model could not be
 * loaded or run, or it was still loading on a cold isolate past the latency budget, or the model
 * kill switch is on: editor defaults. The visitor's Durable Object failed or timed out
 * (`visitor_state_unavailable`): contextual content, the model without a profile.
 */
export const fallbackReasons = [
  "d1_unavailable",
  "catalogue_unavailable",
  "kv_unavailable",
  "visitor_state_unavailable",
  "model_unavailable",
  "model_loading",
  "model_disabled",
] as const;
export type FallbackReason = (typeof fallbackReasons)[number];

/** Turns a zod failure into an ApiError naming the first bad field. */
export function fromZodError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  const field = (issue?.path ?? []).map(String).join(".");
  return new ApiError(400, "invalid_request", issue ? `${field || "body"}: ${issue.message}` : "invalid request", field || undefined);
}
