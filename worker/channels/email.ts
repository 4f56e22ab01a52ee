import { z } from "zod";
import { admitEvent } from "../events/admit";
import { checkEventToken } from "../events/token";
import { sign, textToBase64Url, toBase64Url, verifyJson } from "../lib/signing";
import type { Catalogue, CatalogueItem } from "../site/catalogue";
import type { EmailOpen } from "../visitors/shapes";
import type { InteractionEvent } from "../wire/events";

/**
 * E-mail at open time. A slot in an e-mail is an image and a link carrying a recipient token: an
 * HMAC-signed, expiring grant naming the site, the customer's subject (their id's HMAC, no
 * personal data in clear), the consent the site held when it sent the mail, and when it was sent.
 * The first open decides the content and the customer's object remembers it, so that later opens
 * and the click show and land on the same item (worker/visitors/state.ts `recordEmail`).
 */
const recipientGrantSchema = z.object({
  s: z.string(),
  c: z.string(),
  /** The consent the site held for the recipient when sending: personalization, measurement. */
  p: z.boolean(),
  m: z.boolean(),
  /** When the mail was sent, and when the token expires (ms). */
  t: z.number(),
  e: z.number(),
  /** One token per mail: what its opens are remembered by. */
  n: z.string(),
});
export type RecipientGrant = z.infer<typeof recipientGrantSchema>;

export const RECIPIENT_TTL_DAYS_MAX = 90;
const keyFor = (signingKey: string) => `recipient-token:${signingKey}`;

export function issueRecipientToken(grant: Omit<RecipientGrant, "n">, signingKey: string): Promise<string> {
  const n = toBase64Url(crypto.getRandomValues(new Uint8Array(12)));
  return sign(textToBase64Url(JSON.stringify({ ...grant, n })), keyFor(signingKey));
}

export type RecipientCheck = { ok: true; grant: RecipientGrant; expired: boolean } | { ok: false };

/** The token's grant if one of `keys` signed it (expired or not: an expired mail still shows the editor's default). */
export async function checkRecipientToken(token: string, keys: readonly (string | undefined)[], now: number): Promise<RecipientCheck> {
  const json = await verifyJson(
    token,
    keys.map((k) => (k ? keyFor(k) : undefined)),
    1024,
  );
  const grant = recipientGrantSchema.safeParse(json);
  if (!grant.success) return { ok: false };
  return { ok: true, grant: grant.data, expired: !(grant.data.e > now) };
}

/**
 * Whether a fetch of the image is a mail client's privacy proxy rather than a person opening the
 * mail: a proxy's user agent (Gmail's and Yahoo's image proxies say so), a bare `Mozilla/5.0`, or
 * a fetch within a minute of sending, when proxies (Apple Mail Privacy Protection) prefetch every
 * image of a delivered mail and no person has read it yet. Heuristics: proxies publish no contract. Such a fetch is served (the proxy shows its
 * copy to the person later) but never counted as an open.
 */
export const PREFETCH_WINDOW_MS = 60_000;
const PROXY_USER_AGENT = /GoogleImageProxy|ggpht\.com|YahooMailProxy|^Mozilla\/5\.0$/i;

export function prefetchReason(userAgent: string | undefined, sinceSentMs: number): "proxy_user_agent" | "opened_at_send" | null {
  if (PROXY_USER_AGENT.test((userAgent ?? "").trim())) return "proxy_user_agent";
  if (sinceSentMs < PREFETCH_WINDOW_MS) return "opened_at_send";
  return null;
}

/** The editor's first choice for a slot: what a recipient without consent, or with an expired token, is shown. */
export function editorDefault(catalogue: Catalogue, slot: string, now: number): CatalogueItem | null {
  const candidates = catalogue.items.filter(
    (item) =>
      item.slotIds.includes(slot) && (item.startsAt === null || item.startsAt <= now) && (item.endsAt === null || item.endsAt > now),
  );
  return candidates.sort((a, b) => a.defaultRank - b.defaultRank || a.id.localeCompare(b.id))[0] ?? null;
}

/**
 * A content URL as a redirect target: resolved against the worker's own origin (where the demo's
 * relative URLs live), then allowed only on that origin or one of the site's: never an open redirect.
 */
export function redirectTarget(raw: string | undefined, site: Catalogue["site"], ownOrigin: string): string | null {
  if (!raw || !URL.canParse(raw, ownOrigin)) return null;
  const url = new URL(raw, ownOrigin);
  if (!/^https?:$/.test(url.protocol) || url.username || url.password) return null;
  return url.origin === ownOrigin || site.allowedOrigins.includes(url.origin) ? url.href : null;
}

/**
 * The impression or click of an e-mail's decision, as the events route would admit it. Its time
 * is kept within the decision's token lifetime (a day): the reports date events by their decision
 * in any case, and a click a week later still counts once.
 */
export async function emailEvent(
  open: EmailOpen,
  kind: "impression" | "click",
  keys: readonly (string | undefined)[],
  policy: Catalogue["site"]["policy"]["events"],
  now: number,
): Promise<InteractionEvent | null> {
  const check = await checkEventToken(open.eventToken, keys, open.at);
  if (!check.ok) return null;
  const ts = Math.min(now, check.grant.e);
  const event = {
    eventId: `email-${kind}`,
    type: kind,
    decisionId: open.decisionId,
    slot: open.slot,
    contentId: open.contentId,
    ts,
    eventToken: open.eventToken,
  };
  return admitEvent(event, check.grant, policy, 0, false);
}
