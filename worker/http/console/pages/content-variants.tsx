import { raw } from "hono/html";
import { renderItem } from "../../../rewrite/render";
import type { ContentItem, contentVariants } from "../../../store/schema";
import type { variantReport } from "../../../variants/report";
import { Chart, type ChartSpec, ctrCell, num, pct } from "../chart";
import { ActionForm, Empty } from "../layout";
import { DataTable } from "../table";

/** The content page's variant pieces: the variant and component report, and one draft's review card. */

type ContentVariant = typeof contentVariants.$inferSelect;

/** The variant report's leader rule (`leaderOf`): the best CTR whose 95% interval on the difference from each other component's CTR is above zero. */
const LEADER = "leader: beats each of the others at 95%";

export type VariantReport = Awaited<ReturnType<typeof variantReport>>;

/** Per variant and per component, from the variant report: which headline or image wins, and how much traffic cold start spends. */
export function VariantStats(props: { report: VariantReport; chart: ChartSpec }) {
  const { report } = props;
  const seen = report.variants.filter((v) => v.impressions > 0);
  const leaders = new Set(report.leaders.flatMap((l) => (l.leader ? [l.leader] : [])));
  return (
    <section aria-labelledby="variant-stats-h" class="card">
      <h2 id="variant-stats-h">Variants and components</h2>
      {seen.length === 0 ? (
        <Empty>No variant has been shown yet: approve variants in the review queue below; they serve from the next decision.</Empty>
      ) : (
        <>
          <p>
            Cold start: {pct(report.coldStart.share, 1)} of variant impressions went to new variants (fewer than{" "}
            {report.coldStart.minImpressions} impressions, drawn with probability {report.coldStart.share ?? 0}).
          </p>
          <Chart id="variants" title="CTR per variant, with 95% bands" spec={props.chart} />
          <DataTable
            caption="Variants"
            rows={report.variants}
            columns={[
              {
                header: "content / variant",
                rowHeader: true,
                cell: (v) => (
                  <>
                    {v.contentId} / {v.variantId} {v.synthetic ? <span class="badge warn">synthetic</span> : null}
                  </>
                ),
              },
              { header: "language", cell: (v) => v.language },
              { header: "status", cell: (v) => v.status },
              { header: "impressions", cell: (v) => num(v.impressions) },
              { header: "CTR [95%]", cell: ctrCell },
              { header: "cold-start impressions", cell: (v) => `${num(v.coldStart.impressions)}${v.coldStart.isNew ? " (new)" : ""}` },
            ]}
          />
          <h3>Components</h3>
          <DataTable
            caption="Components"
            rows={report.components}
            columns={[
              { header: "content", cell: (c) => c.contentId },
              { header: "kind", cell: (c) => c.kind },
              { header: "text", cell: (c) => c.text },
              { header: "impressions", cell: (c) => num(c.stats.impressions) },
              { header: "CTR [95%]", cell: (c) => ctrCell(c.stats) },
              { header: "leads", cell: (c) => (leaders.has(c.componentId) ? LEADER : "") },
            ]}
          />
        </>
      )}
    </section>
  );
}

export function VariantCard(props: {
  variant: ContentVariant;
  item: ContentItem | undefined;
  csrf: string;
  site: string;
  syntheticLabel: string | undefined;
}) {
  const v = props.variant;
  // The console loads nothing from the sites (its host serves only the console, its CSP only
  // itself): the preview names the image instead of loading it.
  const { imageUrl, ...render } = { ...(props.item?.render ?? { title: v.contentId }), ...v.components };
  // renderItem escapes every field and keeps only http(s) or site-relative URLs: the preview is
  // the markup the edge would serve, never the content's own HTML.
  const components = Object.fromEntries(Object.entries(v.components).filter((e): e is [string, string] => typeof e[1] === "string"));
  const served = { id: v.id, language: v.language, components, synthetic: v.synthetic, reason: "model" as const, propensity: 1 };
  const preview = renderItem(
    { contentId: v.contentId, rank: 1, score: null, reason: "default", propensity: 1, ...render, variant: served },
    props.syntheticLabel,
  );
  const label = `${v.contentId} / ${v.id}`;
  return (
    <li class="variant" data-variant-id={v.id}>
      <h3>
        {label} <span class="badge">{v.language}</span>
        {v.synthetic ? <span class="badge warn">synthetic</span> : null}
      </h3>
      <section class="preview" aria-label={`Preview of ${label}`}>
        {raw(preview)}
      </section>
      <dl class="provenance">
        {imageUrl ? (
          <>
            <dt>Image</dt>
            <dd>
              <code>{imageUrl}</code>
            </dd>
          </>
        ) : null}
        <dt>Origin</dt>
        <dd>{v.provenance.origin}</dd>
        {v.provenance.tool ? (
          <>
            <dt>Tool</dt>
            <dd>{v.provenance.tool}</dd>
          </>
        ) : null}
        {v.provenance.license ? (
          <>
            <dt>Licence</dt>
            <dd>{v.provenance.license}</dd>
          </>
        ) : null}
        {v.provenance.source ? (
          <>
            <dt>Source</dt>
            <dd>{v.provenance.source}</dd>
          </>
        ) : null}
        <dt>Components</dt>
        <dd>{Object.keys(v.components).join(", ") || "none"}</dd>
      </dl>
      <ActionForm action={`content/review?site=${encodeURIComponent(props.site)}`} csrf={props.csrf}>
        <input type="hidden" name="contentId" value={v.contentId} />
        <input type="hidden" name="id" value={v.id} />
        <button type="submit" name="status" value="approved" aria-label={`Approve ${label}`}>
          Approve
        </button>
        <button type="submit" name="status" value="rejected" class="secondary" aria-label={`Reject ${label}`}>
          Reject
        </button>
      </ActionForm>
    </li>
  );
}
