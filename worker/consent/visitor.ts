import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../app-env";
import type { Catalogue } from "../store/catalogue";
import { revocationStatus } from "../store/revocations";
import { readBannerChoice, readVisitorId } from "./cookies";
import { type ConsentState, evaluateConsent } from "./evaluate";
import { decodeTcf } from "./tcf";

/**
 * Who is asking, as far as the decision path may know: a pseudonymous id (or none) and what
 * consent allows. The decision path reads a profile only when `personalization` is true.
 */
export type Visitor = { id: string | null; consent: ConsentState };

export const TCF_COOKIE = "euconsent-v2";
/** The IAB name for a TC string passed on a URL; the tag sends the CMP's own string with it. */
export const TCF_PARAM = "gdpr_consent";

/** Gathers every consent signal of the request and evaluates them for this site. */
export async function resolveVisitor(c: Context<AppEnv>, site: Catalogue["site"]): Promise<Visitor> {
  const id = await readVisitorId(c);
  const banner = await readBannerChoice(c, site.id);
  // The CMP's string in the page is the current one: it wins over a cookie, which some CMPs never set.
  const tcString = c.req.query(TCF_PARAM) || getCookie(c, TCF_COOKIE);
  const consent = evaluateConsent({
    consentModel: site.consentModel,
    honorGpc: site.honorGpc,
    banner,
    tcf: tcString ? decodeTcf(tcString, site.tcfVendorId) : null,
    gpc: c.req.header("sec-gpc") === "1",
    revocation: id ? await revocationStatus(c.var.db, id) : "clear",
  });
  return { id, consent };
}
