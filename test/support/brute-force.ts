import type { GroupTotals } from "../../worker/experiments/report";
import { meanDifference, proportionDifference } from "../../worker/experiments/stats";
import { scoreBin } from "../../worker/log/metrics";
import type { LogRow } from "../../worker/wire/log";

/**
 * The reports computed the slow way, straight from the log's rows (one per kind and id), as the
 * reports did when D1 kept raw rows: each decision joined with its events, visitors counted
 * distinct per day. The tests compare the reports, which read daily aggregates, with these.
 */
type Totals = GroupTotals;

const outcomesByDecision = (rows: readonly LogRow[]) => {
  const byDecision = new Map<string, LogRow[]>();
  for (const row of rows)
    if (row.kind === "interaction") byDecision.set(row.decision_id, [...(byDecision.get(row.decision_id) ?? []), row]);
  return byDecision;
};

/** Per group: identified visitors (per day) and the outcomes of their decisions' events, with per-visitor squares. */
export function visitorTotals(rows: readonly LogRow[], groupsOf: (decision: LogRow) => string[]): Map<string, Totals> {
  const events = outcomesByDecision(rows);
  const perVisitor = new Map<string, { group: string; impressions: number; clicks: number; conversions: number; value: number }>();
  for (const d of rows) {
    if (d.kind !== "decision" || !d.visitor_id) continue;
    for (const group of groupsOf(d)) {
      const key = `${group}\u0000${d.day}\u0000${d.visitor_id}`;
      const v = perVisitor.get(key) ?? { group, impressions: 0, clicks: 0, conversions: 0, value: 0 };
      for (const e of events.get(d.id) ?? []) {
        if (e.event === "impression") v.impressions++;
        if (e.event === "click") v.clicks++;
        if (e.event === "conversion") {
          v.conversions++;
          v.value += e.value ?? 0;
        }
      }
      perVisitor.set(key, v);
    }
  }
  const totals = new Map<string, Totals>();
  for (const v of perVisitor.values()) {
    const t = totals.get(v.group) ?? {
      visitors: 0,
      impressions: 0,
      clicks: 0,
      converters: 0,
      conversions: 0,
      conversionsSq: 0,
      value: 0,
      valueSq: 0,
    };
    t.visitors++;
    t.impressions += v.impressions;
    t.clicks += v.clicks;
    t.converters += v.conversions > 0 ? 1 : 0;
    t.conversions += v.conversions;
    t.conversionsSq += v.conversions ** 2;
    t.value += v.value;
    t.valueSq += v.value ** 2;
    totals.set(v.group, t);
  }
  return totals;
}

/** The uplift report's numbers from totals per group, as worker/experiments/report.ts derives them. */
export function upliftOf(treated: Totals | undefined, holdout: Totals | undefined) {
  const n = (t: Totals | undefined, k: keyof Totals) => t?.[k] ?? 0;
  const moments = (t: Totals | undefined, what: "conversions" | "value") => ({
    n: n(t, "visitors"),
    sum: n(t, what),
    sumSquares: n(t, what === "conversions" ? "conversionsSq" : "valueSq"),
  });
  return {
    ctr: proportionDifference(n(treated, "clicks"), n(treated, "impressions"), n(holdout, "clicks"), n(holdout, "impressions")),
    conversionRate: proportionDifference(
      n(treated, "converters"),
      n(treated, "visitors"),
      n(holdout, "converters"),
      n(holdout, "visitors"),
    ),
    conversionsPerVisitor: meanDifference(moments(treated, "conversions"), moments(holdout, "conversions")),
    valuePerVisitor: meanDifference(moments(treated, "value"), moments(holdout, "value")),
  };
}

export const holdoutGroups = (d: LogRow) => [d.holdout ? "holdout" : "treated"];
export const armGroups = (experiment: string) => (d: LogRow) =>
  (d.assignments ?? []).filter((a) => a.experiment === experiment).map((a) => a.arm);

/** Performance per slot × content × policy × model version. */
export function performanceOf(rows: readonly LogRow[]) {
  const byKey = new Map<
    string,
    {
      slot: string;
      contentId: string;
      policy: string;
      modelVersion: string;
      impressions: number;
      clicks: number;
      conversions: number;
      value: number;
    }
  >();
  for (const e of rows) {
    if (e.kind !== "interaction") continue;
    const key = [e.slot, e.content_id, e.policy, e.model_version].join("\u0000");
    const r = byKey.get(key) ?? {
      slot: e.slot ?? "",
      contentId: e.content_id ?? "",
      policy: e.policy ?? "",
      modelVersion: e.model_version ?? "",
      impressions: 0,
      clicks: 0,
      conversions: 0,
      value: 0,
    };
    if (e.event === "impression") r.impressions++;
    if (e.event === "click") r.clicks++;
    if (e.event === "conversion") {
      r.conversions++;
      r.value += e.value ?? 0;
    }
    byKey.set(key, r);
  }
  return [...byKey.values()];
}

/** Fairness: per segment value, decisions and their events' impressions and clicks. */
export function segmentsOf(rows: readonly LogRow[], segment: string) {
  const events = outcomesByDecision(rows);
  const byValue = new Map<string, { decisions: number; impressions: number; clicks: number }>();
  for (const d of rows) {
    const value = d.kind === "decision" ? d.segments?.[segment] : undefined;
    if (value === undefined) continue;
    const r = byValue.get(value) ?? { decisions: 0, impressions: 0, clicks: 0 };
    r.decisions++;
    for (const e of events.get(d.id) ?? []) {
      if (e.event === "impression") r.impressions++;
      if (e.event === "click") r.clicks++;
    }
    byValue.set(value, r);
  }
  return byValue;
}

/** Items shown in model slots, and those drawn by exploration. */
export function explorationOf(rows: readonly LogRow[]) {
  const items = rows.flatMap((d) => (d.slots ?? []).filter((s) => s.policy === "model").flatMap((s) => s.items));
  return { modelItems: items.length, explored: items.filter((i) => i.reason === "explore").length };
}

/** Decisions per day, and per slot and policy. */
export function decisionsByDayOf(rows: readonly LogRow[]) {
  const days = new Map<string, { decisions: number; slots: Map<string, number> }>();
  for (const d of rows) {
    if (d.kind !== "decision") continue;
    const day = days.get(d.day) ?? { decisions: 0, slots: new Map() };
    day.decisions++;
    for (const s of d.slots ?? []) day.slots.set(`${s.slot}\u0000${s.policy}`, (day.slots.get(`${s.slot}\u0000${s.policy}`) ?? 0) + 1);
    days.set(d.day, day);
  }
  return [...days].map(([day, { decisions, slots }]) => ({
    day,
    decisions,
    slots: [...slots].map(([key, n]) => {
      const [slot = "", policy = ""] = key.split("\u0000");
      return { slot, policy, decisions: n };
    }),
  }));
}

/** Per model version: decisions per arm, and the scores of the items its decisions showed. */
export function modelsOf(rows: readonly LogRow[], version: string) {
  const decisions = rows.filter((d) => d.kind === "decision" && d.model_version === version);
  const perArm: Record<string, number> = {};
  for (const d of decisions) perArm[d.arm ?? "live"] = (perArm[d.arm ?? "live"] ?? 0) + 1;
  const scores = decisions.flatMap((d) => (d.slots ?? []).flatMap((s) => s.items.flatMap((i) => (i.score === null ? [] : [i.score]))));
  const sorted = [...scores].sort((a, b) => a - b);
  const quantile = (q: number) => {
    const pos = (sorted.length - 1) * q;
    const lo = Math.floor(pos);
    return (sorted[lo] ?? 0) + ((sorted[Math.ceil(pos)] ?? 0) - (sorted[lo] ?? 0)) * (pos - lo);
  };
  const bins = new Map<number, number>();
  for (const s of sorted) bins.set(scoreBin(s), (bins.get(scoreBin(s)) ?? 0) + 1);
  return {
    perArm,
    scores: {
      count: sorted.length,
      mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
      p10: quantile(0.1),
      p50: quantile(0.5),
      p90: quantile(0.9),
      bins: [...bins].sort(([a], [b]) => a - b).map(([bin, count]) => ({ bin, count })),
    },
  };
}
