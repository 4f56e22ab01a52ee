import { raw } from "hono/html";
import type { PerformanceRow } from "../events/report";
import type { experimentsReport, explorationShare, fairnessReport, upliftReport } from "../experiments/report";
import type { modelReport } from "../models/report";
import type { listAudit, listConsent, listRequests } from "../privacy/lists";
import { renderItem } from "../rewrite/render";
import type { ContentItem, contentVariants } from "../store/schema";
import type { variantReport } from "../variants/report";
import { Chart, type ChartSpec, IntervalBar, interval, num, pct } from "./chart";
import { ActionForm, Empty } from "./layout";
import { DataTable } from "./table";

type ContentVariant = typeof contentVariants.$inferSelect;

/**
 * The console's pages as functions of report data: no page queries anything itself (the routes in
 * worker/routes/console.ts call the report functions), so what a page shows is what the admin and
 * privacy APIs answer.
 */

/** The variant report's leader rule (`leaderOf`): the best CTR whose 95% interval on the difference from each other component's CTR is above zero. */
const LEADER = "leader: beats each of the others at 95%";

const ctrCell = (r: { ctr: number | null; ctrLow: number | null; ctrHigh: number | null }) =>
  r.ctr === null ? "–" : `${pct(r.ctr)} [${pct(r.ctrLow)}, ${pct(r.ctrHigh)}]`;

export function SignIn(props: { error?: string | undefined; next?: string | undefined }) {
  return (
    <form method="post" action="sign-in" class="card sign-in">
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <p>Paste the admin token (marketers, reviewers) or the privacy token (the privacy team). It is exchanged for a 30-minute session.</p>
      <label for="token">Token</label>
      <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
      {props.next ? <input type="hidden" name="next" value={props.next} /> : null}
      <button type="submit">Sign in</button>
    </form>
  );
}

export function ErrorPanel(props: { status: number; message: string; back?: string }) {
  return (
    <div class="card">
      <p class="error" role="alert">
        {props.status}: {props.message}
      </p>
      {props.back ? <a href={props.back}>Back</a> : null}
    </div>
  );
}

// ---- Performance ---------------------------------------------------------------------------------

type Uplift = Awaited<ReturnType<typeof upliftReport>>;
type Exploration = Awaited<ReturnType<typeof explorationShare>>;

export function PerformancePage(props: {
  site: string;
  days: number;
  totals: PerformanceRow[];
  decisions: ChartSpec;
  ctr: { slot: string; spec: ChartSpec }[];
  impressions: ChartSpec;
  conversions: ChartSpec;
  uplift: Uplift;
  exploration: Exploration;
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
              <Empty>No holdout visitors in this period: set a holdout share in the site policy to measure uplift.</Empty>
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

// ---- Content & variants ---------------------------------------------------------------------------

export function ContentPage(props: {
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
              { header: "at", cell: (v) => v.reviewedAt?.toISOString() ?? "–" },
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

type VariantReport = Awaited<ReturnType<typeof variantReport>>;

/** Per variant and per component, from the variant report: which headline or image wins, and how much traffic cold start spends. */
function VariantStats(props: { report: VariantReport; chart: ChartSpec }) {
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

function VariantCard(props: {
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

// ---- Models ---------------------------------------------------------------------------------------

type ModelReport = Awaited<ReturnType<typeof modelReport>>;

export function ModelsPage(props: {
  csrf: string;
  report: ModelReport;
  killSwitch: boolean;
  scores: ChartSpec;
  ctr: ChartSpec;
  canRollback: boolean;
}) {
  const { report } = props;
  return (
    <>
      <section aria-labelledby="serving-h" class="card">
        <h2 id="serving-h">Serving</h2>
        <p>
          Kill switch:{" "}
          <strong class={props.killSwitch ? "flagged" : ""}>{props.killSwitch ? "ON: editor defaults for everyone" : "off"}</strong>
        </p>
        <div class="actions">
          <ActionForm action="models/kill-switch" csrf={props.csrf}>
            <input type="hidden" name="on" value={props.killSwitch ? "false" : "true"} />
            <button type="submit" class={props.killSwitch ? "" : "danger"}>
              {props.killSwitch ? "Turn the kill switch off" : "Turn the kill switch on"}
            </button>
          </ActionForm>
          <ActionForm action="models/rollback" csrf={props.csrf}>
            <button type="submit" disabled={!props.canRollback}>
              Roll back to the previous live version
            </button>
          </ActionForm>
        </div>
        {props.canRollback ? null : <p class="note">No rollback target: no other version was live before the current one.</p>}
      </section>
      <section aria-labelledby="versions-h" class="card">
        <h2 id="versions-h">Versions</h2>
        <DataTable
          caption="Model versions"
          rows={report.versions}
          empty={
            <>
              No model registered: run <code>npm run model -- push DIR</code> or deploy with the bundled model.
            </>
          }
          rowAttrs={(v) => ({ "data-version": v.version })}
          columns={[
            { header: "version", rowHeader: true, cell: (v) => v.version },
            {
              header: "status",
              class: () => "status",
              cell: (v) => `${v.status}${v.status === "canary" ? ` (${pct(v.trafficShare, 0)})` : ""}`,
            },
            {
              header: "decisions per arm",
              cell: (v) =>
                Object.entries(v.decisions)
                  .map(([arm, n]) => `${arm}: ${num(n)}`)
                  .join(", ") || "–",
            },
            { header: "CTR [95%]", cell: ctrCell },
            {
              header: "shadow agreement (top 1 / overlap)",
              cell: (v) =>
                v.shadow ? `${pct(v.shadow.top1Agreement, 0)} / ${pct(v.shadow.overlapAtK, 0)} (${num(v.shadow.slots)} slots)` : "–",
            },
            {
              header: "drift",
              class: (v) => (v.drift.flagged.length ? "flagged" : ""),
              cell: (v) =>
                v.drift.flagged.length ? `drift: ${v.drift.flagged.join(", ")}` : v.drift.features.length ? "no feature above 0.2" : "–",
            },
            {
              header: "action",
              cell: (v) =>
                v.status !== "live" ? (
                  <ActionForm action="models/promote" csrf={props.csrf}>
                    <input type="hidden" name="version" value={v.version} />
                    <button type="submit" aria-label={`Promote ${v.version} to live`}>
                      Promote
                    </button>
                  </ActionForm>
                ) : null,
            },
          ]}
        />
      </section>
      <div class="grid">
        <Chart id="version-ctr" title="CTR per version (model policy), with 95% intervals" spec={props.ctr} />
        <Chart id="scores" title="Score distribution of shown items, per version" spec={props.scores} />
      </div>
      <section aria-labelledby="drift-h" class="card">
        <h2 id="drift-h">Feature drift (PSI against the training distribution; flagged above {report.driftFlagPsi})</h2>
        {report.versions.every((v) => v.drift.features.every((f) => f.observed === 0)) ? (
          <Empty>No drift observed yet: PSI needs decisions served by a version whose manifest carries a drift reference.</Empty>
        ) : null}
        <DataTable
          caption="Feature drift per version"
          rows={report.versions.flatMap((v) => v.drift.features.map((f) => ({ version: v.version, ...f })))}
          rowAttrs={(f) => ({ class: f.flagged ? "flagged" : "" })}
          columns={[
            { header: "version", cell: (f) => f.version },
            { header: "feature", cell: (f) => f.feature },
            { header: "observed", cell: (f) => num(f.observed) },
            { header: "PSI", cell: (f) => (f.psi === null ? "–" : f.psi.toFixed(3)) },
            { header: "flag", cell: (f) => (f.flagged ? "drifted (PSI > 0.2)" : "") },
          ]}
        />
      </section>
    </>
  );
}

// ---- Experiments & fairness ---------------------------------------------------------------------------

type Experiments = Awaited<ReturnType<typeof experimentsReport>>;
type Fairness = Awaited<ReturnType<typeof fairnessReport>>;

export function ExperimentsPage(props: {
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

// ---- Privacy ------------------------------------------------------------------------------------------

export type PrivacyFilters = {
  status?: string | undefined;
  source?: string | undefined;
  site?: string | undefined;
  subject?: string | undefined;
  role?: string | undefined;
  action?: string | undefined;
};

/** A filter's labelled select: "any" (no filter) or one of the options. */
function AnyOf(props: { id: string; name: string; label: string; options: string[]; selected: string | undefined }) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name}>
        <option value="">any</option>
        {props.options.map((o) => (
          <option value={o} selected={props.selected === o}>
            {o}
          </option>
        ))}
      </select>
    </>
  );
}

export function PrivacyPage(props: {
  csrf: string;
  filters: PrivacyFilters;
  requests: Awaited<ReturnType<typeof listRequests>>;
  consent: Awaited<ReturnType<typeof listConsent>>;
  audit: Awaited<ReturnType<typeof listAudit>>;
  consentChart: ChartSpec;
}) {
  const f = props.filters;
  return (
    <>
      <div class="grid">
        <section aria-labelledby="revoke-h" class="card">
          <h2 id="revoke-h">Revoke a subject</h2>
          <p>Stops all personalization and measurement for the visitor at once, then erases their data everywhere.</p>
          <ActionForm action="privacy/revocations" csrf={props.csrf} class="stack">
            <label for="subjectId">Visitor id</label>
            <input id="subjectId" name="subjectId" required pattern="[0-9a-f\-]{36}" placeholder="e.g. 0b7c…-…" />
            <label for="reason">Reason (optional)</label>
            <input id="reason" name="reason" maxLength={500} />
            <button type="submit" class="danger">
              Revoke and erase
            </button>
          </ActionForm>
        </section>
        <section aria-labelledby="export-h" class="card">
          <h2 id="export-h">Export a subject</h2>
          <p>Everything stored about one visitor, as a JSON download (audited).</p>
          <form method="get" action="privacy/export" class="stack">
            <label for="export-subject">Visitor id</label>
            <input id="export-subject" name="subjectId" required pattern="[0-9a-f\-]{36}" />
            <button type="submit">Download export</button>
          </form>
        </section>
      </div>
      <Chart id="consent" title="Consent records per day, per source" spec={props.consentChart} />
      <section aria-labelledby="requests-h" class="card">
        <h2 id="requests-h">Requests</h2>
        <form method="get" action="privacy" class="filters">
          <AnyOf id="status" name="status" label="Status" options={["pending", "completed"]} selected={f.status} />
          <button type="submit">Filter</button>
        </form>
        <DataTable
          id="requests"
          caption="Privacy requests"
          rows={props.requests}
          empty="No requests yet: a revocation above creates one."
          rowAttrs={(r) => ({ "data-request-id": r.id })}
          columns={[
            { header: "request", cell: (r) => <code>{r.id}</code> },
            { header: "kind", cell: (r) => r.kind },
            { header: "status", class: () => "status", cell: (r) => r.status },
            { header: "created", cell: (r) => r.createdAt },
            { header: "completed", cell: (r) => r.completedAt ?? "–" },
            { header: "attempts", cell: (r) => r.attempts },
          ]}
        />
      </section>
      <section aria-labelledby="consent-h" class="card">
        <h2 id="consent-h">Consent log</h2>
        <form method="get" action="privacy" class="filters">
          <label for="c-site">Site</label>
          <input id="c-site" name="site" value={f.site ?? ""} size={10} />
          <AnyOf id="c-source" name="source" label="Source" options={["banner", "tcf", "gpc", "revocation"]} selected={f.source} />
          <label for="c-subject">Visitor id or subject hash</label>
          <input id="c-subject" name="subject" value={f.subject ?? ""} />
          <button type="submit">Filter</button>
        </form>
        <DataTable
          caption="Consent records"
          rows={props.consent}
          empty="No consent records match: records appear when visitors answer the banner or a CMP."
          columns={[
            { header: "at", cell: (r) => r.createdAt },
            { header: "site", cell: (r) => r.siteId ?? "–" },
            { header: "subject (hash)", cell: (r) => <code title={r.subjectHash}>{r.subjectHash.slice(0, 12)}…</code> },
            { header: "personalization", cell: (r) => (r.personalization ? "granted" : "denied") },
            { header: "measurement", cell: (r) => (r.measurement ? "granted" : "denied") },
            { header: "source", cell: (r) => r.source },
            { header: "policy version", cell: (r) => r.policyVersion ?? "–" },
          ]}
        />
      </section>
      <section aria-labelledby="audit-h" class="card">
        <h2 id="audit-h">Audit log</h2>
        <form method="get" action="privacy" class="filters">
          <AnyOf id="a-role" name="role" label="Role" options={["admin", "privacy"]} selected={f.role} />
          <label for="a-action">Action starts with</label>
          <input id="a-action" name="action" value={f.action ?? ""} placeholder="privacy." />
          <button type="submit">Filter</button>
        </form>
        <DataTable
          id="audit"
          caption="Audit log entries"
          rows={props.audit}
          columns={[
            { header: "at", cell: (r) => r.createdAt },
            { header: "role", cell: (r) => r.role },
            { header: "action", cell: (r) => r.action },
            { header: "target", cell: (r) => r.target ?? "–" },
          ]}
        />
      </section>
    </>
  );
}
