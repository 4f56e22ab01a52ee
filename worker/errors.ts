import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";

/** The one error shape on the wire: `{ error: { code, message, field? } }`. */
export type ErrorBody = { error: { code: string; message: string; field?: string } };

/** A client error that names the problem (and the field, when there is one). */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
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
 * Why a decision fell back to editor defaults: D1 failed in this request (the catalogue came from
 * the isolate's last copy or the KV snapshot), no catalogue could be read at all, the profile
 * store (KV) failed, the model could not be loaded or run, or it was still loading on a cold
 * isolate past the latency budget, or the model kill switch is on.
 */
export const fallbackReasons = [
  "d1_unavailable",
  "catalogue_unavailable",
  "kv_unavailable",
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

export function errorResponse(c: Context, err: Error): Response {
  if (err instanceof ApiError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } };
    return c.json(body, err.status);
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    const code = status === 413 ? "payload_too_large" : status === 404 ? "not_found" : "http_error";
    return c.json({ error: { code, message: err.message || code } }, status);
  }
  // Unknown errors name no internals; the cause is logged without request data.
  console.error("unhandled error", err.name, err.message);
  return c.json({ error: { code: "internal", message: "internal error" } }, 500);
}
