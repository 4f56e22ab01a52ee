import { asc, gt } from "drizzle-orm";
import type { z } from "zod";
import { sendAll } from "../lib/queue";
import type { Database } from "../store/db";
import { sites } from "../store/schema";
import type { feedMessageSchema, siteSweepMessageSchema, snapshotMessageSchema } from "../wire/events";

/**
 * The scheduled refresh of every site's catalogue snapshot, fanned out through the queue: the
 * cron handler queues one sweep; each sweep message reads a page of sites and queues one snapshot
 * message per site (and a feed message per site with a feed URL, worker/site/feeds/refresh.ts)
 * and the next page's sweep; each snapshot message refreshes one site. No
 * invocation makes more than a few dozen subrequests (a sweep: 1 query and at most 22 sends; a consumer
 * batch of 100 snapshots: 600), whatever the number of sites.
 */
export const SITES_PER_SWEEP = 1000;

type SiteSweep = z.infer<typeof siteSweepMessageSchema>;
type Snapshot = z.infer<typeof snapshotMessageSchema>;
type Feed = z.infer<typeof feedMessageSchema>;

export async function startSiteSweep(queue: Queue): Promise<void> {
  await queue.send({ type: "site-sweep", after: null } satisfies SiteSweep, { contentType: "json" });
}

/** One page of the sweep; returns how many sites it queued a refresh for. */
export async function sweepSites(db: Database, queue: Queue, after: string | null): Promise<number> {
  const page = await db
    .select({ id: sites.id, feedUrl: sites.feedUrl })
    .from(sites)
    .where(after === null ? undefined : gt(sites.id, after))
    .orderBy(asc(sites.id))
    .limit(SITES_PER_SWEEP);
  await sendAll(
    queue,
    page.flatMap(
      ({ id, feedUrl }): Array<Snapshot | Feed> => [
        { type: "snapshot", siteId: id },
        ...(feedUrl ? [{ type: "feed" as const, siteId: id }] : []),
      ],
    ),
  );
  const last = page.at(-1)?.id;
  if (page.length === SITES_PER_SWEEP && last !== undefined) {
    await queue.send({ type: "site-sweep", after: last } satisfies SiteSweep, { contentType: "json" });
  }
  return page.length;
}
