import { z } from "zod";
import { base64UrlToText, sign, textToBase64Url, verify } from "../lib/signing";
import { channels } from "../wire/channels";
import { epochMs } from "../wire/events";

/**
 * The event token: an HMAC over what a decision showed, to whom and under which consent, when,
 * with an expiry. Events must send it back, so nobody can report impressions or clicks for content
 * that no decision showed, or for another visitor, or outside the decision's lifetime.
 */
export const EVENT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

const grantItemSchema = z.union([
  z.tuple([z.string(), z.string(), z.string()]),
  z.tuple([z.string(), z.string(), z.string(), z.string(), z.string()]),
]);
/** A shown item: [slot, contentId, policy], and [variant id, variant reason] when it was a variant. */
export type GrantItem = z.infer<typeof grantItemSchema>;

/**
 * What a token grants, validated even though it is signed: a key that signed something else (or a
 * bug) must give a 4xx, never a crash.
 */
const eventGrantSchema = z.object({
  /** decision id, site, visitor (null when unidentified) */
  d: z.string(),
  s: z.string(),
  v: z.string().nullable(),
  /** consent at decision time: measurement, personalization (profile writes) */
  m: z.boolean(),
  p: z.boolean(),
  /** model version ("" when none) and the shown items */
  mv: z.string(),
  i: z.array(grantItemSchema),
  /** bot traffic: kept out of learning and reports */
  b: z.boolean(),
  /** QA preview traffic: likewise kept out */
  q: z.boolean().optional(),
  /** The decision's groups, copied onto its events for the reports: holdout, experiment arms [experiment, arm], fairness segments */
  h: z.boolean().optional(),
  x: z.array(z.tuple([z.string(), z.string()])).optional(),
  g: z.record(z.string(), z.string()).optional(),
  /** the channel the decision was shown in */
  ch: z.enum(channels).optional(),
  /** when the decision was made, and when its token expires (ms) */
  t: epochMs,
  e: epochMs,
});
export type EventGrant = z.infer<typeof eventGrantSchema>;

const keyFor = (signingKey: string) => `event-token:${signingKey}`;

export function issueEventToken(grant: EventGrant, signingKey: string): Promise<string> {
  return sign(textToBase64Url(JSON.stringify(grant)), keyFor(signingKey));
}

export type TokenCheck = { ok: true; grant: EventGrant } | { ok: false; reason: "invalid_token" | "expired_token" };

export async function checkEventToken(token: string, keys: readonly (string | undefined)[], now: number): Promise<TokenCheck> {
  if (token.length > 8192) return { ok: false, reason: "invalid_token" };
  const payload = await verify(
    token,
    keys.map((k) => (k ? keyFor(k) : undefined)),
  );
  if (!payload) return { ok: false, reason: "invalid_token" };
  let json: unknown;
  try {
    json = JSON.parse(base64UrlToText(payload) ?? "null");
  } catch {
    return { ok: false, reason: "invalid_token" };
  }
  const grant = eventGrantSchema.safeParse(json);
  if (!grant.success) return { ok: false, reason: "invalid_token" };
  if (!(grant.data.e > now)) return { ok: false, reason: "expired_token" };
  return { ok: true, grant: grant.data };
}
