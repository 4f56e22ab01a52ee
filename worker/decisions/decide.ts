import type { Visitor } from "../consent/visitor";
import { ApiError, DependencyError, type FallbackReason } from "../errors";
import type { DecisionEvent } from "../events/schema";
import { EVENT_TOKEN_TTL_MS, type EventGrant } from "../events/token";
import { driftObservation } from "../inference/drift";
import type { RequestContext, VisitorProfile } from "../inference/encode";
import type { Scorer } from "../inference/model";
import type { ServingModels } from "../models/serving";
import type { Catalogue } from "../store/catalogue";
import { candidatesFor, fillSlots, type SlotRequest } from "./rank";
import type { DecideRequest, DecideResponse, Mode } from "./schema";

/** The decision's I/O, passed in so that tests and the benchmark can drive the logic directly. */
export type DecisionDeps = {
  now: Date;
  readProfile: (visitorId: string) => Promise<VisitorProfile | null>;
  /** The served model (live or canary) and the shadow models to score alongside it. */
  loadModels: () => Promise<ServingModels>;
  newDecisionId: () => string;
};

/** The answer (without its event token), the event to log, and what the event token will grant. */
export type Decision = { response: Omit<DecideResponse, "eventToken">; event: DecisionEvent; grant: EventGrant };

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

/** Loads the profile if consent allows; a profile store failure becomes a fallback reason. */
async function profileFor(visitor: Visitor, deps: DecisionDeps): Promise<VisitorProfile | null> {
  if (!visitor.id || !visitor.consent.personalization) return null;
  return deps.readProfile(visitor.id);
}

type Candidate = Catalogue["items"][number];

async function scoresOf(scorer: Scorer, profile: VisitorProfile | null, context: RequestContext, candidates: Candidate[]) {
  const raw = await scorer.score(
    profile,
    context,
    candidates.map((item) => ({ contentId: item.id, attributes: item.attributes })),
  );
  return new Map(candidates.map((item, i) => [item.id, raw[i] ?? 0]));
}

async function modelScores(
  deps: DecisionDeps,
  profile: VisitorProfile | null,
  context: RequestContext,
  candidates: Candidate[],
): Promise<{ served: ServingModels; scores: Map<string, number> }> {
  const served = await deps.loadModels();
  try {
    return { served, scores: await scoresOf(served.scorer, profile, context, candidates) };
  } catch (cause) {
    throw new DependencyError("model_unavailable", { cause });
  }
}

/** What each shadow model would have shown; a failing shadow is left out, never shown. */
async function shadowFills(
  shadows: readonly Scorer[],
  slots: SlotRequest[],
  items: Candidate[],
  now: number,
  profile: VisitorProfile | null,
  context: RequestContext,
  candidates: Candidate[],
): Promise<NonNullable<DecisionEvent["shadow"]>> {
  const fills: NonNullable<DecisionEvent["shadow"]> = [];
  for (const shadow of shadows) {
    try {
      const scores = await scoresOf(shadow, profile, context, candidates);
      const filled = fillSlots(slots, items, now, scores);
      fills.push({
        version: shadow.version,
        slots: filled.map((slot) => ({ slot: slot.slot, items: slot.items.map((i) => i.contentId) })),
      });
    } catch {
      // Shadows are observation only.
    }
  }
  return fills;
}

/**
 * One page view's decision. `degraded` is set when the catalogue itself came from a fallback
 * source: then no profile is read and no model runs, and the editor's order serves.
 */
export async function decide(
  request: DecideRequest,
  catalogue: Catalogue,
  visitor: Visitor,
  context: RequestContext,
  deps: DecisionDeps,
  degraded?: FallbackReason,
): Promise<Decision> {
  const slots = resolveSlots(request, catalogue);
  const now = deps.now.getTime();
  const candidates = candidatesFor(slots, catalogue.items, now);

  let fallback: FallbackReason | undefined = degraded;
  let profile: VisitorProfile | null = null;
  let scored: Awaited<ReturnType<typeof modelScores>> | null = null;
  if (!fallback) {
    try {
      profile = await profileFor(visitor, deps);
      scored = await modelScores(deps, profile, context, candidates);
    } catch (err) {
      if (!(err instanceof DependencyError)) throw err;
      fallback = err.reason;
      profile = null;
    }
  }

  const shadow = scored?.served.shadows.length
    ? await shadowFills(scored.served.shadows, slots, catalogue.items, now, profile, context, candidates)
    : [];

  const mode: Mode = !scored ? "default" : profile ? "personalized" : "contextual";
  const modeReason =
    fallback ??
    (!visitor.id
      ? "no_visitor_id"
      : !visitor.consent.personalization
        ? visitor.consent.basis
        : profile
          ? visitor.consent.basis
          : "no_profile");
  const policy = scored ? "model" : "editor-default";
  const filled = fillSlots(slots, catalogue.items, now, scored?.scores ?? null).map((slot) => ({
    ...slot,
    policy,
    ...(fallback ? { fallback } : {}),
  })) as DecideResponse["slots"];

  const response: Decision["response"] = {
    decisionId: deps.newDecisionId(),
    modelVersion: scored?.served.scorer.version ?? null,
    mode,
    modeReason,
    slots: filled,
  };
  const measured = visitor.consent.measurement ? visitor.id : null;
  const bot = context.device === "bot";
  const event: DecisionEvent = {
    type: "decision",
    decisionId: response.decisionId,
    siteId: catalogue.site.id,
    ts: now,
    visitorId: measured,
    measurement: visitor.consent.measurement,
    personalization: visitor.consent.personalization,
    bot,
    mode,
    modelVersion: response.modelVersion,
    ...(scored ? { arm: scored.served.arm, drift: driftObservation(scored.served.scorer.manifest, profile, context), shadow } : {}),
    context,
    slots: filled.map((slot) => ({
      slot: slot.slot,
      policy: slot.policy,
      ...(slot.fallback ? { fallback: slot.fallback } : {}),
      items: slot.items.map(({ contentId, rank, score }) => ({ contentId, rank, score, propensity: 1 })),
    })),
  };
  const grant: EventGrant = {
    d: response.decisionId,
    s: catalogue.site.id,
    v: measured,
    m: visitor.consent.measurement,
    p: visitor.consent.personalization,
    mv: response.modelVersion ?? "",
    i: filled.flatMap((slot) => slot.items.map((item): [string, string, string] => [slot.slot, item.contentId, slot.policy])),
    b: bot,
    e: now + EVENT_TOKEN_TTL_MS,
  };
  return { response, event, grant };
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
