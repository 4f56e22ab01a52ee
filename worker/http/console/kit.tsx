import type { Context } from "hono";
import type { Child } from "hono/jsx";
import { z } from "zod";
import { ApiError } from "../../lib/errors";
import { sites, type TokenRole } from "../../store/schema";
import type { AppEnv } from "../app-env";
import { parseWith } from "../routes/validate";
import { FLASHES, type Flash, homeOf, type LayoutProps, screen } from "./layout";
import type { ConsoleSession } from "./session-schema";

/**
 * What every console page module uses: `page()` and `action()` wrap a handler with the role it
 * needs, `render()` puts a page body in the layout, `siteOf()` reads the site picker. Sessions
 * and CSRF are checked before any of this by ./guard.ts.
 */

export type Ctx = Context<AppEnv>;

const siteId = z.string().min(1).max(64);
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

/** The period pickers' choices. */
export const daysQuery = z.coerce
  .number()
  .int()
  .refine((d) => [7, 14, 30].includes(d), "days: 7, 14 or 30")
  .default(14);

function flashOf(c: Ctx): LayoutProps["flash"] {
  const { flash, ref } = flashQuery.parse(c.req.query());
  return flash ? { message: FLASHES[flash], ref } : null;
}

/** The page names are relative to /admin/ (see layout.tsx), so Location headers are too. */
export const redirectTo = (c: Ctx, to: string) => c.redirect(to, 303);

export function htmlError(c: Ctx, status: 400 | 403 | 404 | 409 | 422, message: string, session?: ConsoleSession | null) {
  const layout = session ? { role: session.role, csrf: session.csrf } : {};
  return c.html(
    screen({ title: "Console", ...layout }, ErrorPanel({ status, message, back: session ? homeOf(session.role) : "sign-in" })),
    status,
  );
}

function ErrorPanel(props: { status: number; message: string; back?: string }) {
  return (
    <div class="card">
      <p class="error" role="alert">
        {props.status}: {props.message}
      </p>
      {props.back ? <a href={props.back}>Back</a> : null}
    </div>
  );
}

/** A page for `role`: no session → the sign-in form; a session of the other role → 403. */
export const page = (role: TokenRole, handler: (c: Ctx, session: ConsoleSession) => Promise<Response>) => async (c: Ctx) => {
  const session = c.var.session;
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

const shownAsPage = [400, 404, 409, 422] as const;
const isShownAsPage = (status: number): status is (typeof shownAsPage)[number] => (shownAsPage as readonly number[]).includes(status);

/**
 * A form post for `role` (./guard.ts has already checked the session, the Origin and the CSRF
 * token): 403 for the other role, then the handler with the form parsed by `schema`. A refused
 * lifecycle step or bad input is shown as a page naming the problem.
 */
export const action =
  <S extends z.ZodType>(role: TokenRole, schema: S, handler: (c: Ctx, session: ConsoleSession, form: z.infer<S>) => Promise<Response>) =>
  async (c: Ctx) => {
    const session = c.var.session;
    if (!session) throw new ApiError(401, "unauthorized", "sign in to the console first");
    if (session.role !== role) throw new ApiError(403, "forbidden", `this action needs the ${role} role`);
    try {
      return await handler(c, session, parseWith(schema, c.var.form ?? {}));
    } catch (err) {
      if (err instanceof ApiError && isShownAsPage(err.status)) return htmlError(c, err.status, err.message, session);
      throw err;
    }
  };

/** The chosen site (the first one when none is asked for), and every site for the picker. */
export async function siteOf(c: Ctx) {
  const all = await c.var.db.select({ id: sites.id, name: sites.name }).from(sites).orderBy(sites.id);
  const asked = c.req.query("site");
  const site = asked ? parseWith(siteId, asked) : all[0]?.id;
  if (!site)
    throw new ApiError(404, "unknown_site", "no site yet: add one on the Sites page, with npm run site -- create, or POST /v1/admin/sites");
  if (!all.some((s) => s.id === site)) throw new ApiError(404, "unknown_site", `no site "${site}"`, "site");
  return { site, sites: all };
}

export function render(c: Ctx, session: ConsoleSession, layout: Pick<LayoutProps, "title" | "active" | "site" | "sites">, body: Child) {
  c.header("Cache-Control", "no-store");
  return c.html(screen({ ...layout, role: session.role, csrf: session.csrf, flash: flashOf(c) }, body));
}
