import { RECENT_ITEMS_MAX } from "../inference/manifest";
import { readStoredProfile, type StoredProfile, writeProfile } from "../store/profiles";
import type { InteractionEvent } from "../wire/events";

type RecentItem = NonNullable<StoredProfile["recent"]>[number];

/**
 * Feedback into features: clicks and conversions raise the visitor's affinity for that content,
 * and older affinity decays with a half-life, so the next decision reflects the last click.
 * The same clicks and conversions lead the visitor's `recent` items (most recent first, at most
 * RECENT_ITEMS_MAX, repeats kept as training counts them), which a sequence model reads.
 * One read-modify-write per visitor per queue batch (KV takes about one write per second per
 * key); the last event ids are kept in the profile so that a redelivered event counts once.
 */
export const AFFINITY_HALF_LIFE_MS = 7 * 24 * 60 * 60 * 1000;
const WEIGHT: Partial<Record<InteractionEvent["kind"], number>> = { click: 1, conversion: 3 };
const SEEN_KEPT = 64;

export function applyInteractions(profile: StoredProfile | null, batch: readonly InteractionEvent[], now: number): StoredProfile {
  const base: StoredProfile = profile ?? { v: 1, attributes: {}, itemAffinity: {} };
  const seen = new Set(base.seen ?? []);
  const decay = base.updatedAt ? 0.5 ** (Math.max(0, now - base.updatedAt) / AFFINITY_HALF_LIFE_MS) : 1;
  const itemAffinity = Object.fromEntries(Object.entries(base.itemAffinity).map(([id, a]) => [id, a * decay]));
  const counts = { impressions: 0, clicks: 0, conversions: 0, ...base.counts };
  const taken: RecentItem[] = [];
  for (const e of batch) {
    if (seen.has(e.eventId)) continue;
    seen.add(e.eventId);
    if (e.kind === "impression") counts.impressions++;
    if (e.kind === "click") counts.clicks++;
    if (e.kind === "conversion") counts.conversions++;
    const weight = WEIGHT[e.kind];
    if (weight) {
      itemAffinity[e.contentId] = (itemAffinity[e.contentId] ?? 0) + weight;
      taken.push({ id: e.contentId, ts: e.ts });
    }
  }
  const recent = taken.length ? withRecent(base.recent ?? [], taken) : base.recent;
  return { ...base, itemAffinity, counts, ...(recent ? { recent } : {}), seen: [...seen].slice(-SEEN_KEPT), updatedAt: now };
}

/** New items ahead of the old ones, the whole list most recent first (a batch may arrive out of order). */
function withRecent(old: readonly RecentItem[], taken: readonly RecentItem[]): RecentItem[] {
  return [...taken, ...old].sort((a, b) => b.ts - a.ts).slice(0, RECENT_ITEMS_MAX);
}

/** Updates each visitor's profile once for all of their events in the batch. */
export async function updateProfiles(profiles: KVNamespace, batch: readonly InteractionEvent[], now: number): Promise<void> {
  const byVisitor = new Map<string, InteractionEvent[]>();
  for (const e of batch) {
    if (!e.visitorId || !e.personalization) continue;
    const key = `${e.siteId}\u0000${e.visitorId}`;
    byVisitor.set(key, [...(byVisitor.get(key) ?? []), e]);
  }
  await Promise.all(
    [...byVisitor.values()].map(async (list) => {
      const [{ siteId, visitorId }] = list as [InteractionEvent];
      if (!visitorId) return;
      const current = await readStoredProfile(profiles, siteId, visitorId);
      await writeProfile(profiles, siteId, visitorId, applyInteractions(current, list, now));
    }),
  );
}
