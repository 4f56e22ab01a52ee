import type { DecisionEvent, InteractionEvent } from "../../worker/wire/events";

/** Simulated traffic as the edge would queue it: a decision per visitor and page, then its events. */
export type TrafficGroup = {
  visitors: number;
  ctr: number;
  /** Chance that a click converts, and the conversion's value. */
  cvr?: number;
  value?: number;
  holdout?: boolean;
  assignments?: { experiment: string; arm: string }[];
  segments?: Record<string, string>;
  /** Page views per visitor (default 1). */
  pages?: number;
};

export function simulatedTraffic(
  site: string,
  groups: readonly TrafficGroup[],
  random: () => number,
  options: { impressionsPerVisitor?: number; ts?: number; visitorIds?: readonly string[] } = {},
): (DecisionEvent | InteractionEvent)[] {
  const ts = options.ts ?? Date.now();
  const impressions = options.impressionsPerVisitor ?? 4;
  const events: (DecisionEvent | InteractionEvent)[] = [];
  let n = 0;
  for (const group of groups) {
    for (let v = 0; v < group.visitors; v++) {
      const visitorId = options.visitorIds?.[n] ?? `sim-${site}-${n}`;
      n++;
      for (let page = 0; page < (group.pages ?? 1); page++) {
        const decisionId = crypto.randomUUID();
        const policy = group.holdout ? "holdout" : "model";
        const groupsOf = { holdout: group.holdout ?? false, assignments: group.assignments ?? [], segments: group.segments ?? {} };
        events.push({
          type: "decision",
          decisionId,
          siteId: site,
          ts,
          visitorId,
          measurement: true,
          personalization: true,
          bot: false,
          mode: group.holdout ? "default" : "personalized",
          modelVersion: group.holdout ? null : "sim",
          ...groupsOf,
          context: {},
          slots: [{ slot: "recommendations", policy, items: [{ contentId: "item", rank: 1, score: null, propensity: 1 }] }],
        });
        for (let k = 0; k < impressions; k++) {
          const common = {
            type: "interaction" as const,
            siteId: site,
            visitorId,
            measurement: true,
            personalization: true,
            bot: false,
            decisionId,
            slot: "recommendations",
            contentId: `item-${k}`,
            policy,
            modelVersion: group.holdout ? "" : "sim",
            ts,
            // The decision's time and groups, as the edge copies them from its token.
            decidedAt: ts,
            ...groupsOf,
          };
          events.push({ ...common, eventId: `${decisionId}-i${k}`, kind: "impression" });
          if (random() >= group.ctr) continue;
          events.push({ ...common, eventId: `${decisionId}-c${k}`, kind: "click" });
          if (random() < (group.cvr ?? 0))
            events.push({ ...common, eventId: `${decisionId}-v${k}`, kind: "conversion", value: group.value ?? 10 });
        }
      }
    }
  }
  return events;
}
