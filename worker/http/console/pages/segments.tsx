import { Hono } from "hono";
import { readRegistry } from "../../../models/registry-store";
import { type SegmentRow, type SegmentsReport, segmentsReport } from "../../../models/segments-report";
import type { AppEnv } from "../../app-env";
import { num, pct } from "../chart";
import { page, render, siteOf } from "../kit";
import { Empty } from "../layout";
import { DataTable } from "../table";

/**
 * Segments: the micro-segments of the live model version (`npm run segments`, pushed with the
 * model), each with what set it apart in the training data and what the site's traffic did since
 * the version went live. Policies and the fairness report name a segment as `segment:<id>`.
 */

const lift = (x: number) => `×${x.toFixed(2)}`;

function TopItems(props: { segment: SegmentRow }) {
  const { segment } = props;
  return (
    <ul class="compact">
      {segment.topItems.map((item) => (
        <li>
          {segment.titles[item.contentId] ?? item.contentId} <span class="note">({item.contentId})</span>: {pct(item.share, 0)} of members,{" "}
          {lift(item.lift)}
        </li>
      ))}
    </ul>
  );
}

function TopAttributes(props: { segment: SegmentRow }) {
  return (
    <ul class="compact">
      {props.segment.topAttributes.map((a) => (
        <li>
          {a.attribute} = {a.value}: {pct(a.share, 0)}, {lift(a.lift)}
        </li>
      ))}
    </ul>
  );
}

function SegmentsPage(props: { report: SegmentsReport }) {
  const { report } = props;
  if (!report.data) {
    return (
      <section aria-labelledby="segments-h" class="card">
        <h2 id="segments-h">Segments</h2>
        <Empty>
          {report.version
            ? `The live model version ${report.version} has no segments. Make them with npm run segments and push them with the model (docs/segments.md).`
            : "No model version is live."}
        </Empty>
      </section>
    );
  }
  return (
    <section aria-labelledby="segments-h" class="card">
      <h2 id="segments-h">Segments of {report.version}</h2>
      <p class="note">
        {report.data.k} segments from {num(report.data.visitors)} visitors of {report.data.name} ({report.data.method}). Traffic since{" "}
        {report.since ?? "the version went live"} (UTC days). Name one in a policy as <code>segment:&lt;id&gt;</code>.
      </p>
      <DataTable
        id="segments"
        caption="Segments of the live model version"
        rows={report.segments}
        rowAttrs={(s) => ({ "data-segment": s.id })}
        columns={[
          { header: "Segment", cell: (s) => `segment:${s.id}`, rowHeader: true },
          { header: "Visitors (training)", cell: (s) => `${num(s.visitors)} (${pct(s.share, 1)})` },
          { header: "Top items", cell: (s) => <TopItems segment={s} /> },
          { header: "Top attributes", cell: (s) => <TopAttributes segment={s} /> },
          { header: "CTR (training)", cell: (s) => (s.ctr ? pct(s.ctr.ctr) : "–") },
          { header: "Decisions since live", cell: (s) => num(s.traffic.decisions) },
          { header: "Impressions", cell: (s) => num(s.traffic.impressions) },
          { header: "CTR since live", cell: (s) => pct(s.traffic.ctr) },
        ]}
      />
    </section>
  );
}

export const segmentsPage = new Hono<AppEnv>().get(
  "/segments",
  page("admin", async (c, session) => {
    const { site, sites: all } = await siteOf(c);
    const { rows } = await readRegistry(c.var.db);
    const report = await segmentsReport(c.var.db, c.env.MODELS, site, rows);
    return render(c, session, { title: "Segments", active: "segments", site, sites: all }, SegmentsPage({ report }));
  }),
);
