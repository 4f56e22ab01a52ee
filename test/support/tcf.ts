import { GVL, TCModel, TCString } from "@iabtechlabtcf/core";

/**
 * TC strings made by IAB's own library, from a small vendor list of our own (the real GVL is
 * fetched from IAB's servers, which tests must not need).
 */
const purpose = (id: number) => ({ id, name: `Purpose ${id}`, description: "", illustrations: [] });
export const TEST_VENDOR_ID = 4242;

const vendorList = (tcfPolicyVersion: number) => ({
  gvlSpecificationVersion: 3,
  vendorListVersion: 100,
  tcfPolicyVersion,
  lastUpdated: "2026-11-01T00:00:00Z",
  purposes: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [String(i + 1), purpose(i + 1)])),
  specialPurposes: {},
  features: {},
  specialFeatures: {},
  stacks: {},
  dataCategories: {},
  vendors: {
    [String(TEST_VENDOR_ID)]: {
      id: TEST_VENDOR_ID,
      name: "Edge personalizer (test)",
      purposes: [1, 5, 6, 8],
      legIntPurposes: [],
      flexiblePurposes: [],
      specialPurposes: [],
      features: [],
      specialFeatures: [],
      cookieMaxAgeSeconds: 34_128_000,
      usesCookies: true,
      cookieRefresh: false,
      usesNonCookieAccess: false,
      deviceStorageDisclosureUrl: "https://shop.example/devices.json",
      urls: [{ langId: "en", privacy: "https://shop.example/privacy" }],
    },
  },
});

export function tcString(options: {
  publisherPurposes?: number[];
  purposes?: number[];
  vendorConsent?: boolean;
  policyVersion?: number;
  serviceSpecific?: boolean;
}): string {
  // biome-ignore lint/suspicious/noExplicitAny: the library's constructor takes the vendor list JSON untyped
  const model = new TCModel(new GVL(vendorList(options.policyVersion ?? 5) as any));
  model.cmpId = 10;
  model.cmpVersion = 1;
  model.isServiceSpecific = options.serviceSpecific ?? true;
  model.policyVersion = options.policyVersion ?? 5;
  for (const p of options.publisherPurposes ?? []) model.publisherConsents.set(p);
  for (const p of options.purposes ?? []) model.purposeConsents.set(p);
  if (options.vendorConsent) model.vendorConsents.set(TEST_VENDOR_ID);
  return TCString.encode(model);
}
