import { raw } from "hono/html";
import { BarChart } from "./bars";
import { type ChartSpec, formatValue, PALETTE } from "./chart-spec";
import { DataTable } from "./table";

export type { ChartSpec };

/** JSON inside a script element: `<` escaped, so that no value can close the element. */
const jsonBlock = (value: unknown) => raw(JSON.stringify(value).replace(/</g, "\\u003c"));

const xLabel = (spec: ChartSpec, i: number) =>
  spec.kind === "bars" ? (spec.labels?.[i] ?? "") : new Date((spec.x[i] ?? 0) * 1000).toISOString().slice(0, 10);

/**
 * A daily series with a single day is not a line: drawn as a time series it is a dot at the
 * edge of an empty axis, and its interval band has no width. It is drawn as bars instead.
 */
function asDrawn(spec: ChartSpec): ChartSpec {
  if (spec.kind !== "time" || spec.x.length !== 1) return spec;
  return { ...spec, kind: "bars", labels: spec.x.map((_, i) => xLabel(spec, i)) };
}

/**
 * A chart from its spec: bars as server-side SVG (./bars.tsx), daily series drawn in the browser by
 * `console.client.js` with uPlot from the `<script type="application/json">` block (never
 * executed, so the CSP needs no exception). Series carry their colours. The same numbers render as
 * a table under the chart, for screen readers and for anyone without JavaScript.
 */
export function Chart(props: { id: string; title: string; spec: ChartSpec; note?: string }) {
  const { id, title } = props;
  const spec = asDrawn(props.spec);
  const colors = spec.series.map((_, i) => PALETTE[i % PALETTE.length] ?? "#000000");
  const empty = spec.series.length === 0 || spec.x.length === 0;
  return (
    <figure class="chart" data-chart={id} data-kind={spec.kind} data-drawn={!empty && spec.kind === "bars" ? "true" : undefined}>
      <figcaption id={`${id}-title`}>{title}</figcaption>
      {empty ? (
        <p class="plot note">No data in this period.</p>
      ) : spec.kind === "bars" ? (
        <BarChart spec={spec} colors={colors} title={title} />
      ) : (
        <>
          <div class="plot" role="img" aria-labelledby={`${id}-title`} />
          <script type="application/json" id={`${id}-data`}>
            {jsonBlock({ ...spec, colors })}
          </script>
        </>
      )}
      {empty ? null : <Legend spec={spec} colors={colors} />}
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
                `${formatValue(spec.unit, s.values[i])}${s.low && s.high ? ` [${formatValue(spec.unit, s.low[i])}, ${formatValue(spec.unit, s.high[i])}]` : ""}`,
            })),
          ]}
        />
      </details>
    </figure>
  );
}

/**
 * Bars get their series' names beside their colours (uPlot draws its own live legend for daily
 * series); an interval's band or whisker is named once.
 */
function Legend(props: { spec: ChartSpec; colors: string[] }) {
  const intervals = props.spec.series.some((s) => s.low && s.high);
  const swatches = props.spec.kind === "bars" ? props.spec.series : [];
  if (!swatches.length && !intervals) return null;
  return (
    <ul class="legend">
      {swatches.map((s, i) => (
        <li>
          <svg viewBox="0 0 12 12" class="swatch" aria-hidden="true">
            <rect width="12" height="12" fill={props.colors[i]} />
          </svg>
          {s.label}
        </li>
      ))}
      {intervals ? <li class="note">{props.spec.kind === "bars" ? "whiskers" : "shaded bands"}: 95% intervals</li> : null}
    </ul>
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
