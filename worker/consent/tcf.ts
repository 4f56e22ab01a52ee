import { TCString } from "@iabtechlabtcf/core";

/**
 * IAB TCF v2.2 signals from the `euconsent-v2` string, decoded with IAB's own library. The
 * decoder does not judge validity, so this module does: a string that does not decode, predates
 * policy version 4 (TCF v2.2) or is not service-specific counts as no consent at all.
 *
 * Which consents count: the site runs this engine as its own first-party service, so its purposes
 * are read from the publisher segment (`publisherConsents`). A site that has registered the engine
 * as a vendor configures `tcf_vendor_id`; then that vendor's consent and the vendor-level purpose
 * consents (`purposeConsents`) are required as well.
 */
export type TcfSignal = {
  valid: boolean;
  /** Purposes 1, 5 and 6: store on the device, build and use a personalised content profile. */
  personalization: boolean;
  /** Purposes 1 and 8: use the id to measure content performance. */
  measurement: boolean;
  policyVersion: string | null;
};

const INVALID: TcfSignal = { valid: false, personalization: false, measurement: false, policyVersion: null };
const MAX_TC_STRING = 4096;

export function decodeTcf(tcString: string, vendorId: number | null): TcfSignal {
  if (tcString.length > MAX_TC_STRING) return INVALID;
  let model: ReturnType<typeof TCString.decode>;
  try {
    model = TCString.decode(tcString);
  } catch {
    return INVALID;
  }
  const policyVersion = Number(model.policyVersion);
  if (Number(model.version) !== 2 || !(policyVersion >= 4) || !model.isServiceSpecific) return INVALID;
  const granted = (purpose: number) =>
    model.publisherConsents.has(purpose) &&
    (vendorId === null || (model.vendorConsents.has(vendorId) && model.purposeConsents.has(purpose)));
  return {
    valid: true,
    personalization: granted(1) && granted(5) && granted(6),
    measurement: granted(1) && granted(8),
    policyVersion: `tcf-${policyVersion}`,
  };
}
