import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { LOGO_SVG, shopPage, slowLargePage } from "../demo/shop-page";

/** The bundled demo origin that the demo site's edge route fetches in-process (`bundled:demo`). */
export const demoOrigin = new Hono()
  .get("/", (c) => c.html(shopPage()))
  .get("/large", (c) => {
    const chunks = Math.min(Math.max(Number(c.req.query("chunks") ?? 50) || 50, 1), 2000);
    const delayMs = Math.min(Math.max(Number(c.req.query("delay") ?? 20) || 0, 0), 1000);
    return c.body(slowLargePage(chunks, delayMs), 200, { "content-type": "text/html; charset=utf-8" });
  })
  .get("/logo.svg", (c) => c.body(LOGO_SVG, 200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=3600" }));

/** Demo pages: the shop through the edge-rewriting route. TODO(#5): `/demo/tag` once the script tag exists. */
export const demoRoutes = new Hono<AppEnv>().route("/origin", demoOrigin).get("/edge", (c) => c.redirect("/edge/demo/"));
