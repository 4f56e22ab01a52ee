import { z } from "zod";
import { channels } from "./channels";
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

/** A time in ms since the epoch that a `Date` can hold (±8.64e15); anything else is not a time. */
export const epochMs = z.number().int().min(0).max(8.64e15);

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
  /** When it happened, by the client's clock: within the decision's token lifetime (worker/events/admit.ts). */
  ts: epochMs,
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

/**
 * How a /v1/events request's events reach the queue. `queued` (the default): before the 202, so
 * that an acknowledged event is never lost (for a server or an app that sends again on an error).
 * `batched`: after the 202, in one message with the other events the isolate takes within
 * LOG_BATCH_WINDOW_MS (worker/events/outbox.ts); what the script tag asks for, since
 * `navigator.sendBeacon` never reads the answer. Clicks reach the visitor's object before the 202
 * either way.
 */
export const eventsQuerySchema = z.object({ delivery: z.enum(["queued", "batched"]).default("queued") });

/** Consent and traffic facts that the edge attaches from the verified token. */
const provenance = {
  siteId: z.string(),
  visitorId: z.string().nullable(),
  measurement: z.boolean(),
  personalization: z.boolean(),
  bot: z.boolean(),
};

export const assignmentSchema = z.object({ experiment: z.string(), arm: z.string() });

/** The request context the model saw: coarse, never an IP address, user agent or URL. */
export const decisionContextSchema = z.object({
  country: z.string().optional(),
  hour: z.number().optional(),
  dayOfWeek: z.number().optional(),
  device: z.string().optional(),
  pageCategory: z.string().optional(),
  referrerClass: z.string().optional(),
  language: z.string().optional(),
});

/** A filled slot as logged: shown items with score and the probability each was chosen with. */
export const decisionSlotSchema = z.object({
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
});

/** What a shadow model would have shown. */
export const shadowFillSchema = z.object({
  version: z.string(),
  slots: z.array(z.object({ slot: z.string(), items: z.array(z.string()) })),
});

/** The decision as logged. */
export const decisionEventSchema = z.object({
  type: z.literal("decision"),
  decisionId: z.string(),
  ts: epochMs,
  ...provenance,
  mode: z.enum(modes),
  modeReason: z.string().optional(),
  /** Where it was shown (absent from messages queued before channels were recorded). */
  channel: z.enum(channels).optional(),
  /** QA preview traffic: never written to the reports or profiles. */
  preview: z.boolean().optional(),
  modelVersion: z.string().nullable(),
  holdout: z.boolean().optional(),
  assignments: z.array(assignmentSchema).optional(),
  segments: z.record(z.string(), z.string()).optional(),
  /** Set when a model served: its arm, the drift bins of its features, what shadows would show. */
  arm: z.enum(["live", "canary", "forced"]).optional(),
  drift: z.record(z.string(), z.string()).optional(),
  shadow: z.array(shadowFillSchema).optional(),
  context: decisionContextSchema,
  slots: z.array(decisionSlotSchema),
});
export type DecisionEvent = z.infer<typeof decisionEventSchema>;

/** An impression, click, conversion or dismissal, verified and enriched at the edge (worker/events/admit.ts). */
export const interactionEventSchema = z.object({
  type: z.literal("interaction"),
  ...provenance,
  preview: z.boolean().optional(),
  /** Derived at the edge from the decision, slot, content and kind (not the client's id), so that replays collapse. */
  eventId: z.string(),
  kind: z.enum(interactionTypes),
  decisionId: z.string(),
  /** Its decision's channel, from the token. */
  channel: z.enum(channels).optional(),
  slot: z.string(),
  contentId: z.string(),
  policy: z.string(),
  modelVersion: z.string(),
  ts: epochMs,
  /**
   * When the decision was made (from its token): roll-ups are dated by it, not by the client's
   * clock. Set by every /v1/events; absent only from messages queued by an earlier version (and
   * from the training pipeline's replayed history), which fall back to `ts`.
   */
  decidedAt: epochMs.optional(),
  /** The site's bound on conversions counted per decision (policy `events.maxConversionsPerDecision`; absent: its default). */
  maxConversions: z.number().int().min(0).optional(),
  value: z.number().optional(),
  currency: z.string().optional(),
  variantId: z.string().optional(),
  variantReason: z.string().optional(),
  /** The decision's groups, from its signed token, so that each event is counted in them without a join. */
  holdout: z.boolean().optional(),
  assignments: z.array(assignmentSchema).optional(),
  segments: z.record(z.string(), z.string()).optional(),
  /** The visitor's object took it before /v1/events answered (worker/visitors/apply.ts): the consumer does not call it again. */
  appliedAtEdge: z.literal(true).optional(),
});
export type InteractionEvent = z.infer<typeof interactionEventSchema>;

/**
 * Why an accepted event is kept out of learning and the reports: a user agent that says it is
 * automated (a crawler, a headless browser), QA preview traffic, or a decision made without
 * measurement consent. A revoked visitor's events are dropped too, but that is known only to the
 * consumer, after the answer.
 */
export const notLearnedReasons = ["automated_user_agent", "qa_preview", "no_measurement_consent"] as const;
export type NotLearnedReason = (typeof notLearnedReasons)[number];

/** The answer to POST /v1/events: how many were queued, and how many of those will count. */
export const eventsAnswerSchema = z.object({
  accepted: z.number().int().min(0),
  forLearning: z.number().int().min(0),
  /** Only the reasons that apply, each with its count. */
  notForLearning: z.partialRecord(z.enum(notLearnedReasons), z.number().int().min(1)),
});
export type EventsAnswer = z.infer<typeof eventsAnswerSchema>;

/**
 * What an outbox message holds at most (worker/events/outbox.ts): one 64 KB queue billing unit,
 * so that a window's events cost one write, read and delete.
 */
export const OUTBOX_MESSAGE_MAX_BYTES = 60_000;

/**
 * Interaction events as queued: the events of one /v1/events request (a queue operation is billed
 * per message and per 64 KB, so a request of 100 events costs one message, not 100;
 * INTERACTIONS_MESSAGE_MAX_BYTES keeps a message under the queue's 128 KB limit, and a request whose
 * events serialize larger travels as several such messages), or the beacons an isolate took within
 * its log window (`?delivery=batched`, worker/events/outbox.ts).
 */
export const INTERACTIONS_MESSAGE_MAX_EVENTS = 1_000;
export const interactionsMessageSchema = z.object({
  type: z.literal("interactions"),
  events: z.array(interactionEventSchema).min(1).max(INTERACTIONS_MESSAGE_MAX_EVENTS),
});
export type InteractionsMessage = z.infer<typeof interactionsMessageSchema>;
export const INTERACTIONS_MESSAGE_MAX_BYTES = 120_000;

/**
 * Decision events an isolate answered within its log window (worker/events/outbox.ts), queued as
 * one message: at peak traffic a message per decision would pass the queue's 5,000 messages/s and
 * cost a queue write, read and delete per decision.
 */
export const DECISIONS_MESSAGE_MAX_EVENTS = 1_000;
export const decisionsMessageSchema = z.object({
  type: z.literal("decisions"),
  events: z.array(decisionEventSchema).min(1).max(DECISIONS_MESSAGE_MAX_EVENTS),
});
export type DecisionsMessage = z.infer<typeof decisionsMessageSchema>;

/** Asks the consumer to erase a subject (worker/privacy/erasure.ts). */
export const erasureMessageSchema = z.object({ type: z.literal("erasure"), requestId: z.string() });

/**
 * Scheduled work, fanned out through the queue so that no invocation passes its subrequest limit
 * at any number of sites (worker/site/maintenance.ts): a page of sites after `after` to queue a
 * snapshot refresh for, and one site's refresh.
 */
export const siteSweepMessageSchema = z.object({ type: z.literal("site-sweep"), after: z.string().nullable() });
export const snapshotMessageSchema = z.object({ type: z.literal("snapshot"), siteId: z.string() });
/** One site's feed URL to fetch and import (worker/site/feeds/refresh.ts). */
export const feedMessageSchema = z.object({ type: z.literal("feed"), siteId: z.string() });
/** The raw log's retention, then its erasure pass, as of the cron run's scheduled time (worker/log/maintenance.ts). */
export const logMaintenanceMessageSchema = z.object({ type: z.literal("log-maintenance"), at: epochMs });

export const queueMessageSchema = z.discriminatedUnion("type", [
  decisionEventSchema,
  interactionEventSchema,
  interactionsMessageSchema,
  decisionsMessageSchema,
  erasureMessageSchema,
  siteSweepMessageSchema,
  snapshotMessageSchema,
  feedMessageSchema,
  logMaintenanceMessageSchema,
]);
export type QueueMessage = z.infer<typeof queueMessageSchema>;
