import { z } from "zod";
import { decidedItemSchema, itemReasons, modes } from "./decide";

/**
 * Everything that travels as an event: what the browser reports (`POST /v1/events`) and what the
 * edge puts on the queue. No IP address, user agent or URL is ever part of either.
 */

/** What a visitor did with shown content. */
export const interactionTypes = ["impression", "click", "conversion", "dismiss"] as const;
export type InteractionType = (typeof interactionTypes)[number];

export const MAX_EVENTS_PER_REQUEST = 100;
export const MAX_EVENTS_BODY_BYTES = 256 * 1024;

/** What the script tag (or any client) reports, with the decision's `eventToken`. */
export const clientEventSchema = z.object({
  eventId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only"),
  type: z.enum(interactionTypes),
  decisionId: z.string().uuid(),
  slot: z.string().min(1).max(64),
  contentId: z.string().min(1).max(128),
  ts: z.number().int().positive(),
  value: z.number().finite().min(0).max(1e9).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "an ISO 4217 code such as EUR")
    .optional(),
  eventToken: z.string().min(1).max(8192),
});
export type ClientEvent = z.infer<typeof clientEventSchema>;

export const eventsRequestSchema = z.object({
  events: z.array(clientEventSchema).min(1).max(MAX_EVENTS_PER_REQUEST),
});

/** Consent and traffic facts that the edge attaches from the verified token. */
const provenance = {
  siteId: z.string(),
  visitorId: z.string().nullable(),
  measurement: z.boolean(),
  personalization: z.boolean(),
  bot: z.boolean(),
};

/** The decision as logged: shown items with score and the probability each was chosen with. */
export const decisionEventSchema = z.object({
  type: z.literal("decision"),
  decisionId: z.string(),
  ts: z.number().int(),
  ...provenance,
  mode: z.enum(modes),
  modeReason: z.string().optional(),
  /** QA preview traffic: never written to the reports or profiles. */
  preview: z.boolean().optional(),
  modelVersion: z.string().nullable(),
  holdout: z.boolean().optional(),
  assignments: z.array(z.object({ experiment: z.string(), arm: z.string() })).optional(),
  segments: z.record(z.string(), z.string()).optional(),
  /** Set when a model served: its arm, the drift bins of its features, what shadows would show. */
  arm: z.enum(["live", "canary", "forced"]).optional(),
  drift: z.record(z.string(), z.string()).optional(),
  shadow: z.array(z.object({ version: z.string(), slots: z.array(z.object({ slot: z.string(), items: z.array(z.string()) })) })).optional(),
  context: z.object({
    country: z.string().optional(),
    hour: z.number().optional(),
    dayOfWeek: z.number().optional(),
    device: z.string().optional(),
    pageCategory: z.string().optional(),
    referrerClass: z.string().optional(),
    language: z.string().optional(),
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
          reason: z.enum(itemReasons).optional(),
          /** Probability with which this item was chosen for this position (1: deterministic). */
          propensity: z.number().min(0).max(1),
          /** The variant shown and its own propensity (the joint one is the product). */
          variant: decidedItemSchema.shape.variant,
        }),
      ),
    }),
  ),
});
export type DecisionEvent = z.infer<typeof decisionEventSchema>;

/** An impression, click, conversion or dismissal, verified and enriched at the edge. */
export const interactionEventSchema = z.object({
  type: z.literal("interaction"),
  ...provenance,
  preview: z.boolean().optional(),
  eventId: z.string(),
  kind: z.enum(interactionTypes),
  decisionId: z.string(),
  slot: z.string(),
  contentId: z.string(),
  policy: z.string(),
  modelVersion: z.string(),
  ts: z.number().int(),
  value: z.number().optional(),
  currency: z.string().optional(),
  variantId: z.string().optional(),
  variantReason: z.string().optional(),
});
export type InteractionEvent = z.infer<typeof interactionEventSchema>;

/** Asks the consumer to erase a subject (worker/privacy/erasure.ts). */
export const erasureMessageSchema = z.object({ type: z.literal("erasure"), requestId: z.string() });

export const queueMessageSchema = z.discriminatedUnion("type", [decisionEventSchema, interactionEventSchema, erasureMessageSchema]);
export type QueueMessage = z.infer<typeof queueMessageSchema>;
