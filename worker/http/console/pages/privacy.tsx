import { Hono } from "hono";
import { z } from "zod";
import { revokeSubject } from "../../../privacy/erasure";
import { exportSubject } from "../../../privacy/export";
import {
  auditListSchema,
  consentListSchema,
  consentPerDay,
  listAudit,
  listConsent,
  listRequests,
  requestListSchema,
} from "../../../privacy/lists";
import { audit } from "../../../store/audit";
import { visitorStore } from "../../../visitors/client";
import { revocationRequestSchema } from "../../../wire/consent";
import type { AppEnv } from "../../app-env";
import { parseWith } from "../../routes/validate";
import { Chart, type ChartSpec } from "../chart";
import { action, page, redirectTo, render } from "../kit";
import { ActionForm } from "../layout";
import { dayRange, isoDay } from "../series";
import { DataTable } from "../table";
import { When } from "../when";

/** Privacy: revoke and export a subject, and read the requests, consent and audit logs (every read audited). */

const revokeFormSchema = z.object({ subjectId: z.string(), reason: z.string().optional() });

type PrivacyFilters = {
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

function PrivacyPage(props: {
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
            { header: "created", cell: (r) => <When at={r.createdAt} /> },
            { header: "completed", cell: (r) => <When at={r.completedAt} /> },
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
            { header: "at", cell: (r) => <When at={r.createdAt} /> },
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
            { header: "at", cell: (r) => <When at={r.createdAt} /> },
            { header: "role", cell: (r) => r.role },
            { header: "action", cell: (r) => r.action },
            { header: "target", cell: (r) => r.target ?? "–" },
          ]}
        />
      </section>
    </>
  );
}

/** Consent records per day and source, over the page's 30 days. */
function consentChart(range: string[], perDay: Awaited<ReturnType<typeof consentPerDay>>): ChartSpec {
  const sources = [...new Set(perDay.map((r) => r.source))].sort();
  return {
    kind: "time",
    unit: "count",
    x: range.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000),
    series: sources.map((source) => ({
      label: source,
      values: range.map((d) => Number(perDay.find((r) => r.day === d && r.source === source)?.records ?? 0)),
    })),
  };
}

export const privacyPage = new Hono<AppEnv>()
  .get(
    "/privacy",
    page("privacy", async (c, session) => {
      const q = c.req.query();
      const requestFilter = parseWith(requestListSchema, { status: q.status });
      const consentFilter = parseWith(consentListSchema, { site: q.site, source: q.source, subject: q.subject });
      const auditFilter = parseWith(auditListSchema, { role: q.role, action: q.action });
      const range = dayRange(30);
      const [requests, consent, auditEntries, perDay] = await Promise.all([
        listRequests(c.var.db, requestFilter),
        listConsent(c.var.db, consentFilter),
        listAudit(c.var.db, auditFilter),
        consentPerDay(c.var.db, range[0] ?? isoDay(Date.now()), range[range.length - 1] ?? isoDay(Date.now())),
      ]);
      await audit(c.var.db, { role: "privacy", action: "privacy.console.view", target: null });
      const body = PrivacyPage({
        csrf: session.csrf,
        filters: q,
        requests,
        consent,
        audit: auditEntries,
        consentChart: consentChart(range, perDay),
      });
      return render(c, session, { title: "Privacy", active: "privacy" }, body);
    }),
  )
  .post(
    "/privacy/revocations",
    action("privacy", revokeFormSchema, async (c, session, form) => {
      const { subjectId, reason } = parseWith(revocationRequestSchema, {
        subjectId: form.subjectId.trim(),
        reason: form.reason || undefined,
      });
      const { requestId } = await revokeSubject(c.var.db, c.env.EVENTS, visitorStore(c.env, c.var.config), {
        subjectId,
        reason,
        role: session.role,
      });
      return redirectTo(c, `../privacy?flash=revoked&ref=${requestId}`);
    }),
  )
  .get(
    "/privacy/export",
    page("privacy", async (c, session) => {
      const exported = await exportSubject(
        c.var.db,
        visitorStore(c.env, c.var.config),
        { bucket: c.env.LOG, sink: c.var.config.logSink },
        (c.req.query("subjectId") ?? "").trim(),
        {
          role: session.role,
          field: "subjectId",
        },
      );
      c.header("Cache-Control", "no-store");
      c.header("Content-Disposition", `attachment; filename="subject-export.json"`);
      return c.json(exported);
    }),
  );
