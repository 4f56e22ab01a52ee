import { Hono } from "hono";
import { z } from "zod";
import { allowedActions, previousLive, type RegistryRow, stageOf, type VersionAction } from "../../../models/lifecycle";
import { readRegistry } from "../../../models/registry-store";
import { modelReport } from "../../../models/report";
import { scoreHistogram } from "../../../models/score-histogram";
import { versionParam } from "../../../wire/models";
import type { AppEnv } from "../../app-env";
import { runModelAction } from "../../routes/admin-models";
import { Chart, type ChartSpec, ctrBars, ctrCell, num, pct } from "../chart";
import { action, page, redirectTo, render, siteOf } from "../kit";
import { ActionForm, Empty } from "../layout";
import { DataTable } from "../table";

/** Models: serving state, the lifecycle's buttons (promote, rollback, kill switch), versions, drift. */

const versionFormSchema = z.object({ version: versionParam });
const killFormSchema = z.object({ on: z.enum(["true", "false"]) });

type ModelReport = Awaited<ReturnType<typeof modelReport>>;

const ACTION_LABELS: Record<VersionAction, { text: string; aria: (version: string) => string; class?: string }> = {
  promote: { text: "Promote", aria: (v) => `Promote ${v} to live` },
  retire: { text: "Retire", aria: (v) => `Retire ${v}`, class: "secondary" },
};

/** One button per action the lifecycle allows for this version (./models/lifecycle.ts); none for live or retired. */
function VersionActions(props: { version: string; actions: VersionAction[]; csrf: string }) {
  return (
    <>
      {props.actions.map((action) => (
        <ActionForm action={`models/${action}`} csrf={props.csrf}>
          <input type="hidden" name="version" value={props.version} />
          <button type="submit" class={ACTION_LABELS[action].class} aria-label={ACTION_LABELS[action].aria(props.version)}>
            {ACTION_LABELS[action].text}
          </button>
        </ActionForm>
      ))}
    </>
  );
}

function ModelsPage(props: {
  csrf: string;
  report: ModelReport;
  killSwitch: boolean;
  scores: ChartSpec;
  ctr: ChartSpec;
  canRollback: boolean;
  /** Each version's registry row (stage and the actions the lifecycle allows). */
  rows: RegistryRow[];
}) {
  const { report } = props;
  const rowOf = (version: string) => props.rows.find((r) => r.version === version);
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
              cell: (v) => {
                const row = rowOf(v.version);
                const stage = row ? stageOf(row, props.rows) : v.status;
                return `${stage}${v.status === "canary" ? ` (${pct(v.trafficShare, 0)})` : ""}`;
              },
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
              cell: (v) => {
                const row = rowOf(v.version);
                return row ? <VersionActions version={v.version} actions={allowedActions(row)} csrf={props.csrf} /> : null;
              },
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
            {
              header: "PSI",
              cell: (f) =>
                f.psi === null
                  ? `not enough data yet: ${num(f.observed)} of the ${num(f.needed)} observations PSI needs`
                  : f.psi.toFixed(3),
            },
            { header: "flag", cell: (f) => (f.flagged ? "drifted (PSI > 0.2)" : "") },
          ]}
        />
      </section>
    </>
  );
}

/** Score histograms of the versions on shared bars chosen from their scores. */
function scoreChart(versions: ModelReport["versions"]): ChartSpec {
  const histogram = scoreHistogram(versions.map((v) => ({ label: v.version, bins: v.scores.bins })));
  return { kind: "bars", unit: "ratio", x: histogram.ranges.map((_, i) => i), labels: histogram.labels, series: histogram.series };
}

/** The charts' data: score histograms of shown items, and CTR per version with intervals. */
function modelCharts(report: ModelReport): { scores: ChartSpec; ctr: ChartSpec } {
  const versions = report.versions;
  return {
    scores: scoreChart(versions.filter((v) => v.scores.count > 0)),
    ctr: ctrBars(
      versions.filter((v) => v.impressions > 0),
      (v) => v.version,
    ),
  };
}

export const modelsPage = new Hono<AppEnv>()
  .get(
    "/models",
    page("admin", async (c, session) => {
      const { site, sites: all } = await siteOf(c);
      const [report, registry] = await Promise.all([modelReport(c.var.db, { site }), readRegistry(c.var.db)]);
      const body = ModelsPage({
        csrf: session.csrf,
        report,
        killSwitch: registry.killSwitch,
        ...modelCharts(report),
        canRollback: previousLive(registry.rows) !== null,
        rows: registry.rows,
      });
      return render(c, session, { title: "Models", active: "models", site, sites: all }, body);
    }),
  )
  .post(
    "/models/promote",
    action("admin", versionFormSchema, async (c, _s, form) => {
      await runModelAction(c.var.db, c.env.CONFIG, { kind: "promote", version: form.version });
      return redirectTo(c, `../models?flash=promoted&ref=${encodeURIComponent(form.version)}`);
    }),
  )
  .post(
    "/models/retire",
    action("admin", versionFormSchema, async (c, _s, form) => {
      await runModelAction(c.var.db, c.env.CONFIG, { kind: "retire", version: form.version });
      return redirectTo(c, `../models?flash=retired&ref=${encodeURIComponent(form.version)}`);
    }),
  )
  .post(
    "/models/rollback",
    action("admin", z.object({}), async (c) => {
      const { changes } = await runModelAction(c.var.db, c.env.CONFIG, { kind: "rollback" });
      return redirectTo(c, `../models?flash=rolled-back&ref=${encodeURIComponent(changes[1]?.version ?? "")}`);
    }),
  )
  .post(
    "/models/kill-switch",
    action("admin", killFormSchema, async (c, _s, form) => {
      const on = form.on === "true";
      await runModelAction(c.var.db, c.env.CONFIG, { kind: "kill-switch", on });
      return redirectTo(c, `../models?flash=${on ? "kill-on" : "kill-off"}`);
    }),
  );
