import { Hono } from "hono";
import { ApiError } from "../../lib/errors";
import { fetchFromOrigin } from "../../rewrite/origin";
import { escapeHtml } from "../../rewrite/render";
import { slotRewriter } from "../../rewrite/rewriter";
import { loadCatalogue } from "../../site/catalogue";
import { tagVersion } from "../../tag/version";
import type { AppEnv } from "../app-env";
import { decisionForRequest } from "../decision";
import { keepAliveOf } from "../keep-alive";
import { mountPrefix } from "../mount";
import { demoOrigin } from "./demo";

const isHtml = (res: Response) => (res.headers.get("content-type") ?? "").toLowerCase().startsWith("text/html");

/**
 * The CDN route: `/edge/<site>/<path>` fetches `<path>` from the site's origin and fills its
 * `[data-slot]` elements with HTMLRewriter while the page streams (the body is never buffered).
 * The site's slots are decided once, when a GET is answered with HTML. Other methods, non-HTML and
 * non-2xx answers pass through byte for byte; a failed decision leaves the origin's page untouched.
 * The script tag is added to the head to report impressions and clicks of the filled slots.
 * On a site's own host (EDGE_HOSTS, see ../rewrite/hosts.ts) every page of the host comes here.
 */
export const edgeRoutes = new Hono<AppEnv>().all("/:site/*", async (c) => {
  const siteId = c.req.param("site");
  const { catalogue } = await loadCatalogue(c.var.db, c.env.CONFIG, siteId, c.var.config.configTtlMs, keepAliveOf(c)).catch(() => ({
    catalogue: null,
  }));
  if (!catalogue?.site.originUrl) throw new ApiError(404, "unknown_site", `no site "${siteId}" with an origin to rewrite`, "site");
  const url = new URL(c.req.url);
  // The path after `/edge/<site>` as the request spelled it (the site's segment may be percent-encoded).
  const rest = url.pathname.slice("/edge/".length);
  const pagePath = rest.includes("/") ? rest.slice(rest.indexOf("/")) : "/";

  const origin = await fetchFromOrigin(catalogue.site.originUrl, pagePath, url.search, c.req.raw, (req) => demoOrigin.fetch(req));
  if (!origin.ok || !isHtml(origin) || c.req.method !== "GET") return origin;

  // Decided only once the origin answers with HTML, so that no decision is logged for assets.
  // Set-Cookie from the decision (a new visitor's id) must be known before the headers go out.
  // The page's language, for content variants, is what the origin says it wrote.
  const language = origin.headers.get("content-language")?.split(",")[0]?.trim();
  const answer = await decisionForRequest(
    c,
    {
      site: siteId,
      page: {
        url: `${url.origin}${pagePath}`,
        ...(c.req.header("referer") ? { referrer: c.req.header("referer") } : {}),
        ...(language ? { language } : {}),
      },
      slots: catalogue.slots.map((slot) => ({ id: slot.id })),
    },
    { channel: "edge" },
  ).catch(() => null);

  const headers = new Headers(origin.headers);
  headers.delete("content-length");
  headers.set("cache-control", "private, max-age=0");
  headers.append("vary", "Cookie, Sec-GPC");
  for (const cookie of c.res.headers.getSetCookie()) headers.append("set-cookie", cookie);
  // Under the worker's mount point: on a site's own host, "/v1/..." would be the site's path.
  const tag = `<script src="${mountPrefix(c.env.PATH_PREFIX)}/v1/tag.js?v=${await tagVersion()}" data-site="${escapeHtml(siteId)}" async></script>`;
  return slotRewriter(answer, tag).transform(new Response(origin.body, { status: origin.status, headers }));
});
