import type { Visitor } from "../consent/visitor";
import { ApiError, DependencyError, type FallbackReason } from "../errors";
import type { DecisionEvent } from "../events/schema";
import { EVENT_TOKEN_TTL_MS, type EventGrant, type GrantItem } from "../events/token";
import { assignArms, inHoldout } from "../experiments/assign";
import { matches, type SitePolicy } from "../experiments/policy";
import type { Preview } from "../experiments/preview";
import { driftObservation } from "../inference/drift";
import type { RequestContext, VisitorProfile } from "../inference/encode";
import type { Scorer } from "../inference/model";
import type { ServingModels } from "../models/serving";
import type { Catalogue } from "../store/catalogue";
import { asVariant, candidateFeatures, chooseVariants, type ScoringRow, scoringRows } from "../variants/choose";
import { candidatesFor, fillSlots, fillSlotsWithPolicy, type RankedItem, type SlotRequest } from "./rank";
import type { DecideRequest, DecideResponse, Mode, SlotPolicy } from "./schema";

/** The decision's I/O, passed in so that tests and the benchmark can drive the logic directly. */
export type DecisionDeps = {
  now: Date;
  readProfile: (visitorId: string) => Promise<VisitorProfile | null>;
  /** The served model (live, canary, or a version an experiment arm asks for) and the shadows. */
  loadModels: (forceVersion?: string) => Promise<ServingModels>;
  newDecisionId: () => string;
  /** Uniform in [0, 1): exploration and pins draw from it. */
  random: () => number;
};

export type DecisionOptions = {
  /** The catalogue came from a fallback source: no profile, no model (editor defaults). */
  degraded?: FallbackReason;
  /** Capped content this visitor was shown today. */
  shownToday?: Readonly<Record<string, number>>;
  /** A verified QA preview token's overrides. */
  preview?: Preview | null;
  /** The visitor's language chain for content variants (worker/variants/language.ts). */
  languages?: readonly string[];
};

/**
 * The answer (without its event token), the event to log, what the event token will grant, and
 * the frequency-cap counts to keep for the visitor.
 */
export type Decision = {
  response: Omit<DecideResponse, "eventToken">;
  event: DecisionEvent;
  grant: EventGrant;
  shownToday: Record<string, number>;
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

/** Loads the profile if consent allows; a profile store failure becomes a fallback reason. */
async function profileFor(visitor: Visitor, deps: DecisionDeps): Promise<VisitorProfile | null> {
  if (!visitor.id || !visitor.consent.personalization) return null;
  return deps.readProfile(visitor.id);
}

async function scoresOf(scorer: Scorer, profile: VisitorProfile | null, context: RequestContext, rows: readonly ScoringRow[]) {
  const raw = await scorer.score(profile, context, rows.map(candidateFeatures));
  return rows.map((_, i) => raw[i] ?? 0);
}

async function modelScores(
  deps: DecisionDeps,
  profile: VisitorProfile | null,
  context: RequestContext,
  rows: readonly ScoringRow[],
  forceVersion: string | undefined,
): Promise<{ served: ServingModels; rowScores: number[] }> {
  const served = await deps.loadModels(forceVersion);
  try {
    return { served, rowScores: await scoresOf(served.scorer, profile, context, rows) };
  } catch (cause) {
    throw new DependencyError("model_unavailable", { cause });
  }
}

/** What each shadow model would have shown; a failing shadow is left out, never shown. */
async function shadowFills(
  shadows: readonly Scorer[],
  slots: SlotRequest[],
  items: RankedItem[],
  now: number,
  profile: VisitorProfile | null,
  context: RequestContext,
  candidates: RankedItem[],
): Promise<NonNullable<DecisionEvent["shadow"]>> {
  const fills: NonNullable<DecisionEvent["shadow"]> = [];
  // Each item as the variant the served model chose for it.
  const rows = candidates.map((item) => ({ item, variant: item.variants.find((v) => v.id === item.variant?.id) }));
  for (const shadow of shadows) {
    try {
      const rowScores = await scoresOf(shadow, profile, context, rows);
      const scores = new Map(candidates.map((item, i) => [item.id, rowScores[i] ?? 0]));
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

/** Items no rule forbids: exclusions for everyone, and frequency caps already reached today. */
function allowedItems(items: Catalogue["items"], policy: SitePolicy, shownToday: Readonly<Record<string, number>>) {
  return items.filter(
    (item) =>
      !policy.exclusions.some((rule) => rule.scope === "all" && matches(rule, item)) &&
      !policy.caps.some((cap) => matches(cap, item) && (shownToday[item.id] ?? 0) >= cap.perDay),
  );
}

function filteredBy(item: Catalogue["items"][number], policy: SitePolicy, shownToday: Readonly<Record<string, number>>): string {
  return policy.exclusions.some((rule) => rule.scope === "all" && matches(rule, item))
    ? "exclusion:all"
    : policy.caps.some((cap) => matches(cap, item) && (shownToday[item.id] ?? 0) >= cap.perDay)
      ? "frequency_cap"
      : "schedule";
}

/** A preview may choose the arm of any experiment it names. */
function withPreviewArms(assigned: Awaited<ReturnType<typeof assignArms>>, preview: Preview | null) {
  if (!preview?.arms) return assigned;
  return assigned.map((a) => {
    const forced = a.experiment.arms.find((arm) => arm.name === preview.arms?.[a.experiment.id]);
    return forced ? { ...a, arm: forced } : a;
  });
}

/** The frequency-cap counts after this decision: only capped content is counted. */
function countShown(policy: SitePolicy, items: Catalogue["items"], shownToday: Readonly<Record<string, number>>, shownIds: string[]) {
  const next = { ...shownToday };
  for (const id of shownIds) {
    const item = items.find((i) => i.id === id);
    if (item && policy.caps.some((cap) => matches(cap, item))) next[id] = (next[id] ?? 0) + 1;
  }
  return next;
}

/** The fairness segments' values for this decision (a user attribute only from a profile read with consent). */
function segmentsOf(policy: SitePolicy, context: RequestContext, profile: VisitorProfile | null): Record<string, string> {
  const values: Record<string, string> = {};
  for (const segment of policy.fairness.segments) {
    const value = segment.startsWith("user:")
      ? profile?.attributes[segment.slice("user:".length)]
      : context[segment as "country" | "device" | "language"];
    values[segment] = value === undefined || value === "" ? "(unknown)" : String(value);
  }
  return values;
}

/**
 * One page view's decision. `degraded` is set when the catalogue itself came from a fallback
 * source: then no profile is read and no model runs, and the editor's order serves. The site's
 * policy decides around the model: a visitor in the holdout, or in an experiment arm that serves
 * the editor's order, gets no profile read and no model output; exclusions and frequency caps
 * remove content; exploration and pins draw the model's fill with logged propensities.
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
  const policy = catalogue.site.policy;
  const languages = options.languages ?? [policy.variants.defaultLanguage];
  // A visitor without an id cannot be kept in one group: each request is drawn on its own.
  const assignmentKey = visitor.id ?? decisionId;
  const drawnIntoHoldout = await inHoldout(catalogue.site.id, assignmentKey, policy.holdout.share);
  const holdout = drawnIntoHoldout && !preview;
  const arms = holdout ? [] : withPreviewArms(await assignArms(policy.experiments, assignmentKey), preview);
  const editorArm = arms.find(({ arm }) => arm.policy === "editor-default");
  const forceVersion = preview?.modelVersion ?? arms.find(({ arm }) => arm.modelVersion !== undefined)?.arm.modelVersion;
  const allowed = allowedItems(catalogue.items, policy, shownToday);
  // A preview of one piece of content shows it whatever the rules say.
  const previewed = preview?.content ? catalogue.items.find((item) => item.id === preview.content?.contentId) : undefined;
  let pool = previewed && !allowed.includes(previewed) ? [...allowed, previewed] : allowed;
  const pins = preview?.content
    ? [...policy.pinned.filter((p) => p.slot !== preview.content?.slot), { ...preview.content, share: 1 }]
    : policy.pinned;

  let fallback: FallbackReason | undefined = degraded;
  let profile: VisitorProfile | null = null;
  let scored: Awaited<ReturnType<typeof modelScores>> | null = null;
  let rows: ScoringRow[] = [];
  if (!fallback && !holdout && !editorArm) {
    try {
      profile = await profileFor(visitor, deps);
      if (profile) pool = pool.filter((item) => !policy.exclusions.some((rule) => rule.scope === "profile" && matches(rule, item)));
      rows = scoringRows(candidatesFor(slots, pool, now), languages);
      scored = await modelScores(deps, profile, context, rows, forceVersion);
    } catch (err) {
      if (!(err instanceof DependencyError)) throw err;
      fallback = err.reason;
      profile = null;
    }
  }

  // Every item as one of its approved variants in the visitor's language (or as itself).
  if (!scored) rows = scoringRows(pool, languages);
  const choices = chooseVariants(rows, scored?.rowScores ?? null, policy.variants.coldStart, deps.random);
  const ranked = pool.map((item) => asVariant(item, choices.get(item.id)));
  const candidates = scored ? ranked.filter((item) => choices.has(item.id)) : [];
  const scores = new Map(candidates.map((item) => [item.id, choices.get(item.id)?.score ?? 0]));

  const shadow = scored?.served.shadows.length
    ? await shadowFills(scored.served.shadows, slots, ranked, now, profile, context, candidates)
    : [];

  const mode: Mode = !scored ? "default" : profile ? "personalized" : "contextual";
  const modeReason =
    fallback ??
    (holdout
      ? "holdout"
      : editorArm
        ? `experiment:${editorArm.experiment.id}`
        : !visitor.id
          ? "no_visitor_id"
          : !visitor.consent.personalization
            ? visitor.consent.basis
            : profile
              ? visitor.consent.basis
              : "no_profile");
  const slotPolicy: SlotPolicy = holdout ? "holdout" : scored ? "model" : "editor-default";
  const fills = scored
    ? fillSlotsWithPolicy(slots, ranked, now, scores, { exploration: policy.exploration, pins, random: deps.random })
    : fillSlots(slots, ranked, now, null, holdout ? "holdout" : "default");
  const filled: DecideResponse["slots"] = fills.map((slot) => ({ ...slot, policy: slotPolicy, ...(fallback ? { fallback } : {}) }));
  const label = policy.variants.syntheticLabel;
  const showsSynthetic = filled.some((slot) => slot.items.some((item) => item.variant?.synthetic));

  const response: Decision["response"] = {
    decisionId,
    modelVersion: scored?.served.scorer.version ?? null,
    mode,
    modeReason,
    slots: filled,
    ...(showsSynthetic && label.visible ? { syntheticLabel: label.text } : {}),
    ...(preview
      ? {
          preview: true,
          debug: {
            drawnIntoHoldout,
            assignments: arms.map(({ experiment, arm }) => ({ experiment: experiment.id, arm: arm.name })),
            forcedModelVersion: forceVersion ?? null,
            servedArm: scored?.served.arm ?? null,
            candidates: candidates
              .map((item) => ({ contentId: item.id, score: scores.get(item.id) ?? null }))
              .sort((a, b) => (b.score ?? -1) - (a.score ?? -1)),
            filtered: catalogue.items
              .filter((item) => !pool.includes(item))
              .map((item) => ({
                contentId: item.id,
                by: allowed.includes(item) ? "exclusion:profile" : filteredBy(item, policy, shownToday),
              })),
          },
        }
      : {}),
  };
  const measured = visitor.consent.measurement ? visitor.id : null;
  const bot = context.device === "bot";
  const event: DecisionEvent = {
    type: "decision",
    decisionId,
    siteId: catalogue.site.id,
    ts: now,
    visitorId: measured,
    measurement: visitor.consent.measurement,
    personalization: visitor.consent.personalization,
    bot,
    ...(preview ? { preview: true } : {}),
    mode,
    modeReason,
    modelVersion: response.modelVersion,
    holdout,
    assignments: arms.map(({ experiment, arm }) => ({ experiment: experiment.id, arm: arm.name })),
    segments: segmentsOf(policy, context, profile),
    ...(scored ? { arm: scored.served.arm, drift: driftObservation(scored.served.scorer.manifest, profile, context), shadow } : {}),
    context,
    slots: filled.map((slot) => ({
      slot: slot.slot,
      policy: slot.policy,
      ...(slot.fallback ? { fallback: slot.fallback } : {}),
      items: slot.items.map(({ contentId, rank, score, reason, propensity, variant }) => ({
        contentId,
        rank,
        score,
        reason,
        propensity,
        ...(variant ? { variant } : {}),
      })),
    })),
  };
  const grant: EventGrant = {
    d: decisionId,
    s: catalogue.site.id,
    v: measured,
    m: visitor.consent.measurement,
    p: visitor.consent.personalization,
    mv: response.modelVersion ?? "",
    i: filled.flatMap((slot) =>
      slot.items.map((item): GrantItem => {
        const shown: GrantItem = [slot.slot, item.contentId, slot.policy];
        return item.variant ? [...shown, item.variant.id, item.variant.reason] : shown;
      }),
    ),
    b: bot,
    ...(preview ? { q: true } : {}),
    t: now,
    e: now + EVENT_TOKEN_TTL_MS,
  };
  const shownIds = filled.flatMap((slot) => slot.items.map((item) => item.contentId));
  return { response, event, grant, shownToday: countShown(policy, catalogue.items, shownToday, shownIds) };
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
