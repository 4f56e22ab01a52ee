import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import uPlotJs from "uplot/dist/uPlot.iife.min.js";
import uPlotCss from "uplot/dist/uPlot.min.css";
import { ApiError } from "../../lib/errors";
import type { AppEnv } from "../app-env";
import { limitBody } from "../routes/validate";
import clientCss from "./assets/console.client.css";
import clientJs from "./assets/console.client.js";
import { consoleCsrf, withConsoleSession } from "./guard";
import { redirectTo } from "./kit";
import { homeOf } from "./layout";
import { contentPage } from "./pages/content";
import { experimentsPage } from "./pages/experiments";
import { modelsPage } from "./pages/models";
import { performancePage } from "./pages/performance";
import { privacyPage } from "./pages/privacy";
import { segmentsPage } from "./pages/segments";
import { signInPage } from "./pages/sign-in";
import { sitesPage } from "./pages/sites";

/**
 * The console at /admin: server-rendered pages (Hono JSX, one module per page in ./pages) over
 * the same report functions and actions as the admin and privacy APIs, for people who would
 * rather read a chart than JSON. Sessions: ./session.ts; the session and CSRF checks: ./guard.ts.
 * Without a session a page redirects to the sign-in form and an action is a 401; the wrong role
 * gets a 403.
 */

/** No inline script or style anywhere: data travels in non-executed JSON blocks. */
const CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};
/** The header as browsers receive it (secureHeaders writes the directives in this order). */
export const CONSOLE_CSP = Object.entries(CSP)
  .map(([directive, values]) => `${directive.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)} ${values.join(" ")}`)
  .join("; ");

/** Served by the worker itself: nothing is fetched from elsewhere at run time. */
const ASSETS: Record<string, { body: string; type: string }> = {
  "console.client.js": { body: clientJs, type: "application/javascript; charset=utf-8" },
  "console.client.css": { body: clientCss, type: "text/css; charset=utf-8" },
  "uPlot.iife.min.js": { body: uPlotJs, type: "application/javascript; charset=utf-8" },
  "uPlot.min.css": { body: uPlotCss, type: "text/css; charset=utf-8" },
};

/** Forms are small; the blocklist is the largest (1,000 terms of at most 100 characters). */
const MAX_FORM_BYTES = 128 * 1024;
/** A catalogue feed upload: a preview waits in KV, whose values hold at most 25 MiB. */
const MAX_FEED_UPLOAD_BYTES = 24 * 1024 * 1024;
const formLimit = limitBody(MAX_FORM_BYTES);
const feedLimit = limitBody(MAX_FEED_UPLOAD_BYTES);

export const consoleRoutes = new Hono<AppEnv>()
  .use(
    secureHeaders({
      contentSecurityPolicy: CSP,
      xFrameOptions: "DENY",
      // same-origin, not no-referrer: a form post must carry its Origin for the CSRF check.
      referrerPolicy: "same-origin",
      crossOriginOpenerPolicy: true,
    }),
  )
  .post("*", (c, next) => (new URL(c.req.url).pathname.endsWith("/sites/import") ? feedLimit(c, next) : formLimit(c, next)))
  .get("/assets/:name", (c) => {
    const asset = ASSETS[c.req.param("name")];
    if (!asset) throw new ApiError(404, "not_found", `no console asset "${c.req.param("name")}"`);
    return c.body(asset.body, 200, { "content-type": asset.type, "cache-control": "public, max-age=300" });
  })
  .use(withConsoleSession)
  // `/admin` and `/admin/` (which Hono's strict routing does not match to "/", hence the middleware).
  .use(async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (!path.endsWith("/admin") && !path.endsWith("/admin/")) return next();
    const to = c.var.session ? homeOf(c.var.session.role) : "sign-in";
    return redirectTo(c, path.endsWith("/") ? to : `admin/${to}`);
  })
  .use(consoleCsrf)
  .route("/", signInPage)
  .route("/", performancePage)
  .route("/", contentPage)
  .route("/", modelsPage)
  .route("/", segmentsPage)
  .route("/", experimentsPage)
  .route("/", sitesPage)
  .route("/", privacyPage);
