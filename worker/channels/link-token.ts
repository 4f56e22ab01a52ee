import { z } from "zod";
import { sign, textToBase64Url, verifyJson } from "../lib/signing";

/**
 * A link token lets a signed-in page link its own browser: the site's server mints it for the
 * customer who just signed in (with an API key), the page posts it to /v1/identity/link with the
 * browser's cookies. It names the site and the customer's subject (their id's HMAC, nothing in
 * clear) and lives ten minutes, so a leaked one links nothing for long; it is signed under a key
 * of its own, so that no e-mail's recipient token can ever link a device.
 */
export const LINK_TOKEN_TTL_MS = 10 * 60 * 1000;
const linkGrantSchema = z.object({ s: z.string(), c: z.string(), e: z.number() });
const keyFor = (signingKey: string) => `link-token:${signingKey}`;

export function issueLinkToken(site: string, customer: string, signingKey: string, now: number): Promise<string> {
  return sign(textToBase64Url(JSON.stringify({ s: site, c: customer, e: now + LINK_TOKEN_TTL_MS })), keyFor(signingKey));
}

/** The customer's subject the token names for `site`, or null (forged, expired, another site's). */
export async function linkedCustomer(
  token: string,
  site: string,
  keys: readonly (string | undefined)[],
  now: number,
): Promise<string | null> {
  const grant = linkGrantSchema.safeParse(
    await verifyJson(
      token,
      keys.map((k) => (k ? keyFor(k) : undefined)),
      1024,
    ),
  );
  return grant.success && grant.data.s === site && grant.data.e > now ? grant.data.c : null;
}
