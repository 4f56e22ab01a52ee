import { Hono } from "hono";
import { decisionsByDay, type PerformanceRow, performanceReport } from "../../../events/report";
import { explorationShare, upliftReport } from "../../../experiments/report";
import { sitePolicyOf } from "../../../site/policy-store";
import type { AppEnv } from "../../app-env";
import { parseWith } from "../../routes/validate";
import { Chart, type ChartSpec, IntervalBar, interval, num, pct } from "../chart";
import { daysQuery, page, render, siteOf } from "../kit";
import { Empty } from "../layout";
import { countSeries, ctrSeries, dailyPerformance, dayRange, decisionSeries, isoDay, slotsIn } from "../series";
import { DataTable } from "../table";

/** Performance: totals, uplift against the holdout, and daily series per slot and policy. */

type Uplift = Awaited<ReturnType<typeof upliftReport>>;

/** Why there is no holdout group to compare with: no share in the policy, or too few visitors yet. */
export function missingHoldout(share: number, treated: number): string {
  if (share <= 0) return "No holdout: the site policy holds out nobody. Set a holdout share (5% is usual) to measure uplift.";
  const held = `${(share * 100).toFixed(share < 0.01 ? 1 : 0)}%`;
  const expected = Math.round((treated * share) / (1 - share));
  return `The policy holds out ${held} of visitors, but none of them has been seen in this period yet (${treated} treated visitors; about ${expected} holdout visitors expected so far). Uplift needs visitors in both groups: wait for more traffic or widen the period.`;
}
type Exploration = Awaited<ReturnType<typeof explorationShare>>;

function PerformancePage(props: {
  site: string;
  days: number;
  totals: PerformanceRow[];
  decisions: ChartSpec;
  ctr: { slot: string; spec: ChartSpec }[];
  impressions: ChartSpec;
  conversions: ChartSpec;
  uplift: Uplift;
  exploration: Exploration;
  /** The site policy's holdout share now: what a missing holdout group means depends on it. */
  holdoutShare: number;
}) {
  const sum = (k: "impressions" | "clicks" | "conversions") => props.totals.reduce((n, r) => n + r[k], 0);
  const hasDecisions = props.decisions.series.length > 0;
  return (
    <>
      <form method="get" action="performance" class="filters">
        <input type="hidden" name="site" value={props.site} />
        <label for="days">Period</label>
        <select id="days" name="days">
          {[7, 14, 30].map((d) => (
            <option value={String(d)} selected={d === props.days}>
              last {d} days
            </option>
          ))}
        </select>
        <button type="submit">Show</button>
      </form>
      <section aria-labelledby="totals-h" class="cards">
        <h2 id="totals-h" class="visually-hidden">
          Totals
        </h2>
        <div class="card stat">
          <span>Impressions</span> <strong>{num(sum("impressions"))}</strong>
        </div>
        <div class="card stat">
          <span>Clicks</span> <strong>{num(sum("clicks"))}</strong>
        </div>
        <div class="card stat">
          <span>Conversions</span> <strong>{num(sum("conversions"))}</strong>
        </div>
        <div class="card stat">
          <span>Exploration share</span> <strong>{pct(props.exploration.share, 1)}</strong>
          <small>
            {num(props.exploration.explored)} of {num(props.exploration.modelItems)} model-filled items
          </small>
        </div>
      </section>
      {!hasDecisions && props.totals.length === 0 ? (
        <Empty>
          No decisions or events yet for this site: embed the tag (
          <code>{`<script src="…/v1/tag.js" data-site="${props.site}" async>`}</code>) or route pages through{" "}
          <code>/edge/{props.site}/</code>; figures appear here once the queue consumer has written the first events.
        </Empty>
      ) : (
        <>
          <section aria-labelledby="uplift-h" class="card">
            <h2 id="uplift-h">Personalization against the holdout</h2>
            {props.uplift.holdout.visitors === 0 ? (
              <Empty>{missingHoldout(props.holdoutShare, props.uplift.treated.visitors)}</Empty>
            ) : null}
            <DataTable
              caption="Treated and holdout visitors"
              rows={(["treated", "holdout"] as const).map((group) => ({ group, ...props.uplift[group] }))}
              columns={[
                { header: "group", rowHeader: true, cell: (g) => g.group },
                { header: "visitors", cell: (g) => num(g.visitors) },
                { header: "impressions", cell: (g) => num(g.impressions) },
                { header: "CTR", cell: (g) => pct(g.ctr) },
                { header: "conversion rate", cell: (g) => pct(g.conversionRate) },
              ]}
            />
            <p>
              CTR uplift (treated − holdout, 95% interval): <strong class="uplift">{interval(props.uplift.uplift.ctr)}</strong>
            </p>
            <IntervalBar value={props.uplift.uplift.ctr} label="CTR uplift" />
            <p>Conversion-rate uplift: {interval(props.uplift.uplift.conversionRate)}</p>
          </section>
          <div class="grid">
            <Chart id="decisions" title="Decisions per day, per slot and policy" spec={props.decisions} />
            {props.ctr.map(({ slot, spec }) => (
              <Chart id={`ctr-${slot}`} title={`CTR per day in “${slot}”, per policy, with 95% bands`} spec={spec} />
            ))}
            <Chart id="impressions" title="Impressions per day" spec={props.impressions} />
            <Chart id="conversions" title="Conversions per day" spec={props.conversions} />
          </div>
        </>
      )}
    </>
  );
}

export const performancePage = new Hono<AppEnv>().get(
  "/performance",
  page("admin", async (c, session) => {
    const { site, sites: all } = await siteOf(c);
    const days = parseWith(daysQuery, c.req.query("days"));
    const range = dayRange(days);
    const query = { site, from: range[0] ?? isoDay(Date.now()), to: range[range.length - 1] ?? isoDay(Date.now()) };
    const [daily, totals, decisions, uplift, exploration, policy] = await Promise.all([
      dailyPerformance(c.var.db, site, range),
      performanceReport(c.var.db, query),
      decisionsByDay(c.var.db, query),
      upliftReport(c.var.db, query),
      explorationShare(c.var.db, query),
      sitePolicyOf(c.var.db, site),
    ]);
    const body = PerformancePage({
      site,
      days,
      totals,
      decisions: decisionSeries(decisions, range),
      ctr: slotsIn(daily).map((slot) => ({ slot, spec: ctrSeries(daily, slot) })),
      impressions: countSeries(daily, "impressions"),
      conversions: countSeries(daily, "conversions"),
      uplift,
      exploration,
      holdoutShare: policy.holdout.share,
    });
    return render(c, session, { title: "Performance", active: "performance", site, sites: all }, body);
  }),
);
