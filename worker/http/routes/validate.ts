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

/** Admin JSON bodies (a site policy with a full blocklist is the largest, about 110 KB). */
export const MAX_ADMIN_JSON_BYTES = 256 * 1024;
/** A variants import: up to about 2,000 variants per request. */
export const MAX_VARIANT_IMPORT_BYTES = 1024 * 1024;

/** Deeper than any request of this API nests (a site policy is the deepest, at 5 levels). */
export const MAX_JSON_DEPTH = 32;

/** Whether JSON text nests arrays and objects deeper than `max`: one pass, strings skipped. */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92 /* \ */) i++;
      else if (ch === 34 /* " */) inString = false;
    } else if (ch === 34) inString = true;
    else if (ch === 91 /* [ */ || ch === 123 /* { */) {
      if (++depth > max) return true;
    } else if (ch === 93 /* ] */ || ch === 125 /* } */) depth--;
  }
  return false;
}

/**
 * The JSON body, whatever the content type says (`navigator.sendBeacon` sends text/plain), as a
 * 400 when it is not JSON or nests deeper than `MAX_JSON_DEPTH` (so that no validation, copy or
 * serialization downstream can recurse without bound). Size is limited by `limitBody` before.
 */
export async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (nestedDeeperThan(text, MAX_JSON_DEPTH))
    throw new ApiError(400, "invalid_json", `request body nests deeper than ${MAX_JSON_DEPTH} levels`);
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
