import { z } from "zod";
import { modes } from "../decisions/schema";

/**
 * The decision event: what was shown, to whom (pseudonymously, and only with measurement
 * consent), in which context and by which model. The event pipeline consumes it from the queue.
 * No IP address, user agent or URL is ever part of it.
 */
export const decisionEventSchema = z.object({
  type: z.literal("decision"),
  decisionId: z.string(),
  siteId: z.string(),
  ts: z.number().int(),
  visitorId: z.string().nullable(),
  mode: z.enum(modes),
  modelVersion: z.string().nullable(),
  context: z.object({
    country: z.string().optional(),
    hour: z.number().optional(),
    dayOfWeek: z.number().optional(),
    device: z.string().optional(),
    pageCategory: z.string().optional(),
    referrerClass: z.string().optional(),
  }),
  slots: z.array(
    z.object({
      slot: z.string(),
      policy: z.string(),
      fallback: z.string().optional(),
      items: z.array(
        z.object({
          contentId: z.string(),
          rank: z.number().int(),
          score: z.number().nullable(),
          /** Probability with which this item was chosen for this position (1: deterministic). */
          propensity: z.number().min(0).max(1),
        }),
      ),
    }),
  ),
});
export type DecisionEvent = z.infer<typeof decisionEventSchema>;

/** Asks the consumer to erase a subject (worker/privacy/erasure.ts). */
export const erasureMessageSchema = z.object({ type: z.literal("erasure"), requestId: z.string() });

export const queueMessageSchema = z.discriminatedUnion("type", [decisionEventSchema, erasureMessageSchema]);
export type QueueMessage = z.infer<typeof queueMessageSchema>;
