import type { Visitor } from "../consent/evaluate";
import type { EventGrant } from "../events/token";
import type { Preview } from "../experiments/preview";
import type { RequestContext } from "../inference/encode";
import { ApiError, type FallbackReason } from "../lib/errors";
import type { Catalogue } from "../site/catalogue";
import type { DecideRequest, DecideResponse } from "../wire/decide";
import type { DecisionEvent } from "../wire/events";
import { assign } from "./assignment";
import type { DecisionDeps } from "./deps";
import { fill } from "./fill";
import { cappedAmong, filteredOut, poolOf, type ShownToday } from "./pool";
import type { SlotRequest } from "./rank";
import { type DecisionRecord, eventOf, grantOf, responseOf } from "./record";
import { score } from "./score";

export type DecisionOptions = {
  /** The catalogue came from a fallback source: no profile, no model (editor defaults). */
  degraded?: FallbackReason;
  /** Capped content this visitor was shown today. */
  shownToday?: ShownToday;
  /**
   * Why the profile could not be read before the decision (the visitor's object failed): the
   * model runs without one and the slots carry the reason.
   */
  profileFallback?: FallbackReason;
  /** A verified QA preview token's overrides. */
  preview?: Preview | null;
  /** The visitor's language chain for content variants (worker/variants/language.ts). */
  languages?: readonly string[];
};

/**
 * The answer (without its event token), the event to log, what the event token will grant, and
 * the capped content it showed (for the visitor's frequency caps).
 */
export type Decision = {
  response: Omit<DecideResponse, "eventToken">;
  event: DecisionEvent;
  grant: EventGrant;
  shownCapped: string[];
};

/** Checks requested slots against the site's: unknown ids and counts beyond the slot's max are 400s. */
export function resolveSlots(request: DecideRequest, catalogue: Catalogue): SlotRequest[] {
  return request.slots.map((wanted, i) => {
    const slot = catalogue.slots.find((s) => s.id === wanted.id);
    if (!slot) throw new ApiError(400, "unknown_slot", `site "${catalogue.site.id}" has no slot "${wanted.id}"`, `slots.${i}.id`);
    const count = wanted.count ?? slot.defaultCount;
    if (count > slot.maxCount) {
      throw new ApiError(
        400,
        "invalid_count",
        `slot "${slot.id}" shows at most ${slot.maxCount} items, ${count} requested`,
        `slots.${i}.count`,
      );
    }
    return { id: slot.id, count };
  });
}

/**
 * One page view's decision, in five phases:
 *  1. assign: the holdout and experiment arms (./assignment.ts);
 *  2. pool: the content that the site's rules allow (./pool.ts);
 *  3. score: the profile, read only with consent, and the model's scores (./score.ts);
 *  4. fill: variants, slots under exploration and pins, shadows (./fill.ts);
 *  5. record: one record from which the answer, the event and the token grant derive (./record.ts).
 * When `degraded` is set (the catalogue came from a fallback source), or the visitor is in the
 * holdout or an editor-order arm, no profile is read, no model runs, and the editor's order serves.
 */
export async function decide(
  request: DecideRequest,
  catalogue: Catalogue,
  visitor: Visitor,
  context: RequestContext,
  deps: DecisionDeps,
  options: DecisionOptions = {},
): Promise<Decision> {
  const { degraded, shownToday = {}, preview = null } = options;
  const slots = resolveSlots(request, catalogue);
  const now = deps.now.getTime();
  const decisionId = deps.newDecisionId();
  const { site } = catalogue;
  const policy = site.policy;

  const assignment = await assign(site.id, policy, visitor.id ?? decisionId, preview);
  const pool = poolOf(catalogue.items, policy, shownToday, preview);
  const scoring = await score(
    {
      visitor,
      context,
      slots,
      pool,
      policy,
      languages: options.languages ?? [policy.variants.defaultLanguage],
      now,
      forceVersion: assignment.forceVersion,
      degraded,
      profileFallback: options.profileFallback,
      editorOrder: assignment.holdout || assignment.editorArm !== undefined,
    },
    deps,
  );
  const filling = await fill(scoring, { slots, policy, holdout: assignment.holdout, preview, now, context }, deps);
  const record: DecisionRecord = {
    decisionId,
    now,
    site,
    visitor,
    context,
    preview,
    assignment,
    scoring,
    filling,
    filtered: preview ? filteredOut(catalogue.items, scoring.pool, policy, shownToday, scoring.segment) : [],
  };

  const shownIds = filling.slots.flatMap((slot) => slot.items.map((item) => item.contentId));
  return {
    response: responseOf(record),
    event: eventOf(record),
    grant: grantOf(record),
    shownCapped: cappedAmong(policy, catalogue.items, shownIds),
  };
}

/** The answer when even the catalogue is unreachable: empty slots, so the page keeps its own content. */
export function catalogueUnavailable(request: DecideRequest, decisionId: string): Decision["response"] {
  return {
    decisionId,
    modelVersion: null,
    mode: "default",
    modeReason: "catalogue_unavailable",
    slots: request.slots.map((s) => ({ slot: s.id, policy: "editor-default", items: [], fallback: "catalogue_unavailable" })),
  };
}
