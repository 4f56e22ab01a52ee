import { Hono } from "hono";
import { tagSource, tagVersion } from "../../tag/version";
import type { AppEnv } from "../app-env";

/**
 * `GET /v1/tag.js`: the script tag. With `?v=<current version>` it is cached for a year
 * (immutable); without, for five minutes, so that a plain embed picks up new releases.
 */
export const tagRoutes = new Hono<AppEnv>().get("/tag.js", async (c) => {
  const version = await tagVersion();
  const pinned = c.req.query("v") === version;
  return c.body(tagSource, 200, {
    "content-type": "application/javascript; charset=utf-8",
    "cache-control": pinned ? "public, max-age=31536000, immutable" : "public, max-age=300",
    etag: `"${version}"`,
    "x-content-type-options": "nosniff",
  });
});
