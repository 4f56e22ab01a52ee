import { Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../../lib/errors";
import { formatOf, importFeed } from "../../site/feeds/import";
import { FeedError } from "../../site/feeds/rows";
import { archiveItem, listItems, putItem, recentImports, showItem } from "../../site/items";
import { archiveSite, createSite, createSlot, listSites, listSlots, showSite, updateSite, updateSlot } from "../../site/sites";
import { contentStatuses } from "../../store/schema";
import {
  itemId,
  itemInputSchema,
  pageQuerySchema,
  resourceId,
  siteInputSchema,
  siteUpdateSchema,
  slotInputSchema,
  slotUpdateSchema,
} from "../../wire/catalogue";
import type { AppEnv } from "../app-env";
import { jsonBody, limitBody, parseWith } from "./validate";

/**
 * Onboarding under /v1/admin (bearer `ADMIN_TOKEN`): sites, their slots and their items as
 * resources, and catalogue imports from a CSV or a Google Merchant Center feed. Every body is
 * checked by the schemas in worker/wire/catalogue.ts; every change is audited.
 */

/** A 10,000-item feed is about 5 MB; this leaves room for long descriptions. */
export const MAX_FEED_BYTES = 32 * 1024 * 1024;
const MAX_JSON_BYTES = 64 * 1024;

export const importQuerySchema = z.object({
  format: z.enum(["csv", "merchant"]).optional(),
  mode: z.enum(["full", "partial"]).default("partial"),
  dryRun: z.enum(["true", "false"]).default("false"),
  slots: z.string().max(2000).optional(),
});
export const itemListQuerySchema = pageQuerySchema.extend({ status: z.enum(contentStatuses).optional() });

const site = (c: { req: { param: (name: "site") => string } }) => parseWith(resourceId, c.req.param("site"));

export const adminSiteRoutes = new Hono<AppEnv>()
  .get("/sites", async (c) => c.json(await listSites(c.var.db, parseWith(pageQuerySchema, c.req.query()))))
  .post("/sites", limitBody(MAX_JSON_BYTES), async (c) => {
    return c.json(await createSite(c.var.db, parseWith(siteInputSchema, await jsonBody(c)), "admin"), 201);
  })
  .get("/sites/:site", async (c) => c.json(await showSite(c.var.db, site(c))))
  .patch("/sites/:site", limitBody(MAX_JSON_BYTES), async (c) => {
    return c.json(await updateSite(c.var.db, site(c), parseWith(siteUpdateSchema, await jsonBody(c)), "admin"));
  })
  .post("/sites/:site/archive", async (c) => c.json(await archiveSite(c.var.db, site(c), "admin")))

  .get("/sites/:site/slots", async (c) => c.json({ slots: await listSlots(c.var.db, site(c)) }))
  .post("/sites/:site/slots", limitBody(MAX_JSON_BYTES), async (c) => {
    return c.json(await createSlot(c.var.db, site(c), parseWith(slotInputSchema, await jsonBody(c)), "admin"), 201);
  })
  .patch("/sites/:site/slots/:slot", limitBody(MAX_JSON_BYTES), async (c) => {
    const slot = parseWith(resourceId, c.req.param("slot"));
    return c.json(await updateSlot(c.var.db, site(c), slot, parseWith(slotUpdateSchema, await jsonBody(c)), "admin"));
  })
  .post("/sites/:site/slots/:slot/archive", async (c) => {
    const slot = parseWith(resourceId, c.req.param("slot"));
    return c.json(await updateSlot(c.var.db, site(c), slot, { status: "archived" }, "admin"));
  })

  .get("/sites/:site/items", async (c) => c.json(await listItems(c.var.db, site(c), parseWith(itemListQuerySchema, c.req.query()))))
  .get("/sites/:site/items/:item", async (c) => c.json(await showItem(c.var.db, site(c), parseWith(itemId, c.req.param("item")))))
  .put("/sites/:site/items/:item", limitBody(MAX_JSON_BYTES), async (c) => {
    const id = parseWith(itemId, c.req.param("item"));
    const body = await jsonBody(c);
    const item = parseWith(itemInputSchema, body && typeof body === "object" ? { ...body, id } : body);
    return c.json(await putItem(c.var.db, site(c), item, "admin"));
  })
  .post("/sites/:site/items/:item/archive", async (c) => {
    return c.json(await archiveItem(c.var.db, site(c), parseWith(itemId, c.req.param("item")), "admin"));
  })
  .get("/sites/:site/imports", async (c) => c.json({ imports: await recentImports(c.var.db, site(c)) }))
  .post("/sites/:site/items/import", limitBody(MAX_FEED_BYTES), async (c) => {
    const siteId = site(c);
    const query = parseWith(importQuerySchema, c.req.query());
    const text = await c.req.text();
    if (!text.trim()) throw new ApiError(400, "empty_feed", "body: send the feed (CSV or Google Merchant Center XML) as the request body");
    const format = query.format ?? formatOf(text, c.req.header("content-type"));
    await showSite(c.var.db, siteId);
    try {
      const result = await importFeed(c.var.db, siteId, text, {
        format,
        mode: query.mode,
        dryRun: query.dryRun === "true",
        defaultSlots: query.slots?.split(",").filter(Boolean),
        source: `upload:${format}`,
        role: "admin",
      });
      return c.json(result, result.dryRun ? 200 : 201);
    } catch (err) {
      if (err instanceof FeedError) throw new ApiError(400, "invalid_feed", err.message, "body");
      throw err;
    }
  });
