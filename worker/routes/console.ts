import { desc, eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { Child } from "hono/jsx";
import uPlotJs from "uplot/dist/uPlot.iife.min.js";
import uPlotCss from "uplot/dist/uPlot.min.css";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { revocationRequestSchema } from "../consent/schema";
import { subjectHash, VISITOR_ID } from "../consent/subject";
import clientCss from "../console/assets/console.client.css";
import clientJs from "../console/assets/console.client.js";
import type { ChartSpec } from "../console/chart";
import { FLASHES, type Flash, homeOf, type LayoutProps, PAGES, screen } from "../console/layout";
import { ContentPage, ErrorPanel, ExperimentsPage, ModelsPage, PerformancePage, PrivacyPage, SignIn } from "../console/pages";
import { countSeries, ctrSeries, dailyPerformance, dayRange, decisionSeries, isoDay, slotsIn } from "../console/series";
import { type ConsoleSession, endSession, readSession, sameOrigin, startSession, validCsrf } from "../console/session";
import { ApiError } from "../errors";
import { decisionsByDay, performanceReport, wilsonInterval } from "../events/report";
import { experimentsReport, explorationShare, fairnessReport, upliftReport } from "../experiments/report";
import { saveSitePolicy, sitePolicyOf } from "../experiments/site-policy";
import { roleOf } from "../middleware/auth";
import { previousLive } from "../models/lifecycle";
import { readRegistry } from "../models/registry-store";
import { modelReport } from "../models/report";
import { revokeSubject } from "../privacy/erasure";
import { exportSubject } from "../privacy/export";
import {
  auditListSchema,
  consentListSchema,
  consentPerDay,
  listAudit,
  listConsent,
  listRequests,
  requestListSchema,
} from "../privacy/lists";
import { auditLog, contentItems, contentVariants, sites, type TokenRole } from "../store/schema";
import { variantReport } from "../variants/report";
import { reviewVariant } from "../variants/review";
import { reviewRequestSchema } from "../variants/schema";
import { runModelAction, versionParam } from "./admin-models";
import { limitBody, parseWith } from "./validate";

/**
 * The console at /admin: server-rendered pages (Hono JSX, worker/console/) over the same report
 * functions and actions as the admin and privacy APIs, for people who would rather read a chart
 * than JSON. Sessions, CSRF and roles: worker/console/session.ts. Without a session a page
 * redirects to the sign-in form and an action is a 401; the wrong role gets a 403.
 */

type Ctx = Context<AppEnv>;

/** No inline script or style anywhere: data travels in non-executed JSON blocks. */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Served by the worker itself: nothing is fetched from elsewhere at run time. */
const ASSETS: Record<string, { body: string; type: string }> = {
  "console.client.js": { body: clientJs, type: "application/javascript; charset=utf-8" },
  "console.client.css": { body: clientCss, type: "text/css; charset=utf-8" },
  "uPlot.iife.min.js": { body: uPlotJs, type: "application/javascript; charset=utf-8" },
  "uPlot.min.css": { body: uPlotCss, type: "text/css; charset=utf-8" },
};

const siteId = z.string().min(1).max(64);
const MAX_FORM_BYTES = 128 * 1024;
const csrfField = z.string().min(1, "csrf: the form's token is missing").max(100);
const daysQuery = z.coerce
  .number()
  .int()
  .refine((d) => [7, 14, 30].includes(d), "days: 7, 14 or 30")
  .default(14);
const flashQuery = z.object({
  flash: z
    .enum(Object.keys(FLASHES) as [Flash, ...Flash[]])
    .optional()
    .catch(undefined),
  ref: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/)
    .optional()
    .catch(undefined),
});

const signInSchema = z.object({ token: z.string().min(1, "token: paste a token").max(500), next: z.string().optional() });
const reviewFormSchema = reviewRequestSchema.extend({ contentId: z.string().min(1).max(200), id: z.string().min(1).max(200) });
const blocklistFormSchema = z.object({ terms: z.string().max(100_000) });
const promoteFormSchema = z.object({ version: versionParam });
const killFormSchema = z.object({ on: z.enum(["true", "false"]) });
const revokeFormSchema = z.object({ subjectId: z.string(), reason: z.string().optional() });

/**
 * Only the console's own pages of the role, with a plain query, are a sign-in's destination: no
 * open redirect (no scheme, host, `//` or backslash), and nothing a Location header cannot carry
 * (no CR/LF). Anything else goes home.
 */
const NEXT_PAGE = /^([a-z-]{1,40})(\?[A-Za-z0-9._~%=&+-]{0,300})?$/;
const nextPage = (next: string | undefined, role: TokenRole): string => {
  const [, path, query = ""] = NEXT_PAGE.exec(next ?? "") ?? [];
  const page = PAGES.find((p) => p.path === path);
  return page?.role === role ? `${page.path}${query}` : homeOf(role);
};

function flashOf(c: Ctx): LayoutProps["flash"] {
  const { flash, ref } = flashQuery.parse(c.req.query());
  return flash ? { message: FLASHES[flash], ref } : null;
}

/** The page names are relative to /admin/ (see layout.tsx), so Location headers are too. */
const redirectTo = (c: Ctx, to: string) => c.redirect(to, 303);

function htmlError(c: Ctx, status: 400 | 403 | 404 | 409 | 422, message: string, session?: ConsoleSession) {
  const layout = session ? { role: session.role, csrf: session.csrf } : {};
  return c.html(
    screen({ title: "Console", ...layout }, ErrorPanel({ status, message, back: session ? homeOf(session.role) : "sign-in" })),
    status,
  );
}

/** A page for `role`: no session → the sign-in form; a session of the other role → 403. */
const page = (role: TokenRole, handler: (c: Ctx, session: ConsoleSession) => Promise<Response>) => async (c: Ctx) => {
  const session = await readSession(c);
  if (!session) {
    const here = new URL(c.req.url);
    // Relative to this page: `/admin/privacy/export` is one level below the sign-in form.
    const below = (here.pathname.split("/admin/")[1] ?? "").split("/").length - 1;
    const next = `${here.pathname.split("/").pop() ?? ""}${here.search}`;
    return redirectTo(c, `${"../".repeat(below)}sign-in?next=${encodeURIComponent(next)}`);
  }
  if (session.role !== role) return htmlError(c, 403, `this page needs the ${role} role; you are signed in as ${session.role}`, session);
  try {
    return await handler(c, session);
  } catch (err) {
    if (err instanceof ApiError && (err.status === 400 || err.status === 404)) return htmlError(c, err.status, err.message, session);
    throw err;
  }
};

/**
 * A form post for `role`: 401 without a session, 403 for the other role, a foreign Origin or a
 * missing or wrong CSRF token (checked before the body is parsed any further), then the handler.
 * A refused lifecycle step or bad input is shown as a page naming the problem.
 */
const action =
  <S extends z.ZodType>(role: TokenRole, schema: S, handler: (c: Ctx, session: ConsoleSession, form: z.infer<S>) => Promise<Response>) =>
  async (c: Ctx) => {
    const session = await readSession(c);
    if (!session) throw new ApiError(401, "unauthorized", "sign in to the console first");
    if (session.role !== role) throw new ApiError(403, "forbidden", `this action needs the ${role} role`);
    if (!sameOrigin(c)) throw new ApiError(403, "bad_origin", "the form was posted from another origin");
    const body = await c.req.parseBody().catch(() => {
      throw new ApiError(400, "invalid_form", "send the console's form");
    });
    const csrf = csrfField.safeParse(body.csrf);
    if (!csrf.success || !(await validCsrf(session, csrf.data)))
      throw new ApiError(403, "csrf", "the form's CSRF token is missing or wrong: reload the page");
    try {
      return await handler(c, session, parseWith(schema, body));
    } catch (err) {
      if (err instanceof ApiError && [400, 404, 409, 422].includes(err.status))
        return htmlError(c, err.status as 400 | 404 | 409 | 422, err.message, session);
      throw err;
    }
  };

/** The chosen site (the first one when none is asked for), and every site for the picker. */
async function siteOf(c: Ctx) {
  const all = await c.var.db.select({ id: sites.id, name: sites.name }).from(sites).orderBy(sites.id);
  const asked = c.req.query("site");
  const site = asked ? parseWith(siteId, asked) : all[0]?.id;
  if (!site) throw new ApiError(404, "unknown_site", "no site yet: add one to D1 (see the README, Deploying for real)");
  if (!all.some((s) => s.id === site)) throw new ApiError(404, "unknown_site", `no site "${site}"`, "site");
  return { site, sites: all };
}

function render(c: Ctx, session: ConsoleSession, layout: Pick<LayoutProps, "title" | "active" | "site" | "sites">, body: Child) {
  c.header("Cache-Control", "no-store");
  return c.html(screen({ ...layout, role: session.role, csrf: session.csrf, flash: flashOf(c) }, body));
}

const ctrPerItem = (rows: Awaited<ReturnType<typeof performanceReport>>): ChartSpec => {
  const items = [...new Set(rows.map((r) => r.contentId))].sort();
  const totals = items.map((id) =>
    rows
      .filter((r) => r.contentId === id)
      .reduce((t, r) => ({ impressions: t.impressions + r.impressions, clicks: t.clicks + r.clicks }), { impressions: 0, clicks: 0 }),
  );
  const bands = totals.map((t) => wilsonInterval(t.clicks, t.impressions));
  return {
    kind: "bars",
    unit: "ratio",
    x: items.map((_, i) => i),
    labels: items,
    series: [
      {
        label: "CTR",
        values: totals.map((t) => (t.impressions ? t.clicks / t.impressions : null)),
        low: bands.map((b) => b?.low ?? null),
        high: bands.map((b) => b?.high ?? null),
      },
    ],
  };
};

export const consoleRoutes = new Hono<AppEnv>()
  .use(async (c, next) => {
    await next();
    c.header("Content-Security-Policy", CONSOLE_CSP);
    c.header("X-Content-Type-Options", "nosniff");
    c.header("Referrer-Policy", "same-origin");
    c.header("X-Frame-Options", "DENY");
    c.header("Cross-Origin-Opener-Policy", "same-origin");
  })
  // Forms are small; the blocklist is the largest (1,000 terms of at most 100 characters).
  .post("*", limitBody(MAX_FORM_BYTES))
  .get("/assets/:name", (c) => {
    const asset = ASSETS[c.req.param("name")];
    if (!asset) throw new ApiError(404, "not_found", `no console asset "${c.req.param("name")}"`);
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=300" });
  })
  // `/admin` and `/admin/` (which Hono's strict routing does not match to "/", hence the middleware).
  .use(async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (!path.endsWith("/admin") && !path.endsWith("/admin/")) return next();
    const session = await readSession(c);
    const to = session ? homeOf(session.role) : "sign-in";
    return redirectTo(c, path.endsWith("/") ? to : `admin/${to}`);
  })
  .get("/sign-in", async (c) => {
    const session = await readSession(c);
    if (session) return redirectTo(c, homeOf(session.role));
    const signedOut = c.req.query("flash") === "signed-out";
    return c.html(
      screen(
        { title: "Sign in", flash: signedOut ? { message: FLASHES["signed-out"] } : null },
        SignIn({ next: c.req.query("next")?.slice(0, 200) }),
      ),
    );
  })
  .post("/sign-in", async (c) => {
    if (!sameOrigin(c)) throw new ApiError(403, "bad_origin", "the form was posted from another origin");
    const form = signInSchema.safeParse(await c.req.parseBody().catch(() => ({})));
    const role = form.success ? await roleOf(form.data.token, c.env) : null;
    if (!form.success || !role) {
      // Neither a missing nor an unknown token leaves a trace; the answer does not say which it was.
      return c.html(screen({ title: "Sign in" }, SignIn({ error: "That token is not valid.", next: form.data?.next })), 401);
    }
    await startSession(c, role);
    return redirectTo(c, nextPage(form.data.next, role));
  })
  .post("/sign-out", async (c) => {
    const session = await readSession(c);
    if (!session) throw new ApiError(401, "unauthorized", "no console session");
    if (!sameOrigin(c)) throw new ApiError(403, "bad_origin", "the form was posted from another origin");
    const body = await c.req.parseBody().catch(() => ({}) as Record<string, unknown>);
    const csrf = csrfField.safeParse(body.csrf);
    if (!csrf.success || !(await validCsrf(session, csrf.data)))
      throw new ApiError(403, "csrf", "the form's CSRF token is missing or wrong");
    await endSession(c, session);
    return redirectTo(c, "sign-in?flash=signed-out");
  })

  // ---- Performance ----
  .get(
    "/performance",
    page("admin", async (c, session) => {
      const { site, sites: all } = await siteOf(c);
      const days = parseWith(daysQuery, c.req.query("days"));
      const range = dayRange(days);
      const query = { site, from: range[0] ?? isoDay(Date.now()), to: range[range.length - 1] ?? isoDay(Date.now()) };
      const [daily, totals, decisions, uplift, exploration] = await Promise.all([
        dailyPerformance(c.var.db, site, range),
        performanceReport(c.var.db, query),
        decisionsByDay(c.var.db, query),
        upliftReport(c.var.db, query),
        explorationShare(c.var.db, query),
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
      });
      return render(c, session, { title: "Performance", active: "performance", site, sites: all }, body);
    }),
  )

  // ---- Content & variants ----
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
      const shown = variantStats.variants.filter((v) => v.impressions > 0);
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
        variantChart: {
          kind: "bars",
          unit: "ratio",
          x: shown.map((_, i) => i),
          labels: shown.map((v) => `${v.contentId}/${v.variantId}`),
          series: [{ label: "CTR", values: shown.map((v) => v.ctr), low: shown.map((v) => v.ctrLow), high: shown.map((v) => v.ctrHigh) }],
        },
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
  )

  // ---- Models ----
  .get(
    "/models",
    page("admin", async (c, session) => {
      const { site, sites: all } = await siteOf(c);
      const [report, registry] = await Promise.all([modelReport(c.var.db, { site }), readRegistry(c.var.db)]);
      const versions = report.versions;
      const scores: ChartSpec = {
        kind: "bars",
        unit: "ratio",
        x: Array.from({ length: 10 }, (_, i) => i),
        labels: Array.from({ length: 10 }, (_, i) => `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`),
        series: versions.filter((v) => v.scores.count > 0).map((v) => ({ label: v.version, values: v.scores.histogram })),
      };
      const withCtr = versions.filter((v) => v.impressions > 0);
      const ctr: ChartSpec = {
        kind: "bars",
        unit: "ratio",
        x: withCtr.map((_, i) => i),
        labels: withCtr.map((v) => v.version),
        series: [
          { label: "CTR", values: withCtr.map((v) => v.ctr), low: withCtr.map((v) => v.ctrLow), high: withCtr.map((v) => v.ctrHigh) },
        ],
      };
      const body = ModelsPage({
        csrf: session.csrf,
        report,
        killSwitch: registry.killSwitch,
        scores,
        ctr,
        canRollback: previousLive(registry.rows) !== null,
      });
      return render(c, session, { title: "Models", active: "models", site, sites: all }, body);
    }),
  )
  .post(
    "/models/promote",
    action("admin", promoteFormSchema, async (c, _s, form) => {
      await runModelAction(c.var.db, c.env.CONFIG, { kind: "promote", version: form.version });
      return redirectTo(c, `../models?flash=promoted&ref=${encodeURIComponent(form.version)}`);
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
  )

  // ---- Experiments & fairness ----
  .get(
    "/experiments",
    page("admin", async (c, session) => {
      const { site, sites: all } = await siteOf(c);
      const policy = await sitePolicyOf(c.var.db, site);
      const [experiments, fairness] = await Promise.all([
        experimentsReport(c.var.db, { site }, policy),
        fairnessReport(c.var.db, { site }, policy),
      ]);
      const splits: ChartSpec[] = experiments.map((e) => {
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
      });
      const segments: ChartSpec[] = fairness.map((f) => ({
        kind: "bars",
        unit: "ratio",
        x: f.values.map((_, i) => i),
        labels: f.values.map((v) => v.value),
        series: [
          { label: "exposure share", values: f.values.map((v) => v.exposureShare) },
          { label: "CTR", values: f.values.map((v) => v.ctr) },
        ],
      }));
      const body = ExperimentsPage({ site, experiments, splits, fairness, segments });
      return render(c, session, { title: "Experiments & fairness", active: "experiments", site, sites: all }, body);
    }),
  )

  // ---- Privacy ----
  .get(
    "/privacy",
    page("privacy", async (c, session) => {
      const q = c.req.query();
      const requestFilter = parseWith(requestListSchema, { status: q.status });
      const consentFilter = parseWith(consentListSchema, { site: q.site, source: q.source, subject: q.subject });
      const auditFilter = parseWith(auditListSchema, { role: q.role, action: q.action });
      const range = dayRange(30);
      const [requests, consent, audit, perDay] = await Promise.all([
        listRequests(c.var.db, requestFilter),
        listConsent(c.var.db, consentFilter),
        listAudit(c.var.db, auditFilter),
        consentPerDay(c.var.db, range[0] ?? isoDay(Date.now()), range[range.length - 1] ?? isoDay(Date.now())),
      ]);
      await c.var.db.insert(auditLog).values({ role: "privacy", action: "privacy.console.view", target: null });
      const sources = [...new Set(perDay.map((r) => r.source))].sort();
      const consentChart: ChartSpec = {
        kind: "time",
        unit: "count",
        x: range.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000),
        series: sources.map((source) => ({
          label: source,
          values: range.map((d) => Number(perDay.find((r) => r.day === d && r.source === source)?.records ?? 0)),
        })),
      };
      const body = PrivacyPage({ csrf: session.csrf, filters: q, requests, consent, audit, consentChart });
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
      const { requestId } = await revokeSubject(c.var.db, c.env.EVENTS, { subjectId, reason, role: session.role });
      return redirectTo(c, `../privacy?flash=revoked&ref=${requestId}`);
    }),
  )
  .get(
    "/privacy/export",
    page("privacy", async (c) => {
      const subjectId = (c.req.query("subjectId") ?? "").trim();
      if (!VISITOR_ID.test(subjectId)) throw new ApiError(400, "invalid_request", "subjectId: must be a visitor id (UUID v4)", "subjectId");
      await c.var.db.insert(auditLog).values({ role: "privacy", action: "privacy.subject.export", target: await subjectHash(subjectId) });
      c.header("Cache-Control", "no-store");
      c.header("Content-Disposition", `attachment; filename="subject-export.json"`);
      return c.json(await exportSubject(c.var.db, c.env.PROFILES, subjectId));
    }),
  );
