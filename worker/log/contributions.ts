import type { LogRow } from "../wire/log";
import { addBins, type Bins, binLabel, type Counters, type Metric, scoreBin } from "./metrics";

/**
 * What one log row adds to the daily aggregates (worker/log/metrics.ts), apart from the per-visitor
 * counts of its groups, which depend on what the visitor did before (worker/log/plan.ts).
 */
export type Contribution = { metric: Metric; key: readonly (string | number)[]; counters: Partial<Counters>; bins?: Bins };

/** The groups a row counts in per visitor: the holdout or treated group, and each experiment arm. */
export function groupsOf(row: LogRow): { metric: "holdout" | "experiment"; key: string[] }[] {
  return [
    { metric: "holdout", key: [row.holdout ? "1" : "0"] },
    ...(row.assignments ?? []).map(({ experiment, arm }) => ({ metric: "experiment" as const, key: [experiment, arm] })),
  ];
}

function shadowContributions(row: LogRow): Contribution[] {
  const shown = new Map((row.slots ?? []).map((s) => [s.slot, s.items.map((i) => i.contentId)]));
  return (row.shadow ?? []).flatMap((fill) =>
    fill.slots.flatMap((shadowSlot) => {
      const items = shown.get(shadowSlot.slot) ?? [];
      if (items.length === 0) return [];
      const overlap = shadowSlot.items.filter((id) => items.includes(id)).length / items.length;
      return [
        {
          metric: "shadow" as const,
          key: [fill.version],
          counters: { count: 1, hits: items[0] === shadowSlot.items[0] ? 1 : 0, sum: overlap },
        },
      ];
    }),
  );
}

/** The scores of the items a decision showed, as one histogram of the version's (worker/log/metrics.ts `histograms`). */
function scoreContributions(row: LogRow, version: string): Contribution[] {
  const scores = (row.slots ?? []).flatMap((s) => s.items.flatMap((i) => (i.score === null ? [] : [i.score])));
  if (scores.length === 0) return [];
  const bins = scores.reduce((into, score) => addBins(into, { [binLabel([scoreBin(score)])]: 1 }), {} as Bins);
  const sum = scores.reduce((n, score) => n + score, 0);
  return [{ metric: "score", key: [version], counters: { count: scores.length, sum }, bins }];
}

/** The bin of each feature of the decision, as one histogram of the version's. */
function driftContributions(row: LogRow, version: string): Contribution[] {
  const observed = Object.entries(row.drift ?? {});
  if (observed.length === 0) return [];
  const bins = Object.fromEntries(observed.map(([feature, bin]) => [binLabel([feature, bin]), 1]));
  return [{ metric: "drift", key: [version], counters: { count: 1 }, bins }];
}

function modelContributions(row: LogRow, version: string): Contribution[] {
  return [
    { metric: "model", key: [version, row.arm ?? ""], counters: { count: 1 } },
    ...scoreContributions(row, version),
    ...shadowContributions(row),
    ...driftContributions(row, version),
  ];
}

/** Rows logged before the channel was recorded count under this key. */
export const UNRECORDED_CHANNEL = "unrecorded";
const channelOf = (row: LogRow) => row.channel ?? UNRECORDED_CHANNEL;

function decisionContributions(row: LogRow): Contribution[] {
  const slots = row.slots ?? [];
  const modelItems = slots.filter((s) => s.policy === "model").flatMap((s) => s.items);
  return [
    { metric: "decisions", key: [], counters: { count: 1 } },
    { metric: "channel", key: [channelOf(row)], counters: { count: 1 } },
    ...slots.map((s) => ({ metric: "slot" as const, key: [s.slot, s.policy], counters: { count: 1 } })),
    ...Object.entries(row.segments ?? {}).map(([segment, value]) => ({
      metric: "segment" as const,
      key: [segment, value],
      counters: { count: 1 },
    })),
    ...(modelItems.length
      ? [
          {
            metric: "explore" as const,
            key: [],
            counters: { count: modelItems.length, hits: modelItems.filter((i) => i.reason === "explore").length },
          },
        ]
      : []),
    ...(row.model_version ? modelContributions(row, row.model_version) : []),
  ];
}

/** An interaction's outcome counters: one of impressions, clicks, conversions (with its value) or dismissals. */
export function outcomeOf(row: LogRow): Partial<Counters> {
  switch (row.event) {
    case "impression":
      return { impressions: 1 };
    case "click":
      return { clicks: 1 };
    case "conversion":
      return { conversions: 1, value: row.value ?? 0 };
    case "dismiss":
      return { dismissals: 1 };
    default:
      return {};
  }
}

function interactionContributions(row: LogRow): Contribution[] {
  const outcome = outcomeOf(row);
  const { impressions = 0, clicks = 0, conversions = 0 } = outcome;
  const segments = Object.entries(row.segments ?? {});
  const variant = row.variant_id
    ? [
        {
          metric: "variant" as const,
          key: [row.content_id ?? "", row.variant_id],
          counters: { impressions, clicks, conversions, hits: row.event === "impression" && row.variant_reason === "cold-start" ? 1 : 0 },
        },
        ...segments.map(([segment, value]) => ({
          metric: "variant_segment" as const,
          key: [row.content_id ?? "", row.variant_id ?? "", segment, value],
          counters: { impressions, clicks, conversions },
        })),
      ]
    : [];
  return [
    { metric: "content", key: [row.slot ?? "", row.content_id ?? "", row.policy ?? "", row.model_version ?? ""], counters: outcome },
    ...segments.map(([segment, value]) => ({ metric: "segment" as const, key: [segment, value], counters: { impressions, clicks } })),
    { metric: "channel", key: [channelOf(row)], counters: outcome },
    ...variant,
  ];
}

export const contributionsOf = (row: LogRow): Contribution[] =>
  row.kind === "decision" ? decisionContributions(row) : interactionContributions(row);
