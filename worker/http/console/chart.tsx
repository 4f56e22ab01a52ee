import { raw } from "hono/html";
import { DataTable } from "./table";

/**
 * A chart as data: the page carries it in a `<script type="application/json">` block (never
 * executed, so the CSP needs no exception), and `console.client.js` draws it with uPlot. The same
 * spec renders as a table under the chart, for screen readers and for anyone without JavaScript.
 * Every number in a spec comes from a report function; the browser only draws.
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

/** JSON inside a script element: `<` escaped, so that no value can close the element. */
const jsonBlock = (value: unknown) => raw(JSON.stringify(value).replace(/</g, "\\u003c"));

const format = (unit: ChartSpec["unit"], v: number | null | undefined) =>
  v === null || v === undefined ? "–" : unit === "ratio" ? `${(v * 100).toFixed(2)}%` : v.toLocaleString("en");

const xLabel = (spec: ChartSpec, i: number) =>
  spec.kind === "bars" ? (spec.labels?.[i] ?? "") : new Date((spec.x[i] ?? 0) * 1000).toISOString().slice(0, 10);

export function Chart(props: { id: string; title: string; spec: ChartSpec; note?: string }) {
  const { id, title, spec } = props;
  return (
    <figure class="chart" data-chart={id}>
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <div class="plot" role="img" aria-labelledby={`${id}-title`} />
      <script type="application/json" id={`${id}-data`}>
        {jsonBlock(spec)}
      </script>
      {props.note ? <p class="note">{props.note}</p> : null}
      <details>
        <summary>Data table: {title}</summary>
        <DataTable
          rows={spec.x.map((_, i) => i)}
          columns={[
            { header: spec.kind === "time" ? "day" : "value", rowHeader: true, cell: (i) => xLabel(spec, i) },
            ...spec.series.map((s) => ({
              header: s.label,
              cell: (i: number) =>
                `${format(spec.unit, s.values[i])}${s.low && s.high ? ` [${format(spec.unit, s.low[i])}, ${format(spec.unit, s.high[i])}]` : ""}`,
            })),
          ]}
        />
      </details>
    </figure>
  );
}

export const pct = (v: number | null | undefined, digits = 2) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(digits)}%`);
export const num = (v: number | null | undefined) => (v === null || v === undefined ? "–" : v.toLocaleString("en"));
export const interval = (i: { estimate: number; low: number; high: number } | null, digits = 2) =>
  i
    ? `${i.estimate >= 0 ? "+" : ""}${(i.estimate * 100).toFixed(digits)} pp [${(i.low * 100).toFixed(digits)}, ${(i.high * 100).toFixed(digits)}]`
    : "–";

/**
 * A difference with its 95% interval against zero, drawn on the server as SVG attributes (no
 * inline style, which the CSP forbids): where the interval sits tells at a glance whether it
 * excludes no effect.
 */
export function IntervalBar(props: { value: { estimate: number; low: number; high: number } | null; label: string }) {
  const v = props.value;
  if (!v) return <p class="note">Not enough data for an interval yet.</p>;
  const span = Math.max(Math.abs(v.low), Math.abs(v.high), 1e-9) * 1.2;
  const x = (d: number) => 150 + (d / span) * 140;
  return (
    <svg class="interval" viewBox="0 0 300 40" role="img" aria-label={`${props.label}: ${interval(v)}`}>
      <line x1="150" y1="5" x2="150" y2="35" class="zero" />
      <line x1={x(v.low).toFixed(1)} y1="20" x2={x(v.high).toFixed(1)} y2="20" class="range" />
      <circle cx={x(v.estimate).toFixed(1)} cy="20" r="5" class="point" />
    </svg>
  );
}

/** A CTR with its 95% interval, as the tables show it. */
export const ctrCell = (r: { ctr: number | null; ctrLow: number | null; ctrHigh: number | null }) =>
  r.ctr === null ? "–" : `${pct(r.ctr)} [${pct(r.ctrLow)}, ${pct(r.ctrHigh)}]`;

type WithCtr = { ctr: number | null; ctrLow: number | null; ctrHigh: number | null };

/** One CTR bar per row, with its 95% interval. */
export function ctrBars<T extends WithCtr>(rows: readonly T[], labelOf: (row: T) => string): ChartSpec {
  return {
    kind: "bars",
    unit: "ratio",
    x: rows.map((_, i) => i),
    labels: rows.map(labelOf),
    series: [{ label: "CTR", values: rows.map((r) => r.ctr), low: rows.map((r) => r.ctrLow), high: rows.map((r) => r.ctrHigh) }],
  };
}
