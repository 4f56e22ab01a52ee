import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { type ConsentSignals, evaluateConsent, storageAllowed, type Visitor } from "../consent/evaluate";
import { decodeTcf } from "../consent/tcf";
import { DependencyError } from "../lib/errors";
import type { Catalogue } from "../site/catalogue";
import { readForDecision, visitorStore } from "../visitors/client";
import type { DecisionState } from "../visitors/shapes";
import type { AppEnv } from "./app-env";
import { readBannerChoice, readVisitorId } from "./cookies";

export const TCF_COOKIE = "euconsent-v2";
/** The IAB name for a TC string passed on a URL; the tag sends the CMP's own string with it. */
export const TCF_PARAM = "gdpr_consent";

/** What the visitor's object answered for this request, or that it could not answer. */
export type VisitorReading = Omit<DecisionState, "revoked"> & { unavailable: boolean };

const NOTHING: VisitorReading = { profile: null, shownToday: {}, unavailable: false };

/**
 * Gathers every consent signal of the request and evaluates them for this site, then makes the
 * request's one call to the visitor's Durable Object: the signals are evaluated first with the
 * revocation assumed clear, the object is asked for the profile only if that allows
 * personalization (and for today's caps only where storage is allowed), and its tombstone is
 * applied to the answer. An object that fails or times out leaves consent `revocation_unknown`
 * (no profile, no id in events) and the reading `unavailable`. A visitor without an id makes no
 * call at all. A device linked to a customer is read through the customer's object; the reading
 * names the customer's subject (`linkedTo`), under which the decision is made.
 */
export async function resolveVisitor(
  c: Context<AppEnv>,
  site: Catalogue["site"],
  ask: { profile?: boolean; capsDay?: string | null } = {},
): Promise<{ visitor: Visitor; reading: VisitorReading }> {
  const id = await readVisitorId(c);
  const banner = await readBannerChoice(c, site.id);
  // The CMP's string in the page is the current one: it wins over a cookie, which some CMPs never set.
  const tcString = c.req.query(TCF_PARAM) || getCookie(c, TCF_COOKIE);
  const signals: ConsentWithoutRevocation = {
    consentModel: site.consentModel,
    honorGpc: site.honorGpc,
    banner,
    tcf: tcString ? decodeTcf(tcString, site.tcfVendorId) : null,
    gpc: c.req.header("sec-gpc") === "1",
  };
  return readVisitor(c, site, id, signals, ask);
}

export type ConsentWithoutRevocation = Omit<ConsentSignals, "revocation">;

/**
 * The object call of `resolveVisitor`, for a subject identified by other means (a server's call
 * with an API key names a visitor or a customer, worker/http/server-visitor.ts).
 */
export async function readVisitor(
  c: Context<AppEnv>,
  site: Catalogue["site"],
  id: string | null,
  signals: ConsentWithoutRevocation,
  ask: { profile?: boolean; capsDay?: string | null },
): Promise<{ visitor: Visitor; reading: VisitorReading }> {
  const assumed = evaluateConsent({ ...signals, revocation: "clear" });
  if (!id) return { visitor: { id, consent: assumed }, reading: NOTHING };
  try {
    const { revoked, ...state } = await readForDecision(visitorStore(c.env, c.var.config), id, {
      site: site.id,
      profile: Boolean(ask.profile) && assumed.personalization,
      capsDay: ask.capsDay && storageAllowed(assumed) ? ask.capsDay : null,
    });
    const consent = revoked ? evaluateConsent({ ...signals, revocation: "revoked" }) : assumed;
    return { visitor: { id, consent }, reading: { ...state, unavailable: false } };
  } catch (err) {
    if (!(err instanceof DependencyError)) throw err;
    const consent = evaluateConsent({ ...signals, revocation: "unknown" });
    return { visitor: { id, consent }, reading: { ...NOTHING, unavailable: true } };
  }
}
