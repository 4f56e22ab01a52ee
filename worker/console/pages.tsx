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

type ContentVariant = typeof contentVariants.$inferSelect;

/**
 * The console's pages as functions of report data: no page queries anything itself (the routes in
 * worker/routes/console.ts call the report functions), so what a page shows is what the admin and
 * privacy APIs answer.
 */

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
            <table>
              <thead>
                <tr>
                  <th scope="col">group</th>
                  <th scope="col">visitors</th>
                  <th scope="col">impressions</th>
                  <th scope="col">CTR</th>
                  <th scope="col">conversion rate</th>
                </tr>
              </thead>
              <tbody>
                {(["treated", "holdout"] as const).map((g) => (
                  <tr>
                    <th scope="row">{g}</th>
                    <td>{num(props.uplift[g].visitors)}</td>
                    <td>{num(props.uplift[g].impressions)}</td>
                    <td>{pct(props.uplift[g].ctr)}</td>
                    <td>{pct(props.uplift[g].conversionRate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
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
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">slot</th>
                    <th scope="col">content</th>
                    <th scope="col">policy</th>
                    <th scope="col">model</th>
                    <th scope="col">impressions</th>
                    <th scope="col">clicks</th>
                    <th scope="col">CTR [95%]</th>
                    <th scope="col">conversions</th>
                  </tr>
                </thead>
                <tbody>
                  {props.rows.map((r) => (
                    <tr>
                      <td>{r.slot}</td>
                      <td>{r.contentId}</td>
                      <td>{r.policy}</td>
                      <td>{r.modelVersion}</td>
                      <td>{num(r.impressions)}</td>
                      <td>{num(r.clicks)}</td>
                      <td>{ctrCell(r)}</td>
                      <td>{num(r.conversions)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
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
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">content</th>
                  <th scope="col">variant</th>
                  <th scope="col">language</th>
                  <th scope="col">status</th>
                  <th scope="col">by</th>
                  <th scope="col">at</th>
                  <th scope="col">synthetic</th>
                </tr>
              </thead>
              <tbody>
                {reviewed.map((v) => (
                  <tr>
                    <td>{v.contentId}</td>
                    <td>{v.id}</td>
                    <td>{v.language}</td>
                    <td>{v.status}</td>
                    <td>{v.reviewedBy ?? "–"}</td>
                    <td>{v.reviewedAt?.toISOString() ?? "–"}</td>
                    <td>{v.synthetic ? "yes" : "no"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
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
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">content / variant</th>
                  <th scope="col">language</th>
                  <th scope="col">status</th>
                  <th scope="col">impressions</th>
                  <th scope="col">CTR [95%]</th>
                  <th scope="col">cold-start impressions</th>
                </tr>
              </thead>
              <tbody>
                {report.variants.map((v) => (
                  <tr>
                    <th scope="row">
                      {v.contentId} / {v.variantId} {v.synthetic ? <span class="badge warn">synthetic</span> : null}
                    </th>
                    <td>{v.language}</td>
                    <td>{v.status}</td>
                    <td>{num(v.impressions)}</td>
                    <td>{ctrCell(v)}</td>
                    <td>
                      {num(v.coldStart.impressions)}
                      {v.coldStart.isNew ? " (new)" : ""}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <h3>Components</h3>
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">content</th>
                  <th scope="col">kind</th>
                  <th scope="col">text</th>
                  <th scope="col">impressions</th>
                  <th scope="col">CTR [95%]</th>
                  <th scope="col">leads</th>
                </tr>
              </thead>
              <tbody>
                {report.components.map((c) => (
                  <tr>
                    <td>{c.contentId}</td>
                    <td>{c.kind}</td>
                    <td>{c.text}</td>
                    <td>{num(c.stats.impressions)}</td>
                    <td>{ctrCell(c.stats)}</td>
                    <td>{leaders.has(c.componentId) ? "leader (its interval is above the others')" : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
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
  const render = { ...(props.item?.render ?? { title: v.contentId }), ...v.components };
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
        {report.versions.length === 0 ? (
          <Empty>
            No model registered: run <code>npm run model -- push DIR</code> or deploy with the bundled model.
          </Empty>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">version</th>
                  <th scope="col">status</th>
                  <th scope="col">decisions per arm</th>
                  <th scope="col">CTR [95%]</th>
                  <th scope="col">shadow agreement (top 1 / overlap)</th>
                  <th scope="col">drift</th>
                  <th scope="col">action</th>
                </tr>
              </thead>
              <tbody>
                {report.versions.map((v) => (
                  <tr data-version={v.version}>
                    <th scope="row">{v.version}</th>
                    <td class="status">
                      {v.status}
                      {v.status === "canary" ? ` (${pct(v.trafficShare, 0)})` : ""}
                    </td>
                    <td>
                      {Object.entries(v.decisions)
                        .map(([arm, n]) => `${arm}: ${num(n)}`)
                        .join(", ") || "–"}
                    </td>
                    <td>{ctrCell(v)}</td>
                    <td>
                      {v.shadow ? `${pct(v.shadow.top1Agreement, 0)} / ${pct(v.shadow.overlapAtK, 0)} (${num(v.shadow.slots)} slots)` : "–"}
                    </td>
                    <td class={v.drift.flagged.length ? "flagged" : ""}>
                      {v.drift.flagged.length
                        ? `drift: ${v.drift.flagged.join(", ")}`
                        : v.drift.features.length
                          ? "no feature above 0.2"
                          : "–"}
                    </td>
                    <td>
                      {v.status !== "live" ? (
                        <ActionForm action="models/promote" csrf={props.csrf}>
                          <input type="hidden" name="version" value={v.version} />
                          <button type="submit" aria-label={`Promote ${v.version} to live`}>
                            Promote
                          </button>
                        </ActionForm>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
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
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">version</th>
                <th scope="col">feature</th>
                <th scope="col">observed</th>
                <th scope="col">PSI</th>
                <th scope="col">flag</th>
              </tr>
            </thead>
            <tbody>
              {report.versions.flatMap((v) =>
                v.drift.features.map((f) => (
                  <tr class={f.flagged ? "flagged" : ""}>
                    <td>{v.version}</td>
                    <td>{f.feature}</td>
                    <td>{num(f.observed)}</td>
                    <td>{f.psi === null ? "–" : f.psi.toFixed(3)}</td>
                    <td>{f.flagged ? "drifted (PSI > 0.2)" : ""}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
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
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">arm</th>
                    <th scope="col">weight</th>
                    <th scope="col">visitors</th>
                    <th scope="col">CTR</th>
                    <th scope="col">CTR vs first arm [95%]</th>
                  </tr>
                </thead>
                <tbody>
                  {e.arms.map((a) => (
                    <tr>
                      <th scope="row">{a.arm}</th>
                      <td>{a.weight}</td>
                      <td>{num(a.visitors)}</td>
                      <td>{pct(a.ctr)}</td>
                      <td>{interval(a.ctrVsFirstArm)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
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
          <label for="status">Status</label>
          <select id="status" name="status">
            <option value="">any</option>
            {["pending", "completed"].map((s) => (
              <option value={s} selected={f.status === s}>
                {s}
              </option>
            ))}
          </select>
          <button type="submit">Filter</button>
        </form>
        {props.requests.length === 0 ? (
          <Empty>No requests yet: a revocation above creates one.</Empty>
        ) : (
          <div class="scroll">
            <table id="requests">
              <thead>
                <tr>
                  <th scope="col">request</th>
                  <th scope="col">kind</th>
                  <th scope="col">status</th>
                  <th scope="col">created</th>
                  <th scope="col">completed</th>
                  <th scope="col">attempts</th>
                </tr>
              </thead>
              <tbody>
                {props.requests.map((r) => (
                  <tr data-request-id={r.id}>
                    <td>
                      <code>{r.id}</code>
                    </td>
                    <td>{r.kind}</td>
                    <td class="status">{r.status}</td>
                    <td>{r.createdAt}</td>
                    <td>{r.completedAt ?? "–"}</td>
                    <td>{r.attempts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="consent-h" class="card">
        <h2 id="consent-h">Consent log</h2>
        <form method="get" action="privacy" class="filters">
          <label for="c-site">Site</label>
          <input id="c-site" name="site" value={f.site ?? ""} size={10} />
          <label for="c-source">Source</label>
          <select id="c-source" name="source">
            <option value="">any</option>
            {["banner", "tcf", "gpc", "revocation"].map((s) => (
              <option value={s} selected={f.source === s}>
                {s}
              </option>
            ))}
          </select>
          <label for="c-subject">Visitor id or subject hash</label>
          <input id="c-subject" name="subject" value={f.subject ?? ""} />
          <button type="submit">Filter</button>
        </form>
        {props.consent.length === 0 ? (
          <Empty>No consent records match: records appear when visitors answer the banner or a CMP.</Empty>
        ) : (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">at</th>
                  <th scope="col">site</th>
                  <th scope="col">subject (hash)</th>
                  <th scope="col">personalization</th>
                  <th scope="col">measurement</th>
                  <th scope="col">source</th>
                  <th scope="col">policy version</th>
                </tr>
              </thead>
              <tbody>
                {props.consent.map((r) => (
                  <tr>
                    <td>{r.createdAt}</td>
                    <td>{r.siteId ?? "–"}</td>
                    <td>
                      <code title={r.subjectHash}>{r.subjectHash.slice(0, 12)}…</code>
                    </td>
                    <td>{r.personalization ? "granted" : "denied"}</td>
                    <td>{r.measurement ? "granted" : "denied"}</td>
                    <td>{r.source}</td>
                    <td>{r.policyVersion ?? "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-labelledby="audit-h" class="card">
        <h2 id="audit-h">Audit log</h2>
        <form method="get" action="privacy" class="filters">
          <label for="a-role">Role</label>
          <select id="a-role" name="role">
            <option value="">any</option>
            {["admin", "privacy"].map((r) => (
              <option value={r} selected={f.role === r}>
                {r}
              </option>
            ))}
          </select>
          <label for="a-action">Action starts with</label>
          <input id="a-action" name="action" value={f.action ?? ""} placeholder="privacy." />
          <button type="submit">Filter</button>
        </form>
        <div class="scroll">
          <table id="audit">
            <thead>
              <tr>
                <th scope="col">at</th>
                <th scope="col">role</th>
                <th scope="col">action</th>
                <th scope="col">target</th>
              </tr>
            </thead>
            <tbody>
              {props.audit.map((r) => (
                <tr>
                  <td>{r.createdAt}</td>
                  <td>{r.role}</td>
                  <td>{r.action}</td>
                  <td>{r.target ?? "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
