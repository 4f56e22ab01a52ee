import { z } from "zod";
import { languageTag } from "../wire/decide";

/**
 * A site's decision policy around the model: the global holdout, exploration, business rules
 * (frequency caps, pinned content, exclusions), experiments and fairness segments. Stored as JSON
 * on the site (`sites.policy`), validated here on write and on read; every field has a default,
 * so `{}` is a valid policy.
 */

const contentMatch = {
  contentIds: z.array(z.string()).default([]),
  categories: z.array(z.string()).default([]),
};

/**
 * A pin or an exclusion may name a micro-segment (`segment:<id>` of the serving model version,
 * worker/inference/segments.ts): it then applies only to visitors the model placed in it, which
 * needs their profile (personalization consent). Without `segment` a rule applies to everyone.
 */
const forSegment = {
  segment: z
    .string()
    .regex(/^segment:[A-Za-z0-9_-]{1,32}$/, "segment:<id>")
    .optional(),
};

export const explorationSchema = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("none") }),
  /** The model's best item with probability 1 − ε, else one drawn uniformly (ε spread over all). */
  z.strictObject({ kind: z.literal("epsilon-greedy"), epsilon: z.number().min(0).max(1) }),
  /** Softmax over scores at `temperature`, every candidate kept at least at `floor` (< 1/n). */
  z.strictObject({ kind: z.literal("softmax"), temperature: z.number().positive(), floor: z.number().min(0).max(0.5).default(0) }),
]);
export type Exploration = z.infer<typeof explorationSchema>;

export const experimentArmSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  weight: z.number().positive(),
  /** Serve this registered model version to the arm (its bytes must be pushed). */
  modelVersion: z.string().optional(),
  /** Or serve the editor's order (a policy-level control). */
  policy: z.enum(["model", "editor-default"]).default("model"),
});

export const experimentSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  status: z.enum(["running", "stopped"]).default("running"),
  /** Changing the salt reshuffles visitors; keep it for the experiment's life. */
  salt: z.string().default(""),
  arms: z.array(experimentArmSchema).min(2).max(8),
});
export type Experiment = z.infer<typeof experimentSchema>;

export const sitePolicySchema = z.strictObject({
  /** Share of visitors who always get editor defaults, to measure personalization against. */
  holdout: z.strictObject({ share: z.number().min(0).max(0.5) }).default({ share: 0.05 }),
  exploration: explorationSchema.default({ kind: "none" }),
  /** At most `perDay` decisions showing matching content per visitor and day. */
  caps: z.array(z.strictObject({ ...contentMatch, perDay: z.number().int().positive() })).default([]),
  /** Content that takes the first position of a slot in a share of decisions. */
  pinned: z.array(z.strictObject({ slot: z.string(), contentId: z.string(), share: z.number().min(0).max(1), ...forSegment })).default([]),
  /** Content that may not be chosen from a profile (`profile`), or at all (`all`); with `segment`, only for its visitors. */
  exclusions: z.array(z.strictObject({ ...contentMatch, scope: z.enum(["profile", "all"]), ...forSegment })).default([]),
  experiments: z.array(experimentSchema).max(10).default([]),
  /** Terms that reject a content variant at import (worker/variants/schema.ts). */
  blocklist: z.array(z.string().min(1).max(100)).max(1000).default([]),
  fairness: z
    .object({
      /**
       * `country`, `device`, `language` (the visitor's first), `user:<attribute>` from the visitor's
       * profile, or `segment`: the micro-segment the serving model placed the visitor in.
       */
      segments: z.array(z.string().regex(/^(country|device|language|segment|user:[A-Za-z0-9_]+)$/)).default(["country", "device"]),
      /** A segment's CTR or exposure share further than this ratio from another's is flagged. */
      disparityRatio: z.number().min(1).default(1.25),
    })
    .default({ segments: ["country", "device"], disparityRatio: 1.25 }),
  /**
   * What the events of one decision can count (worker/events/admit.ts). Impressions, clicks and
   * dismissals count once per shown item; conversions up to `maxConversionsPerDecision` (more are
   * accepted and not counted), each worth at most `maxConversionValue` (more is a 400).
   */
  events: z
    .object({
      maxConversionsPerDecision: z.number().int().min(0).max(100).default(5),
      maxConversionValue: z.number().positive().max(1e9).default(10_000),
    })
    .default({ maxConversionsPerDecision: 5, maxConversionValue: 10_000 }),
  /** Content variants (worker/variants/): language fallback, the synthetic label, cold start. */
  variants: z
    .object({
      /** The last language tried before an item's own (base) content; see worker/variants/language.ts. */
      defaultLanguage: languageTag.default("en"),
      /**
       * Synthetic variants always carry `data-synthetic="true"`; with `visible`, also a label
       * with this text, as transparency rules for generated media expect.
       */
      syntheticLabel: z
        .strictObject({ visible: z.boolean().default(true), text: z.string().min(1).max(60).default("AI-generated") })
        .default({
          visible: true,
          text: "AI-generated",
        }),
      /**
       * A variant with fewer than `minImpressions` impressions is new: with probability `share`
       * an item shows one of its new variants (uniformly) instead of the model's best, so that
       * new variants get enough traffic to be judged. Logged as `cold-start` with its propensity.
       */
      coldStart: z
        .strictObject({ share: z.number().min(0).max(1).default(0.2), minImpressions: z.number().int().min(0).default(200) })
        .default({
          share: 0.2,
          minImpressions: 200,
        }),
    })
    .default({
      defaultLanguage: "en",
      syntheticLabel: { visible: true, text: "AI-generated" },
      coldStart: { share: 0.2, minImpressions: 200 },
    }),
});
export type SitePolicy = z.infer<typeof sitePolicySchema>;

/** A stored policy that no longer parses serves as the defaults rather than failing decisions. */
export function readPolicy(raw: unknown): SitePolicy {
  const parsed = sitePolicySchema.safeParse(raw ?? {});
  return parsed.success ? parsed.data : sitePolicySchema.parse({});
}

export function matches(rule: { contentIds: string[]; categories: string[] }, item: { id: string; categories: string[] }): boolean {
  return rule.contentIds.includes(item.id) || item.categories.some((c) => rule.categories.includes(c));
}
