import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, type ErrorBody } from "../lib/errors";

/** The app's one `onError`: typed errors become their 4xx JSON shape; anything else a 500 naming no internals. */
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
