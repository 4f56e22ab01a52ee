import { type Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { evaluateConsent, storageAllowed } from "../../consent/evaluate";
import { decodeTcf } from "../../consent/tcf";
import { ApiError } from "../../lib/errors";
import { type Catalogue, loadCatalogue } from "../../site/catalogue";
import { revocationStatus } from "../../store/revocations";
import { consentLedger } from "../../store/schema";
import { subjectHash } from "../../store/subject";
import { type ConsentStateResponse, consentRequestSchema } from "../../wire/consent";
import type { AppEnv } from "../app-env";
import { clearVisitorId, readVisitorId, setBannerChoice, setVisitorId } from "../cookies";
import { keepAliveOf } from "../keep-alive";
import { siteCors } from "../middleware/site-cors";
import { resolveVisitor, TCF_COOKIE } from "../visitor";
import { jsonBody, limitBody, parseWith } from "./validate";

async function siteOf(c: Context<AppEnv>, siteId: string | undefined): Promise<Catalogue["site"]> {
  if (!siteId) throw new ApiError(400, "invalid_request", "site: required", "site");
  const { catalogue } = await loadCatalogue(c.var.db, c.env.CONFIG, siteId, c.var.config.configTtlMs, keepAliveOf(c));
  if (!catalogue) throw new ApiError(404, "unknown_site", `no site "${siteId}"`, "site");
  c.set("site", catalogue.site);
  return catalogue.site;
}

export const consentRoutes = new Hono<AppEnv>()
  .use(siteCors)
  /** The visitor's current consent state and pseudonymous id (to quote to the privacy team). */
  .get("/", async (c) => {
    const site = await siteOf(c, c.req.query("site"));
    const { visitor } = await resolveVisitor(c, site);
    c.header("Cache-Control", "private, no-store");
    return c.json({ site: site.id, visitorId: visitor.id, ...visitor.consent } satisfies ConsentStateResponse);
  })
  /**
   * The site banner's choice: stored in a signed first-party cookie and in the consent ledger.
   * The visitor gets an id only once storage is allowed; a withdrawal removes the id cookie.
   * A revoked id is never used again, for a row or for the cookie: the browser that still holds
   * it is a new visitor, who gets a fresh id only if this choice allows storage (consent given
   * again); otherwise its id cookie is removed and nothing is written.
   */
  .post("/", limitBody(4096), async (c) => {
    const request = parseWith(consentRequestSchema, await jsonBody(c));
    const site = await siteOf(c, request.site);
    const cookieId = await readVisitorId(c);
    const revocation = cookieId ? await revocationStatus(c.var.db, cookieId) : "clear";
    // Without an answer from D1 nobody can tell whether writing under this id is allowed.
    if (revocation === "unknown") throw new ApiError(503, "consent_unavailable", "consent cannot be recorded right now; try again");
    const existingId = revocation === "revoked" ? null : cookieId;
    const tcString = getCookie(c, TCF_COOKIE);
    const tcf = tcString ? decodeTcf(tcString, site.tcfVendorId) : null;
    const gpc = c.req.header("sec-gpc") === "1";
    const state = evaluateConsent({
      consentModel: site.consentModel,
      honorGpc: site.honorGpc,
      banner: request.purposes,
      tcf,
      gpc,
      revocation: "clear",
    });
    await setBannerChoice(c, { site: site.id, ...request.purposes, policyVersion: request.policyVersion ?? null, at: Date.now() });

    let visitorId: string | null = existingId;
    if (storageAllowed(state)) {
      visitorId ??= crypto.randomUUID();
      await setVisitorId(c, visitorId);
    } else {
      clearVisitorId(c);
    }
    if (visitorId) {
      // Proof of consent: one row per signal that spoke, never an IP address or user agent.
      const hash = await subjectHash(visitorId);
      const row = { siteId: site.id, subjectId: visitorId, subjectHash: hash };
      await c.var.db.insert(consentLedger).values([
        { ...row, ...request.purposes, source: "banner" as const, policyVersion: request.policyVersion ?? null },
        ...(tcf
          ? [
              {
                ...row,
                personalization: tcf.personalization,
                measurement: tcf.measurement,
                source: "tcf" as const,
                policyVersion: tcf.policyVersion,
              },
            ]
          : []),
        ...(gpc && site.honorGpc
          ? [{ ...row, personalization: false, measurement: state.measurement, source: "gpc" as const, policyVersion: null }]
          : []),
      ]);
    }
    c.header("Cache-Control", "private, no-store");
    return c.json({ site: site.id, visitorId: storageAllowed(state) ? visitorId : null, ...state } satisfies ConsentStateResponse);
  });
