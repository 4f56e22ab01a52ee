import { Hono } from "hono";
import { consentBanner } from "../../demo/consent-banner";
import { LOGO_SVG, productImage, productPage, shopPage, slowLargePage } from "../../demo/shop-page";
import { tagVersion } from "../../tag/version";
import type { AppEnv } from "../app-env";

/** The bundled demo origin that the demo site's edge route fetches in-process (`bundled:demo`). */
export const demoOrigin = new Hono()
  .get("/", (c) => c.html(shopPage()))
  // The same shop in French: the edge route reads the language from Content-Language.
  .get("/fr", (c) => c.html(shopPage("Boutique de mode (démo)", "fr"), 200, { "content-language": "fr" }))
  .get("/large", (c) => {
    const chunks = Math.min(Math.max(Number(c.req.query("chunks") ?? 50) || 50, 1), 2000);
    const delayMs = Math.min(Math.max(Number(c.req.query("delay") ?? 20) || 0, 0), 1000);
    return c.body(slowLargePage(chunks, delayMs), 200, { "content-type": "text/html; charset=utf-8" });
  })
  .get("/logo.svg", (c) => c.body(LOGO_SVG, 200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=3600" }))
  // A form post: other methods than GET reach the origin with their body, through the edge route too.
  .post("/newsletter", async (c) => c.text(`subscribed ${String((await c.req.parseBody()).email ?? "")}`, 201));

/** Demo pages: the shop with the script tag, and the shop through the edge-rewriting route. */
export const demoRoutes = new Hono<AppEnv>()
  .route("/origin", demoOrigin)
  .get("/edge", (c) => c.redirect("/edge/demo/"))
  .get("/img/:file{[A-Za-z0-9_-]+\\.svg}", (c) => {
    const id = c.req.param("file").replace(/\.svg$/, "");
    return c.body(productImage(id), 200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" });
  })
  .get("/products/:id{[A-Za-z0-9_-]+}", (c) => c.html(productPage(c.req.param("id"))))
  .get("/tag", async (c) => {
    const site = /^[A-Za-z0-9_-]{1,64}$/.test(c.req.query("site") ?? "") ? (c.req.query("site") as string) : "demo";
    const timeout = /^\d{2,5}$/.test(c.req.query("timeout") ?? "") ? ` data-timeout="${c.req.query("timeout")}"` : "";
    const lang = c.req.query("lang") === "fr" ? "fr" : "en";
    const tag = `<script src="/v1/tag.js?v=${await tagVersion()}" data-site="${site}"${timeout} async></script>`;
    return c.html(
      shopPage("Demo fashion shop (script tag)", lang)
        .replace("</head>", `${tag}\n</head>`)
        .replace("</header>", `</header>\n${consentBanner(site)}`),
    );
  });
