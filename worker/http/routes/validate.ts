import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { ApiError, fromZodError } from "../../lib/errors";

/** Validates with a zod schema at the edge of the system: a 400 naming the first bad field. */
export function parseWith<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw fromZodError(parsed.error);
  return parsed.data;
}

/**
 * The JSON body, whatever the content type says (`navigator.sendBeacon` sends text/plain), as a
 * 400 when it is not JSON.
 */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, "invalid_json", "request body is not valid JSON");
  }
}

/** A 413 JSON error past `maxSize` bytes, checked while the body streams in. */
export const limitBody = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError(413, "payload_too_large", `request body exceeds ${maxSize} bytes`);
    },
  });
