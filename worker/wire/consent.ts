import { z } from "zod";

/** How a site asks for consent: nothing profile-based before a grant (`opt-in`), or until an objection (`opt-out`). */
export const consentModels = ["opt-in", "opt-out"] as const;
export type ConsentModel = (typeof consentModels)[number];

/** A visitor id: a random UUIDv4 (122 random bits). */
export const VISITOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const consentRequestSchema = z.object({
  site: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  purposes: z.object({ personalization: z.boolean(), measurement: z.boolean() }),
  policyVersion: z.string().min(1).max(64).optional(),
});
export type ConsentRequest = z.infer<typeof consentRequestSchema>;

export const consentStateSchema = z.object({
  site: z.string(),
  visitorId: z.string().nullable(),
  personalization: z.boolean(),
  measurement: z.boolean(),
  basis: z.string(),
});
export type ConsentStateResponse = z.infer<typeof consentStateSchema>;

export const revocationRequestSchema = z.object({
  subjectId: z.string().regex(VISITOR_ID, "must be a visitor id (UUID v4)"),
  reason: z.string().max(500).optional(),
});

export const privacyRequestStatusSchema = z.object({
  requestId: z.string(),
  kind: z.literal("erasure"),
  status: z.enum(["pending", "completed"]),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
