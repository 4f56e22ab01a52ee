import { z } from "zod";
import { VISITOR_ID } from "./subject";

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
