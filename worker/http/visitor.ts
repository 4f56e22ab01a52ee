import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { evaluateConsent, type Visitor } from "../consent/evaluate";
import { decodeTcf } from "../consent/tcf";
import type { Catalogue } from "../site/catalogue";
import { revocationStatus } from "../store/revocations";
import type { AppEnv } from "./app-env";
import { readBannerChoice, readVisitorId } from "./cookies";

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
