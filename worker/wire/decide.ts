import { z } from "zod";
import { fallbackReasons } from "../lib/errors";

/**
 * Request and response of the decision API, shared by the worker, the script tag, scripts and
 * tests. Limits are deliberate: a page has few slots and a slot shows few items.
 */
/** A BCP 47 language tag such as `en`, `fr` or `pt-BR`. */
export const languageTag = z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "a BCP 47 language tag such as en or pt-BR");

/** Why a variant was shown: the model's choice, a cold-start draw, or the item's own content. */
export const variantReasons = ["model", "cold-start", "default"] as const;
export type VariantReason = (typeof variantReasons)[number];

export const MAX_SLOTS_PER_REQUEST = 20;
export const MAX_ITEMS_PER_SLOT = 50;
export const MAX_DECIDE_BODY_BYTES = 16 * 1024;

const identifier = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, _ and - only");

const httpUrl = z
  .string()
  .max(2048)
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), "must be an absolute http(s) URL");

export const decideRequestSchema = z.object({
  site: identifier,
  page: z.object({
    url: httpUrl,
    referrer: z.union([httpUrl, z.literal("")]).optional(),
    category: z.string().max(64).optional(),
    /** The page's own language (`<html lang>`): first in the variants' language chain. */
    language: languageTag.optional(),
  }),
  slots: z
    .array(
      z.object({
        id: identifier,
        count: z.number().int().min(1).max(MAX_ITEMS_PER_SLOT).optional(),
      }),
    )
    .min(1)
    .max(MAX_SLOTS_PER_REQUEST)
    .refine((slots) => new Set(slots.map((s) => s.id)).size === slots.length, "each slot may be requested once"),
});
export type DecideRequest = z.infer<typeof decideRequestSchema>;

export const modes = ["personalized", "contextual", "default"] as const;
export type Mode = (typeof modes)[number];

/**
 * Why an item is shown: the model's choice, an exploration draw, a business rule (a pin), the
 * editor's order, or the editor's order because the visitor is in the holdout.
 */
export const itemReasons = ["model", "explore", "rule", "default", "holdout"] as const;
export type ItemReason = (typeof itemReasons)[number];

export const slotPolicies = ["model", "editor-default", "holdout"] as const;
export type SlotPolicy = (typeof slotPolicies)[number];

export const decidedItemSchema = z.object({
  contentId: z.string(),
  rank: z.number().int().min(1),
  score: z.number().nullable(),
  reason: z.enum(itemReasons),
  /** The probability with which this item was chosen for this position (1: deterministic). */
  propensity: z.number().min(0).max(1),
  title: z.string(),
  body: z.string().optional(),
  imageUrl: z.string().optional(),
  href: z.string().optional(),
  cta: z.string().optional(),
  /** The content variant shown (worker/variants/choose.ts); absent when the item has none. */
  variant: z
    .object({
      id: z.string(),
      language: z.string(),
      components: z.record(z.string(), z.string()),
      synthetic: z.boolean(),
      reason: z.enum(variantReasons),
      propensity: z.number().min(0).max(1),
    })
    .optional(),
});
export type DecidedItem = z.infer<typeof decidedItemSchema>;

export const decidedSlotSchema = z.object({
  slot: z.string(),
  policy: z.enum(slotPolicies),
  items: z.array(decidedItemSchema),
  fallback: z.enum(fallbackReasons).optional(),
});
export type DecidedSlot = z.infer<typeof decidedSlotSchema>;

export const decideResponseSchema = z.object({
  decisionId: z.string(),
  modelVersion: z.string().nullable(),
  mode: z.enum(modes),
  /** Why this mode: consent and data available, or the fallback that forced it. */
  modeReason: z.string(),
  slots: z.array(decidedSlotSchema),
  /** The site's visible label for synthetic variants, when one is shown and the site wants it. */
  syntheticLabel: z.string().optional(),
  /** Set only for a QA preview token's bearer (worker/experiments/preview.ts): the decision's trace. */
  preview: z.literal(true).optional(),
  debug: z
    .object({
      drawnIntoHoldout: z.boolean(),
      assignments: z.array(z.object({ experiment: z.string(), arm: z.string() })),
      forcedModelVersion: z.string().nullable(),
      servedArm: z.string().nullable(),
      candidates: z.array(z.object({ contentId: z.string(), score: z.number().nullable() })),
      filtered: z.array(z.object({ contentId: z.string(), by: z.string() })),
    })
    .optional(),
  /** Sent back with every event about this decision (worker/events/token.ts). */
  eventToken: z.string(),
});
export type DecideResponse = z.infer<typeof decideResponseSchema>;

/** The query form of `GET /v1/decide`, as the tag sends it (`decideRequestFromQuery` reads it into a request). */
export const decideQuerySchema = z.object({
  site: identifier,
  slots: z.string().describe("comma-separated slot ids, each with an optional `:count`, e.g. hero,recommendations:3"),
  url: httpUrl.describe("the page's URL"),
  ref: z.string().optional().describe("the page's referrer"),
  category: z.string().max(64).optional(),
  lang: languageTag.optional().describe("the page's language (<html lang>)"),
});

/** `GET /v1/why?decisionId=`: one decision of the visitor's own. */
export const whyQuerySchema = z.object({ decisionId: z.string().uuid() });

/**
 * The query form for the script tag: `?site=demo&slots=hero,recommendations:3&url=..&ref=..&category=..&lang=..`.
 * Parsed into the same shape as the POST body so that one schema validates both.
 */
export function decideRequestFromQuery(query: Record<string, string>): unknown {
  const slots = (query.slots ?? "")
    .split(",")
    .filter(Boolean)
    .map((part) => {
      const [id, count] = part.split(":");
      return count === undefined ? { id } : { id, count: /^\d+$/.test(count) ? Number(count) : count };
    });
  return {
    site: query.site,
    page: {
      url: query.url,
      ...(query.ref !== undefined ? { referrer: query.ref } : {}),
      ...(query.category !== undefined ? { category: query.category } : {}),
      ...(query.lang ? { language: query.lang } : {}),
    },
    slots,
  };
}
