import { desc, eq } from "drizzle-orm";
import { Hono } from "hono";
import { z } from "zod";
import { type PerformanceRow, performanceReport, wilsonInterval } from "../../../events/report";
import { saveSitePolicy, sitePolicyOf } from "../../../site/policy-store";
import { type ContentItem, contentItems, contentVariants } from "../../../store/schema";
import { variantReport } from "../../../variants/report";
import { reviewVariant } from "../../../variants/review";
import { reviewRequestSchema } from "../../../variants/schema";
import type { AppEnv } from "../../app-env";
import { Chart, type ChartSpec, ctrBars, ctrCell, num } from "../chart";
import { action, page, redirectTo, render, siteOf } from "../kit";
import { ActionForm, Empty } from "../layout";
import { dayRange } from "../series";
import { DataTable } from "../table";
import { When } from "../when";
import { VariantCard, type VariantReport, VariantStats } from "./content-variants";

/** Content & variants: performance per item, the variant report, the review queue and the blocklist. */

type ContentVariant = typeof contentVariants.$inferSelect;

const reviewFormSchema = reviewRequestSchema.extend({ contentId: z.string().min(1).max(200), id: z.string().min(1).max(200) });
const blocklistFormSchema = z.object({ terms: z.string().max(100_000) });

function ContentPage(props: {
  site: string;
  csrf: string;
  rows: PerformanceRow[];
  itemChart: ChartSpec;
  items: ContentItem[];
  variants: ContentVariant[];
  blocklist: string[];
  /** The site's visible label for synthetic variants, shown in the preview as visitors would see it. */
  syntheticLabel: string | undefined;
  variantStats: VariantReport;
  variantChart: ChartSpec;
}) {
  const queue = props.variants.filter((v) => v.status === "draft");
  const reviewed = props.variants.filter((v) => v.status !== "draft");
  const itemOf = (id: string) => props.items.find((i) => i.id === id);
  return (
    <>
      <section aria-labelledby="items-h" class="card">
        <h2 id="items-h">Performance per item</h2>
        {props.rows.length === 0 ? (
          <Empty>No impressions in the last 30 days: embed the tag on the site's pages; items show here once they are seen.</Empty>
        ) : (
          <>
            <Chart id="items" title="CTR per item (all slots and policies), with 95% bands" spec={props.itemChart} />
            <DataTable
              caption="Performance per slot, item, policy and model version"
              rows={props.rows}
              columns={[
                { header: "slot", cell: (r) => r.slot },
                { header: "content", cell: (r) => r.contentId },
                { header: "policy", cell: (r) => r.policy },
                { header: "model", cell: (r) => r.modelVersion },
                { header: "impressions", cell: (r) => num(r.impressions) },
                { header: "clicks", cell: (r) => num(r.clicks) },
                { header: "CTR [95%]", cell: ctrCell },
                { header: "conversions", cell: (r) => num(r.conversions) },
              ]}
            />
          </>
        )}
      </section>
      <VariantStats report={props.variantStats} chart={props.variantChart} />
      <section aria-labelledby="queue-h" class="card">
        <h2 id="queue-h">Review queue ({queue.length})</h2>
        {queue.length === 0 ? (
          <Empty>
            No drafts to review: import variants with <code>npm run variants -- import FILE --site {props.site}</code> or{" "}
            <code>POST /v1/admin/sites/{props.site}/variants</code>.
          </Empty>
        ) : (
          <ul class="variants">
            {queue.map((v) => (
              <VariantCard
                variant={v}
                item={itemOf(v.contentId)}
                csrf={props.csrf}
                site={props.site}
                syntheticLabel={props.syntheticLabel}
              />
            ))}
          </ul>
        )}
      </section>
      {reviewed.length ? (
        <section aria-labelledby="reviewed-h" class="card">
          <h2 id="reviewed-h">Reviewed variants</h2>
          <DataTable
            caption="Reviewed variants"
            rows={reviewed}
            columns={[
              { header: "content", cell: (v) => v.contentId },
              { header: "variant", cell: (v) => v.id },
              { header: "language", cell: (v) => v.language },
              { header: "status", cell: (v) => v.status },
              { header: "by", cell: (v) => v.reviewedBy ?? "–" },
              { header: "at", cell: (v) => <When at={v.reviewedAt} /> },
              { header: "synthetic", cell: (v) => (v.synthetic ? "yes" : "no") },
            ]}
          />
        </section>
      ) : null}
      <section aria-labelledby="blocklist-h" class="card">
        <h2 id="blocklist-h">Blocklist</h2>
        <p>Variants containing one of these terms are refused at import. One term per line.</p>
        <ActionForm action={`content/blocklist?site=${encodeURIComponent(props.site)}`} csrf={props.csrf} class="stack">
          <label for="blocklist">Blocked terms</label>
          <textarea id="blocklist" name="terms" rows={6}>
            {props.blocklist.join("\n")}
          </textarea>
          <button type="submit">Save blocklist</button>
        </ActionForm>
      </section>
    </>
  );
}

/** CTR per item over all slots and policies, with Wilson intervals. */
function ctrPerItem(rows: PerformanceRow[]): ChartSpec {
  const items = [...new Set(rows.map((r) => r.contentId))].sort();
  const totals = items.map((contentId) => {
    const own = rows.filter((r) => r.contentId === contentId);
    const impressions = own.reduce((n, r) => n + r.impressions, 0);
    const clicks = own.reduce((n, r) => n + r.clicks, 0);
    const band = wilsonInterval(clicks, impressions);
    return { contentId, ctr: impressions ? clicks / impressions : null, ctrLow: band?.low ?? null, ctrHigh: band?.high ?? null };
  });
  return ctrBars(totals, (t) => t.contentId);
}

export const contentPage = new Hono<AppEnv>()
  .get(
    "/content",
    page("admin", async (c, session) => {
      const { site, sites: all } = await siteOf(c);
      const range = dayRange(30);
      const period = { site, from: range[0], to: range[range.length - 1] };
      const policy = await sitePolicyOf(c.var.db, site);
      const [rows, items, variants, variantStats] = await Promise.all([
        performanceReport(c.var.db, period),
        c.var.db.select().from(contentItems).where(eq(contentItems.siteId, site)),
        c.var.db.select().from(contentVariants).where(eq(contentVariants.siteId, site)).orderBy(desc(contentVariants.createdAt)).limit(200),
        variantReport(c.var.db, period, policy),
      ]);
      const body = ContentPage({
        site,
        csrf: session.csrf,
        rows,
        itemChart: ctrPerItem(rows),
        items,
        variants,
        blocklist: policy.blocklist,
        syntheticLabel: policy.variants.syntheticLabel.visible ? policy.variants.syntheticLabel.text : undefined,
        variantStats,
        variantChart: ctrBars(
          variantStats.variants.filter((v) => v.impressions > 0),
          (v) => `${v.contentId}/${v.variantId}`,
        ),
      });
      return render(c, session, { title: "Content & variants", active: "content", site, sites: all }, body);
    }),
  )
  .post(
    "/content/review",
    action("admin", reviewFormSchema, async (c, session, form) => {
      const { site } = await siteOf(c);
      await reviewVariant(c.var.db, { site, contentId: form.contentId, id: form.id }, form.status, session.role);
      return redirectTo(c, `../content?site=${encodeURIComponent(site)}&flash=${form.status}&ref=${encodeURIComponent(form.id)}`);
    }),
  )
  .post(
    "/content/blocklist",
    action("admin", blocklistFormSchema, async (c, session, form) => {
      const { site } = await siteOf(c);
      const current = await sitePolicyOf(c.var.db, site);
      const terms = [...new Set(form.terms.split(/\r?\n/).map((t) => t.trim()))].filter(Boolean);
      // The whole policy is validated again and audited, as PUT /v1/admin/sites/:site/policy does.
      await saveSitePolicy(c.var.db, site, { ...current, blocklist: terms }, session.role);
      return redirectTo(c, `../content?site=${encodeURIComponent(site)}&flash=blocklist`);
    }),
  );
