import { and, desc, eq, like } from "drizzle-orm";
import type { Database } from "../../store/db";
import { catalogueImports, sites } from "../../store/schema";
import { formatOf, importFeed } from "./import";
import { FeedFetchError, fetchFeed, type Resolver, type TestOrigins } from "./remote";
import { FeedError } from "./rows";

/**
 * A site's feed URL, imported by the scheduled maintenance (one queue message per site with a feed,
 * worker/site/maintenance.ts) through the same code path as an upload: a full import (the feed is
 * the catalogue: what it no longer lists is archived), applied at once or not at all, with the rows
 * it refuses recorded by line. A feed that cannot be fetched or read is recorded as a failed
 * import with its reason, and the catalogue stays as it was.
 */

/** A feed is fetched at most this often, whatever the cron's period. */
export const FEED_REFRESH_MS = 60 * 60 * 1000;

export type FeedRefresh = { status: "applied" | "failed" | "skipped"; reason?: string };

async function lastFeedImport(db: Database, siteId: string): Promise<Date | null> {
  const [last] = await db
    .select({ at: catalogueImports.createdAt })
    .from(catalogueImports)
    .where(and(eq(catalogueImports.siteId, siteId), like(catalogueImports.source, "url:%")))
    .orderBy(desc(catalogueImports.createdAt))
    .limit(1);
  return last?.at ?? null;
}

export async function refreshFeed(
  db: Database,
  siteId: string,
  now: number,
  resolve: Resolver,
  testOrigins: TestOrigins,
): Promise<FeedRefresh> {
  const [site] = await db.select({ feedUrl: sites.feedUrl, status: sites.status }).from(sites).where(eq(sites.id, siteId));
  if (!site?.feedUrl || site.status !== "active") return { status: "skipped", reason: "no feed URL" };
  const last = await lastFeedImport(db, siteId);
  if (last && now - last.getTime() < FEED_REFRESH_MS) return { status: "skipped", reason: "fetched within the hour" };
  const source = `url:${site.feedUrl}`;
  try {
    const { text, contentType } = await fetchFeed(site.feedUrl, resolve, testOrigins);
    await importFeed(db, siteId, text, { format: formatOf(text, contentType), mode: "full", dryRun: false, source, role: "admin" });
    return { status: "applied" };
  } catch (err) {
    if (!(err instanceof FeedFetchError || err instanceof FeedError)) throw err;
    await db.insert(catalogueImports).values({
      id: crypto.randomUUID(),
      siteId,
      source,
      mode: "full",
      status: "failed",
      added: 0,
      changed: 0,
      archived: 0,
      refused: 0,
      refusedSample: [],
      error: err.message,
    });
    return { status: "failed", reason: err.message };
  }
}
