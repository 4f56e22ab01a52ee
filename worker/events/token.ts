import { base64UrlToText, sign, textToBase64Url, verify } from "../lib/signing";

/**
 * The event token: an HMAC over what a decision showed, to whom and under which consent, with an
 * expiry. Events must send it back, so nobody can report impressions or clicks for content that
 * no decision showed, or for another visitor, or long after the fact.
 */
export const EVENT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/** A shown item: [slot, contentId, policy], and [variant id, variant reason] when it was a variant. */
export type GrantItem = [string, string, string] | [string, string, string, string, string];

export type EventGrant = {
  /** decision id, site, visitor (null when unidentified) */
  d: string;
  s: string;
  v: string | null;
  /** consent at decision time: measurement, personalization (profile writes) */
  m: boolean;
  p: boolean;
  /** model version ("" when none) and the shown items */
  mv: string;
  i: GrantItem[];
  /** bot traffic: kept out of learning and reports */
  b: boolean;
  /** QA preview traffic: likewise kept out */
  q?: boolean;
  e: number;
};

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
  let grant: EventGrant;
  try {
    grant = JSON.parse(base64UrlToText(payload) ?? "null") as EventGrant;
  } catch {
    return { ok: false, reason: "invalid_token" };
  }
  if (!grant || typeof grant !== "object") return { ok: false, reason: "invalid_token" };
  if (!(grant.e > now)) return { ok: false, reason: "expired_token" };
  return { ok: true, grant };
}
