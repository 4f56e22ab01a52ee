/**
 * A chart as data: every number in a spec comes from a report function; the page carries it and
 * the browser (or the server, for bars) only draws it. Colours are the Okabe–Ito palette, whose
 * colours stay apart for readers with the common colour-vision deficiencies (Okabe and Ito, 2008);
 * its yellow is left out because it is unreadable on white.
 */
export type Series = { label: string; values: (number | null)[]; low?: (number | null)[]; high?: (number | null)[] };
export type ChartSpec = {
  /** `time`: x in seconds since the epoch (days); `bars`: one bar group per label. */
  kind: "time" | "bars";
  /** `ratio` values are shown as percentages. */
  unit: "ratio" | "count";
  x: number[];
  labels?: string[];
  series: Series[];
};

export const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"] as const;

export const formatValue = (unit: ChartSpec["unit"], v: number | null | undefined) =>
  v === null || v === undefined ? "–" : unit === "ratio" ? `${(v * 100).toFixed(2)}%` : v.toLocaleString("en");

/** A round upper bound and a tick step for [0, max]: 1, 2, 2.5 or 5 × 10^k. */
export function niceScale(max: number, ticks = 5): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  return { top: Math.ceil(max / step - 1e-9) * step, step };
}

/** Tick labels with as many decimals as the step needs (a 2.5% step shows one decimal, 20% none). */
export function tickLabel(unit: ChartSpec["unit"], value: number, step: number): string {
  const scaled = unit === "ratio" ? value * 100 : value;
  const scaledStep = unit === "ratio" ? step * 100 : step;
  const decimals = Math.max(0, Math.min(4, -Math.floor(Math.log10(scaledStep) + 1e-9)));
  const text = scaled.toFixed(scaledStep % 1 === 0 ? 0 : decimals);
  return unit === "ratio" ? `${text}%` : Number(text).toLocaleString("en");
}
