import { z } from "zod";
import { decideRequestSchema } from "./decide";

/** Where a decision was shown: a page's tag or API call, the edge-rewritten page, a server, an app, an e-mail. */
export const channels = ["web", "edge", "server", "app", "email"] as const;
export type Channel = (typeof channels)[number];

/**
 * What servers and apps send with an API key (docs/channels.md): who the decision is for, and the
 * consent the site holds for that person, since no cookie or banner speaks for them.
 */
export const apiKeyScopeSchema = z.enum(["decide", "events"]);

export const apiKeyInputSchema = z.object({
  name: z.string().min(1).max(100),
  scopes: z.array(apiKeyScopeSchema).min(1).max(2),
});

/** A customer id as the site knows it (an account id, an e-mail address): hashed at the edge, never stored. */
export const customerIdSchema = z.string().min(1).max(256);

/** A visitor as a server names one: the signed visitor id (the `ep_vid` cookie's value), or the site's customer id. */
export const callerSchema = z.union([
  z.object({ visitorToken: z.string().min(1).max(512) }).strict(),
  z.object({ customerId: customerIdSchema }).strict(),
]);

/**
 * The consent the site holds for this person, per purpose. Absent: none is assumed, so no profile
 * is read or written and the decision is not measured.
 */
export const heldConsentSchema = z.object({ personalization: z.boolean(), measurement: z.boolean() }).strict();

export const serverDecideRequestSchema = decideRequestSchema.extend({
  visitor: callerSchema,
  consent: heldConsentSchema.optional(),
  /** Where the server shows the decision: on its own pages or in an app. */
  channel: z.enum(["server", "app"]).default("server"),
});
export type ServerDecideRequest = z.infer<typeof serverDecideRequestSchema>;

/** A device signs in: its signed visitor id becomes linked to the customer's profile. */
export const linkRequestSchema = z.object({
  site: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  visitorToken: z.string().min(1).max(512),
  customerId: customerIdSchema,
  consent: heldConsentSchema,
});

/** The privacy team's requests by customer id (the site's id, hashed with its key to find the subject). */
export const customerSubjectRequestSchema = z.object({
  site: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  customerId: customerIdSchema,
  reason: z.string().max(500).optional(),
});

/** Recipient tokens for an e-mail send, one per recipient, in order (worker/channels/email.ts). */
export const recipientTokensRequestSchema = z.object({
  site: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  /** When the mail goes out (default: now): a fetch of its images within a minute of it is a proxy's prefetch. */
  sentAt: z.number().int().min(0).max(8.64e15).optional(),
  ttlDays: z.number().int().min(1).max(90).default(30),
  recipients: z
    .array(z.object({ customerId: customerIdSchema, consent: heldConsentSchema }).strict())
    .min(1)
    .max(500),
});

/** A link token for the customer who just signed in (the site's server asks, with an API key). */
export const linkTokenRequestSchema = z.object({ site: linkRequestSchema.shape.site, customerId: customerIdSchema });

/** A signed-in page links its own browser (its cookies name the visitor and their consent). */
export const browserLinkRequestSchema = z.object({ site: linkRequestSchema.shape.site, linkToken: z.string().min(1).max(1024) });
