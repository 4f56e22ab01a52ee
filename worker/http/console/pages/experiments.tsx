import { Hono } from "hono";
import { experimentsReport, fairnessReport } from "../../../experiments/report";
import { sitePolicyOf } from "../../../site/policy-store";
import type { AppEnv } from "../../app-env";
import { Chart, type ChartSpec, interval, num, pct } from "../chart";
import { page, render, siteOf } from "../kit";
import { Empty } from "../layout";
import { DataTable } from "../table";

/** Experiments (arms, sample-ratio check, CTR against the first arm) and fairness per segment. */

type Experiments = Awaited<ReturnType<typeof experimentsReport>>;
type Fairness = Awaited<ReturnType<typeof fairnessReport>>;

function ExperimentsPage(props: {
  site: string;
  experiments: Experiments;
  splits: ChartSpec[];
  fairness: Fairness;
  segments: ChartSpec[];
}) {
  return (
    <>
      <section aria-labelledby="exp-h">
        <h2 id="exp-h">Experiments</h2>
        {props.experiments.length === 0 ? (
          <Empty>
            No experiment configured for this site: add one to the site policy (<code>PUT /v1/admin/sites/{props.site}/policy</code>,{" "}
            <code>experiments</code>).
          </Empty>
        ) : null}
        {props.experiments.map((e, i) => (
          <div class="card" data-experiment={e.experiment}>
            <h3>
              {e.experiment} <span class="badge">{e.status}</span>
              {e.sampleRatio.mismatch ? <span class="badge warn">sample-ratio mismatch</span> : null}
            </h3>
            <p>
              Sample-ratio check: χ² = {e.sampleRatio.statistic.toFixed(2)}, p = {e.sampleRatio.pValue.toPrecision(3)}{" "}
              {e.sampleRatio.mismatch ? `(below ${e.sampleRatio.alpha}: the split is broken, do not read the results)` : "(no mismatch)"}
            </p>
            <DataTable
              caption={`${e.experiment}: arms`}
              rows={e.arms}
              columns={[
                { header: "arm", rowHeader: true, cell: (a) => a.arm },
                { header: "weight", cell: (a) => a.weight },
                { header: "visitors", cell: (a) => num(a.visitors) },
                { header: "CTR", cell: (a) => pct(a.ctr) },
                { header: "CTR vs first arm [95%]", cell: (a) => interval(a.ctrVsFirstArm) },
              ]}
            />
            {props.splits[i] ? (
              <Chart id={`split-${i}`} title={`${e.experiment}: configured and observed split`} spec={props.splits[i]} />
            ) : null}
          </div>
        ))}
      </section>
      <section aria-labelledby="fair-h">
        <h2 id="fair-h">Fairness per segment</h2>
        {props.fairness.length === 0 ? (
          <Empty>
            No fairness segments configured: set <code>fairness.segments</code> (e.g. country, device) in the site policy.
          </Empty>
        ) : null}
        {props.fairness.map((f, i) => (
          <div class="card" data-segment={f.segment}>
            <h3>
              {f.segment}{" "}
              {f.flagged ? (
                <span class="badge warn">disparity above {f.disparityRatio}</span>
              ) : (
                <span class="badge">no disparity flagged</span>
              )}
            </h3>
            <p>
              CTR ratio (highest/lowest): {f.ctrDisparity?.toFixed(2) ?? "–"}; exposure per decision ratio:{" "}
              {f.exposureDisparity?.toFixed(2) ?? "–"}
            </p>
            {f.values.length === 0 ? (
              <Empty>No decisions with this segment yet.</Empty>
            ) : (
              <Chart
                id={`segment-${i}`}
                title={`${f.segment}: exposure share and CTR per value`}
                spec={props.segments[i] ?? { kind: "bars", unit: "ratio", x: [], series: [] }}
              />
            )}
          </div>
        ))}
      </section>
    </>
  );
}

/** Configured against observed split per experiment. */
const splitChart = (e: Experiments[number]): ChartSpec => {
  const weights = e.arms.reduce((n, a) => n + a.weight, 0);
  const visitors = e.arms.reduce((n, a) => n + a.visitors, 0);
  return {
    kind: "bars",
    unit: "ratio",
    x: e.arms.map((_, i) => i),
    labels: e.arms.map((a) => a.arm),
    series: [
      { label: "configured", values: e.arms.map((a) => (weights ? a.weight / weights : null)) },
      { label: "observed", values: e.arms.map((a) => (visitors ? a.visitors / visitors : null)) },
    ],
  };
};

/** Exposure share and CTR per value of a fairness segment. */
const segmentChart = (f: Fairness[number]): ChartSpec => ({
  kind: "bars",
  unit: "ratio",
  x: f.values.map((_, i) => i),
  labels: f.values.map((v) => v.value),
  series: [
    { label: "exposure share", values: f.values.map((v) => v.exposureShare) },
    { label: "CTR", values: f.values.map((v) => v.ctr) },
  ],
});

export const experimentsPage = new Hono<AppEnv>().get(
  "/experiments",
  page("admin", async (c, session) => {
    const { site, sites: all } = await siteOf(c);
    const policy = await sitePolicyOf(c.var.db, site);
    const [experiments, fairness] = await Promise.all([
      experimentsReport(c.var.db, { site }, policy),
      fairnessReport(c.var.db, { site }, policy),
    ]);
    const body = ExperimentsPage({
      site,
      experiments,
      splits: experiments.map(splitChart),
      fairness,
      segments: fairness.map(segmentChart),
    });
    return render(c, session, { title: "Experiments & fairness", active: "experiments", site, sites: all }, body);
  }),
);
