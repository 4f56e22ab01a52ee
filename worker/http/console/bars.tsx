import { type ChartSpec, formatValue, niceScale, tickLabel } from "./chart-spec";

/**
 * Bar charts drawn on the server as SVG: bars start at zero, each bar's 95% interval is a
 * whisker, the value axis is as wide as its longest label, and long category labels are cut
 * with the full text kept in a tooltip. Presentation attributes only (no style attribute), so
 * the console's CSP needs no exception, and the chart shows without JavaScript.
 */

const WIDTH = 640;
const PLOT_HEIGHT = 200;
const TOP = 12;
const RIGHT = 12;
/** Labels that do not fit under their bar are turned by this angle (degrees). */
const TURN = 40;
/** Average advance of the 12 px sans-serif digits and letters the axis uses, with a margin for wide glyphs. */
const CHAR_PX = 7.4;
const MAX_LABEL_CHARS = 16;

const cut = (label: string) => (label.length > MAX_LABEL_CHARS ? `${label.slice(0, MAX_LABEL_CHARS - 1)}…` : label);
const px = (n: number) => n.toFixed(1);

export function BarChart(props: { spec: ChartSpec; colors: readonly string[]; title: string }) {
  const { spec, colors } = props;
  const groups = spec.x.length;
  const values = spec.series.flatMap((s) => [...s.values, ...(s.high ?? [])]).filter((v): v is number => v !== null && Number.isFinite(v));
  const { top, step } = niceScale(Math.max(0, ...values));
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  const tickTexts = ticks.map((t) => tickLabel(spec.unit, t, step));
  const y = (v: number) => TOP + PLOT_HEIGHT * (1 - v / top);
  const labels = spec.x.map((_, gi) => spec.labels?.[gi] ?? String(spec.x[gi]));
  const labelPx = Math.max(0, ...labels.map((l) => cut(l).length)) * CHAR_PX;
  const axisWidth = Math.ceil(Math.max(...tickTexts.map((t) => t.length)) * CHAR_PX) + 14;
  const turned = labelPx > (WIDTH - axisWidth - RIGHT) / Math.max(1, groups) - 4;
  // A turned first label reaches left of its bar: the margin makes room for it as for the ticks.
  const left = Math.max(axisWidth, turned ? Math.ceil(labelPx * Math.cos((TURN * Math.PI) / 180)) + 4 : 0);
  const plotWidth = WIDTH - left - RIGHT;
  const groupWidth = plotWidth / Math.max(1, groups);
  const bottom = turned ? Math.ceil(labelPx * Math.sin((TURN * Math.PI) / 180)) + 24 : 28;
  const height = TOP + PLOT_HEIGHT + bottom;
  const barWidth = (groupWidth * 0.7) / Math.max(1, spec.series.length);
  const barX = (group: number, series: number) => left + group * groupWidth + groupWidth * 0.15 + series * barWidth;

  return (
    <svg class="bars" viewBox={`0 0 ${WIDTH} ${height}`} role="img" data-y-min="0" data-y-max={String(top)}>
      <title>{props.title}</title>
      <g class="y-axis">
        {ticks.map((t, i) => (
          <>
            <line x1={px(left)} x2={px(WIDTH - RIGHT)} y1={px(y(t))} y2={px(y(t))} class="grid-line" />
            <text x={px(left - 6)} y={px(y(t) + 4)} text-anchor="end" class="tick">
              {tickTexts[i]}
            </text>
          </>
        ))}
      </g>
      {spec.series.map((s, si) => (
        <g class="series" data-series={s.label} fill={colors[si % colors.length]} stroke={colors[si % colors.length]}>
          {s.values.map((v, gi) => {
            if (v === null || !Number.isFinite(v)) return null;
            const x = barX(gi, si);
            const low = s.low?.[gi];
            const high = s.high?.[gi];
            const label = labels[gi] ?? "";
            return (
              <g class="bar">
                <rect x={px(x)} y={px(y(v))} width={px(barWidth * 0.9)} height={px(y(0) - y(v))} stroke="none">
                  <title>{`${label} · ${s.label}: ${formatValue(spec.unit, v)}`}</title>
                </rect>
                {low !== null && low !== undefined && high !== null && high !== undefined ? (
                  <path
                    class="whisker"
                    fill="none"
                    stroke="#111827"
                    d={`M${px(x + barWidth * 0.45)} ${px(y(low))}V${px(y(high))}M${px(x + barWidth * 0.2)} ${px(y(low))}h${px(barWidth * 0.5)}M${px(x + barWidth * 0.2)} ${px(y(high))}h${px(barWidth * 0.5)}`}
                  />
                ) : null}
              </g>
            );
          })}
        </g>
      ))}
      <line x1={px(left)} x2={px(WIDTH - RIGHT)} y1={px(y(0))} y2={px(y(0))} class="baseline" />
      <g class="x-axis">
        {labels.map((label, gi) => {
          const x = left + gi * groupWidth + groupWidth / 2;
          const baseline = TOP + PLOT_HEIGHT + 16;
          return (
            <text
              x={px(x)}
              y={px(baseline)}
              text-anchor={turned ? "end" : "middle"}
              transform={turned ? `rotate(-${TURN} ${px(x)} ${px(baseline)})` : undefined}
              class="tick"
            >
              <title>{label}</title>
              {cut(label)}
            </text>
          );
        })}
      </g>
    </svg>
  );
}
