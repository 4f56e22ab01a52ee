import { z } from "zod";
import { RECENT_ITEMS_MAX } from "../inference/manifest";
import type { InteractionEvent } from "../wire/events";

/**
 * A visitor's profile on one site, as their Durable Object keeps it (./state.ts), and the pure
 * update that feeds interactions back into it. Clicks and conversions raise the visitor's
 * affinity for that content, older affinity decays with a half-life, and the most recent of them
 * are kept in order with their times, so that a sequence model can read them. Impressions do not
 * change a profile. The offline training pipeline folds histories with the same function, so that
 * what a model trains on is what the worker serves.
 */
export const AFFINITY_HALF_LIFE_MS = 7 * 24 * 60 * 60 * 1000;
/** Affinities kept per site: the strongest, so that a long history cannot grow a profile without bound. */
export const AFFINITIES_KEPT = 500;
const WEIGHT: Partial<Record<InteractionEvent["kind"], number>> = { click: 1, conversion: 3 };

/** Whether an interaction changes a profile (impressions and dismissals do not). */
export const changesProfile = (kind: InteractionEvent["kind"]) => WEIGHT[kind] !== undefined;

const scalar = z.union([z.string().max(256), z.number()]);
export const recentItemSchema = z.object({ id: z.string().min(1).max(128), ts: z.number() });
export type RecentItem = z.infer<typeof recentItemSchema>;

export const storedProfileSchema = z.object({
  v: z.literal(1),
  attributes: z
    .record(z.string().max(64), scalar)
    .refine((a) => Object.keys(a).length <= 64, "at most 64 attributes")
    .default({}),
  itemAffinity: z
    .record(z.string().max(128), z.number().finite())
    .refine((a) => Object.keys(a).length <= AFFINITIES_KEPT, `at most ${AFFINITIES_KEPT} affinities`)
    .default({}),
  /** Most recent first. */
  recent: z.array(recentItemSchema).max(RECENT_ITEMS_MAX).default([]),
  updatedAt: z.number().optional(),
});
export type StoredProfile = z.infer<typeof storedProfileSchema>;

/** What the model reads of a profile (worker/inference/encode.ts `VisitorProfile`). */
export type ProfileFeatures = Pick<StoredProfile, "attributes" | "itemAffinity" | "recent">;

export const featuresOf = ({ attributes, itemAffinity, recent }: StoredProfile): ProfileFeatures => ({ attributes, itemAffinity, recent });

function strongest(affinity: Record<string, number>): Record<string, number> {
  const entries = Object.entries(affinity);
  if (entries.length <= AFFINITIES_KEPT) return affinity;
  return Object.fromEntries(entries.sort((a, b) => b[1] - a[1]).slice(0, AFFINITIES_KEPT));
}

/**
 * The profile after `batch` (events the caller has not applied before; see ./state.ts for the
 * idempotence). Affinity decays from the last update to `now` before the batch adds to it.
 */
export function applyInteractions(profile: StoredProfile | null, batch: readonly InteractionEvent[], now: number): StoredProfile {
  const base: StoredProfile = profile ?? { v: 1, attributes: {}, itemAffinity: {}, recent: [] };
  const decay = base.updatedAt ? 0.5 ** (Math.max(0, now - base.updatedAt) / AFFINITY_HALF_LIFE_MS) : 1;
  const itemAffinity = Object.fromEntries(Object.entries(base.itemAffinity).map(([id, a]) => [id, a * decay]));
  const taken: RecentItem[] = [];
  for (const e of batch) {
    const weight = WEIGHT[e.kind];
    if (!weight) continue;
    itemAffinity[e.contentId] = (itemAffinity[e.contentId] ?? 0) + weight;
    taken.push({ id: e.contentId, ts: e.ts });
  }
  // Stable: items taken at the same time keep the order they were applied in, latest first.
  const recent = [...taken.reverse(), ...base.recent].sort((a, b) => b.ts - a.ts).slice(0, RECENT_ITEMS_MAX);
  return { ...base, itemAffinity: strongest(itemAffinity), recent, updatedAt: now };
}

/**
 * Two histories of one visitor on one site as one profile (the migration from an older store into
 * an object that may already hold newer clicks): each side's affinity decays to `now` and they
 * add up, the newer side's attributes win, the recent items of both interleave by time.
 */
export function mergeProfiles(newer: StoredProfile, older: StoredProfile, now: number): StoredProfile {
  const decayed = (p: StoredProfile) => {
    const decay = p.updatedAt ? 0.5 ** (Math.max(0, now - p.updatedAt) / AFFINITY_HALF_LIFE_MS) : 1;
    return Object.entries(p.itemAffinity).map(([id, a]) => [id, a * decay] as const);
  };
  const itemAffinity: Record<string, number> = {};
  for (const [id, a] of [...decayed(older), ...decayed(newer)]) itemAffinity[id] = (itemAffinity[id] ?? 0) + a;
  return {
    v: 1,
    attributes: { ...older.attributes, ...newer.attributes },
    itemAffinity: strongest(itemAffinity),
    recent: [...newer.recent, ...older.recent].sort((a, b) => b.ts - a.ts).slice(0, RECENT_ITEMS_MAX),
    updatedAt: now,
  };
}
