import type { RevocationStatus } from "../store/revocations";
import type { ConsentModel } from "../wire/consent";
import type { TcfSignal } from "./tcf";

/**
 * Consent, evaluated on every request from every signal present; the most restrictive wins.
 * Plain data in, plain data out: the request adapter (worker/http/visitor.ts) gathers the signals.
 */
export type ConsentSignals = {
  consentModel: ConsentModel;
  honorGpc: boolean;
  /** The site's own banner choice (the signed consent cookie), if any. */
  banner: { personalization: boolean; measurement: boolean } | null;
  tcf: TcfSignal | null;
  gpc: boolean;
  revocation: RevocationStatus;
};

export type ConsentState = {
  personalization: boolean;
  measurement: boolean;
  /** Why personalization is (not) allowed: the deciding signal. */
  basis: string;
};

/**
 * Who is asking, as far as the decision path may know: a pseudonymous id (or none) and what
 * consent allows. The decision path reads a profile only when `personalization` is true.
 */
export type Visitor = { id: string | null; consent: ConsentState };

type Purpose = "personalization" | "measurement";

function allows(purpose: Purpose, s: ConsentSignals): { allowed: boolean; basis: string } {
  if (s.revocation !== "clear") return { allowed: false, basis: s.revocation === "revoked" ? "revoked" : "revocation_unknown" };
  if (purpose === "personalization" && s.gpc && s.honorGpc) return { allowed: false, basis: "gpc" };
  if (s.tcf && !s.tcf.valid) return { allowed: false, basis: "tcf_invalid" };
  if (s.tcf && !s.tcf[purpose]) return { allowed: false, basis: "tcf_denied" };
  if (s.banner && !s.banner[purpose]) return { allowed: false, basis: "banner_denied" };
  if (s.banner?.[purpose]) return { allowed: true, basis: "banner_granted" };
  if (s.tcf?.[purpose]) return { allowed: true, basis: "tcf_granted" };
  if (s.consentModel === "opt-out") return { allowed: true, basis: "opt-out_site" };
  return { allowed: false, basis: "opt-in_without_consent" };
}

export function evaluateConsent(signals: ConsentSignals): ConsentState {
  const personalization = allows("personalization", signals);
  return {
    personalization: personalization.allowed,
    measurement: allows("measurement", signals).allowed,
    basis: personalization.basis,
  };
}

/** A pseudonymous id may be stored on the device only for a purpose that is allowed. */
export const storageAllowed = (state: ConsentState) => state.personalization || state.measurement;
