import type { ProfileFeatures, StoredProfile } from "./features";

/** What a visitor's object (./state.ts) stores and answers, for its callers' types. */
export type Tombstone = { at: number };
export type Caps = { day: string; shown: Record<string, number> };
export type Link = { subject: string; at: number };
export type LinkedDevice = { visitorId: string; at: number };
/** An e-mail slot as first opened: the decision's content and token, and whether its impression and click were logged. */
export type EmailOpen = {
  decisionId: string;
  slot: string;
  contentId: string;
  image: string;
  href: string;
  eventToken: string;
  at: number;
  impression: boolean;
  click: boolean;
};
export type EmailMark = "impression" | "click";
/** A site's row: the profile and the ids of the events applied to it, written together. */
export type SiteRow = { profile: StoredProfile; applied: string[] };

/** What a decision asks for: the profile only with personalization consent, caps only where storage is allowed. */
export type DecisionAsk = { site: string; profile: boolean; capsDay: string | null };
export type DecisionState = {
  revoked: boolean;
  profile: ProfileFeatures | null;
  shownToday: Record<string, number>;
  /** A device linked to a customer: the customer's subject, whose object holds the profile and caps. */
  linkedTo?: string;
};

/** How an imported profile meets one the object already holds. */
export type ImportMode = "replace" | "merge";

export type VisitorExport = {
  revokedAt: number | null;
  profiles: Record<string, StoredProfile>;
  caps: Record<string, Caps>;
  appliedEvents: number;
  /** The customer this device is linked to, and a customer's linked devices. */
  linkedTo: string | null;
  linkedDevices: LinkedDevice[];
  emailOpens: EmailOpen[];
};
