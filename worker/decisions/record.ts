import type { Visitor } from "../consent/evaluate";
import { EVENT_TOKEN_TTL_MS, type EventGrant, type GrantItem } from "../events/token";
import type { Preview } from "../experiments/preview";
import { driftObservation } from "../inference/drift";
import type { RequestContext } from "../inference/encode";
import type { Catalogue } from "../site/catalogue";
import type { SitePolicy } from "../site/policy";
import type { DecideResponse, Mode } from "../wire/decide";
import type { DecisionEvent } from "../wire/events";
import type { Assignment } from "./assignment";
import type { Filling } from "./fill";
import type { filteredOut } from "./pool";
import type { Scoring } from "./score";

/**
 * Phase 5 of a decision: everything it did, in one record. The answer, the logged event and
 * the event token's grant are each derived from this record, so they cannot disagree.
 */
export type DecisionRecord = {
  decisionId: string;
  now: number;
  site: Catalogue["site"];
  visitor: Visitor;
  context: RequestContext;
  preview: Preview | null;
  assignment: Assignment;
  scoring: Scoring;
  filling: Filling;
  /** For a preview's trace: what the rules removed. */
  filtered: ReturnType<typeof filteredOut>;
};

const modeOf = ({ scoring }: DecisionRecord): Mode => (!scoring.scored ? "default" : scoring.profile ? "personalized" : "contextual");

/** Why this mode: the first of these that holds. */
function modeReasonOf({ scoring, assignment, visitor }: DecisionRecord): string {
  if (scoring.fallback) return scoring.fallback;
  if (assignment.holdout) return "holdout";
  if (assignment.editorArm) return `experiment:${assignment.editorArm.experiment.id}`;
  if (!visitor.id) return "no_visitor_id";
  if (!visitor.consent.personalization || scoring.profile) return visitor.consent.basis;
  return "no_profile";
}

const modelVersionOf = ({ scoring }: DecisionRecord) => scoring.scored?.served.scorer.version ?? null;
const assignmentsOf = ({ assignment }: DecisionRecord) =>
  assignment.arms.map(({ experiment, arm }) => ({ experiment: experiment.id, arm: arm.name }));
/** Measurement consent decides whether events about this decision may name the visitor. */
const measuredId = ({ visitor }: DecisionRecord) => (visitor.consent.measurement ? visitor.id : null);
const isBot = ({ context }: DecisionRecord) => context.device === "bot";

/**
 * The decision's groups for the reports: the fairness segments' values (a user attribute only from
 * a profile read with consent) and, whenever the model placed the visitor, their micro-segment
 * (`segment`: its id), so that the fairness, experiment and variant reports can split by it.
 */
function segmentsOf(policy: SitePolicy, context: RequestContext, scoring: Scoring): Record<string, string> {
  const values: Record<string, string> = {};
  for (const segment of policy.fairness.segments) {
    const value =
      segment === "segment"
        ? scoring.segment?.slice("segment:".length)
        : segment.startsWith("user:")
          ? scoring.profile?.attributes[segment.slice("user:".length)]
          : context[segment as "country" | "device" | "language"];
    values[segment] = value === undefined || value === "" ? "(unknown)" : String(value);
  }
  if (scoring.segment) values.segment = scoring.segment.slice("segment:".length);
  return values;
}

const hasGroups = (record: DecisionRecord) => record.site.policy.fairness.segments.length > 0 || record.scoring.segment !== null;

/** A QA preview's trace of the decision. */
function debugOf(record: DecisionRecord): NonNullable<DecideResponse["debug"]> {
  const { assignment, scoring, filling } = record;
  return {
    drawnIntoHoldout: assignment.drawnIntoHoldout,
    assignments: assignmentsOf(record),
    forcedModelVersion: assignment.forceVersion ?? null,
    servedArm: scoring.scored?.served.arm ?? null,
    candidates: filling.candidates
      .map((item) => ({ contentId: item.id, score: filling.scores.get(item.id) ?? null }))
      .sort((a, b) => (b.score ?? -1) - (a.score ?? -1)),
    filtered: record.filtered,
  };
}

export function responseOf(record: DecisionRecord): Omit<DecideResponse, "eventToken"> {
  const label = record.site.policy.variants.syntheticLabel;
  const showsSynthetic = record.filling.slots.some((slot) => slot.items.some((item) => item.variant?.synthetic));
  return {
    decisionId: record.decisionId,
    modelVersion: modelVersionOf(record),
    mode: modeOf(record),
    modeReason: modeReasonOf(record),
    slots: record.filling.slots,
    ...(showsSynthetic && label.visible ? { syntheticLabel: label.text } : {}),
    ...(record.preview ? { preview: true, debug: debugOf(record) } : {}),
  };
}

export function eventOf(record: DecisionRecord): DecisionEvent {
  const { scoring, filling, visitor, context } = record;
  const scored = scoring.scored;
  return {
    type: "decision",
    decisionId: record.decisionId,
    siteId: record.site.id,
    ts: record.now,
    visitorId: measuredId(record),
    measurement: visitor.consent.measurement,
    personalization: visitor.consent.personalization,
    bot: isBot(record),
    ...(record.preview ? { preview: true } : {}),
    mode: modeOf(record),
    modeReason: modeReasonOf(record),
    modelVersion: modelVersionOf(record),
    holdout: record.assignment.holdout,
    assignments: assignmentsOf(record),
    segments: segmentsOf(record.site.policy, context, scoring),
    ...(scored
      ? { arm: scored.served.arm, drift: driftObservation(scored.served.scorer.manifest, scoring.profile, context), shadow: filling.shadow }
      : {}),
    context,
    slots: filling.slots.map((slot) => ({
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
}

export function grantOf(record: DecisionRecord): EventGrant {
  const { visitor } = record;
  return {
    d: record.decisionId,
    s: record.site.id,
    v: measuredId(record),
    m: visitor.consent.measurement,
    p: visitor.consent.personalization,
    mv: modelVersionOf(record) ?? "",
    i: record.filling.slots.flatMap((slot) =>
      slot.items.map((item): GrantItem => {
        const shown: GrantItem = [slot.slot, item.contentId, slot.policy];
        return item.variant ? [...shown, item.variant.id, item.variant.reason] : shown;
      }),
    ),
    b: isBot(record),
    ...(record.preview ? { q: true } : {}),
    ...(record.assignment.holdout ? { h: true } : {}),
    ...(record.assignment.arms.length
      ? { x: assignmentsOf(record).map(({ experiment, arm }): [string, string] => [experiment, arm]) }
      : {}),
    ...(hasGroups(record) ? { g: segmentsOf(record.site.policy, record.context, record.scoring) } : {}),
    t: record.now,
    e: record.now + EVENT_TOKEN_TTL_MS,
  };
}
