import { Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../../../lib/errors";
import { type FeedFormat, formatOf, type ImportResult, importFeed } from "../../../site/feeds/import";
import { FeedError } from "../../../site/feeds/rows";
import { recentImports } from "../../../site/items";
import { archiveSite, createSite, createSlot, listSites, showSite, updateSite, updateSlot } from "../../../site/sites";
import { resourceId, siteInputSchema, siteUpdateSchema, slotInputSchema } from "../../../wire/catalogue";
import type { AppEnv } from "../../app-env";
import { parseWith } from "../../routes/validate";
import { action, type Ctx, page, redirectTo, render } from "../kit";
import { ActionForm } from "../layout";
import type { ConsoleSession } from "../session-schema";
import { DataTable } from "../table";
import { When } from "../when";
import { ImportPreview, ImportSection, SiteFields, SlotsSection } from "./site-forms";

/**
 * Sites: every site, a form to create one, and for the chosen site its settings, slots and
 * catalogue imports. Forms send the admin API's fields and are checked by the same schemas
 * (worker/wire/catalogue.ts); an import is previewed first (the feed waits in KV for half an
 * hour under a random key) and applied in one transaction.
 */

/** Form fields as the API's JSON: lines to lists, empty optional URLs to null. */
const siteForm = (form: Record<string, unknown>) => {
  const text = (name: string) => (typeof form[name] === "string" ? (form[name] as string).trim() : undefined);
  const optional = (name: string) => (text(name) === undefined ? undefined : text(name) || null);
  return Object.fromEntries(
    Object.entries({
      id: text("id"),
      name: text("name"),
      allowedOrigins: text("allowedOrigins")
        ?.split(/\r?\n/)
        .map((o) => o.trim())
        .filter(Boolean),
      consentModel: text("consentModel"),
      timezone: text("timezone"),
      originUrl: optional("originUrl"),
      feedUrl: optional("feedUrl"),
    }).filter(([, v]) => v !== undefined),
  );
};
const formRecord = z.record(z.string(), z.unknown());
const siteQuery = (c: Ctx) => parseWith(resourceId, c.req.query("site"));
const backTo = (site: string, flash: string) => `../sites?site=${encodeURIComponent(site)}&flash=${flash}`;

const IMPORT_STASH_TTL_S = 30 * 60;
const stashKey = (id: string) => `console-import:${id}`;
const stashSchema = z.object({
  site: z.string(),
  format: z.enum(["csv", "merchant"]),
  mode: z.enum(["full", "partial"]),
  text: z.string(),
});

async function renderSites(c: Ctx, session: ConsoleSession) {
  const { sites: all } = await listSites(c.var.db, { limit: 500 });
  const chosen = c.req.query("site");
  const site = chosen ? await showSite(c.var.db, parseWith(resourceId, chosen)) : null;
  const preview = site ? await previewOf(c, site.id) : undefined;
  const imports = site ? await recentImports(c.var.db, site.id, 10) : [];
  const q = site ? `?site=${encodeURIComponent(site.id)}` : "";
  const body = (
    <>
      <section aria-labelledby="sites-h" class="card">
        <h2 id="sites-h">Sites</h2>
        <DataTable
          id="sites"
          caption="Sites"
          rows={all}
          empty="No site yet: create the first one below."
          rowAttrs={(s) => ({ "data-site-id": s.id })}
          columns={[
            { header: "site", rowHeader: true, cell: (s) => <a href={`sites?site=${encodeURIComponent(s.id)}`}>{s.id}</a> },
            { header: "name", cell: (s) => s.name },
            { header: "consent", cell: (s) => s.consentModel },
            { header: "status", cell: (s) => s.status },
          ]}
        />
        <details open={all.length === 0}>
          <summary>Create a site</summary>
          <ActionForm action="sites/create" csrf={session.csrf} class="stack">
            <SiteFields />
            <button type="submit">Create site</button>
          </ActionForm>
        </details>
      </section>
      {site ? (
        <>
          <section aria-labelledby="settings-h" class="card" data-site={site.id}>
            <h2 id="settings-h">Settings of {site.id}</h2>
            <ActionForm action={`sites/update${q}`} csrf={session.csrf} class="stack">
              <SiteFields site={site} />
              <button type="submit">Save settings</button>
            </ActionForm>
            {site.status === "active" ? (
              <ActionForm action={`sites/archive${q}`} csrf={session.csrf}>
                <button type="submit" class="danger">
                  Archive this site
                </button>
              </ActionForm>
            ) : null}
          </section>
          <SlotsSection site={site} csrf={session.csrf} />
          {preview ? <ImportPreview site={site.id} result={preview.result} stash={preview.stash} csrf={session.csrf} /> : null}
          <ImportSection site={site} csrf={session.csrf} />
          {imports.length ? (
            <section aria-labelledby="imports-h" class="card">
              <h2 id="imports-h">Recent imports</h2>
              <DataTable
                caption="Recent imports"
                rows={imports}
                columns={[
                  { header: "at", cell: (i) => <When at={i.createdAt} /> },
                  { header: "source", cell: (i) => i.source },
                  { header: "mode", cell: (i) => i.mode },
                  { header: "status", cell: (i) => (i.error ? `${i.status}: ${i.error}` : i.status) },
                  {
                    header: "added / changed / archived / refused",
                    cell: (i) => `${i.added} / ${i.changed} / ${i.archived} / ${i.refused}`,
                  },
                ]}
              />
            </section>
          ) : null}
        </>
      ) : null}
    </>
  );
  return render(c, session, { title: "Sites", active: "sites", ...(site ? { site: site.id } : {}), sites: all }, body);
}

/** The stashed feed named by `?preview=`, planned again against the site's items as they are now. */
async function previewOf(c: Ctx, site: string): Promise<{ result: ImportResult; stash: string } | undefined> {
  const stash = z.uuid().safeParse(c.req.query("preview"));
  if (!stash.success) return undefined;
  const feed = await stashedFeed(c, stash.data, site);
  const result = await importFeedOr400(c, site, feed.text, { format: feed.format, mode: feed.mode, dryRun: true });
  return { result, stash: stash.data };
}

async function stashedFeed(c: Ctx, stash: string, site: string) {
  const parsed = stashSchema.safeParse(await c.env.CONFIG.get(stashKey(stash), "json"));
  if (!parsed.success || parsed.data.site !== site) {
    throw new ApiError(400, "import_expired", "this preview is no longer available (after 30 minutes): upload the feed again", "stash");
  }
  return parsed.data;
}

/**
 * The upload is checked, stashed and answered with a redirect to the Sites page showing its
 * preview (post, redirect, get: the page's relative links and a reload stay right).
 */
async function previewImport(c: Ctx) {
  const site = siteQuery(c);
  const form = c.var.form ?? {};
  const file = form.feed;
  if (!(file instanceof File) || file.size === 0) throw new ApiError(400, "invalid_request", "feed: choose a CSV or XML feed file", "feed");
  const text = await file.text();
  const format: FeedFormat = formatOf(text, file.type || (file.name.endsWith(".csv") ? "text/csv" : undefined));
  const mode = form.mode === "full" ? "full" : "partial";
  // A feed that cannot be read at all is refused here, before anything is stashed.
  await importFeedOr400(c, site, text, { format, mode, dryRun: true });
  const stash = crypto.randomUUID();
  await c.env.CONFIG.put(stashKey(stash), JSON.stringify({ site, format, mode, text }), { expirationTtl: IMPORT_STASH_TTL_S });
  return redirectTo(c, `../sites?site=${encodeURIComponent(site)}&preview=${stash}`);
}

function importFeedOr400(c: Ctx, site: string, text: string, options: { format: FeedFormat; mode: "full" | "partial"; dryRun: boolean }) {
  return importFeed(c.var.db, site, text, { ...options, source: `console:${options.format}`, role: "admin" }).catch((err: unknown) => {
    throw err instanceof FeedError ? new ApiError(400, "invalid_feed", err.message, "feed") : err;
  });
}

export const sitesPage = new Hono<AppEnv>()
  .get("/sites", page("admin", renderSites))
  .post(
    "/sites/create",
    action("admin", formRecord, async (c, session, form) => {
      const site = await createSite(c.var.db, parseWith(siteInputSchema, siteForm(form)), session.role);
      return redirectTo(c, backTo(site.id, "site-created"));
    }),
  )
  .post(
    "/sites/update",
    action("admin", formRecord, async (c, session, form) => {
      const site = siteQuery(c);
      await updateSite(c.var.db, site, parseWith(siteUpdateSchema, siteForm(form)), session.role);
      return redirectTo(c, backTo(site, "site-saved"));
    }),
  )
  .post(
    "/sites/archive",
    action("admin", z.looseObject({}), async (c, session) => {
      const site = siteQuery(c);
      await archiveSite(c.var.db, site, session.role);
      return redirectTo(c, backTo(site, "site-archived"));
    }),
  )
  .post(
    "/sites/slots",
    action("admin", formRecord, async (c, session, form) => {
      const site = siteQuery(c);
      const slot = parseWith(slotInputSchema, {
        id: form.id,
        name: form.name,
        defaultCount: Number(form.defaultCount ?? 1),
        maxCount: Number(form.maxCount ?? 10),
      });
      await createSlot(c.var.db, site, slot, session.role);
      return redirectTo(c, backTo(site, "slot-added"));
    }),
  )
  .post(
    "/sites/slots/archive",
    action("admin", z.looseObject({ slot: resourceId }), async (c, session, form) => {
      const site = siteQuery(c);
      await updateSlot(c.var.db, site, form.slot, { status: "archived" }, session.role);
      return redirectTo(c, backTo(site, "slot-archived"));
    }),
  )
  .post(
    "/sites/import",
    action("admin", z.looseObject({}), (c) => previewImport(c)),
  )
  .post(
    "/sites/import/apply",
    action("admin", z.looseObject({ stash: z.uuid() }), async (c, session, form) => {
      const site = siteQuery(c);
      const { format, mode, text } = await stashedFeed(c, form.stash, site);
      await importFeedOr400(c, site, text, { format, mode, dryRun: false });
      await c.env.CONFIG.delete(stashKey(form.stash));
      return redirectTo(c, `../../sites?site=${encodeURIComponent(site)}&flash=import-applied`);
    }),
  );
