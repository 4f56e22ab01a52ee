import { z } from "zod";
import { DependencyError } from "../lib/errors";

/**
 * Visitor profiles in KV, one key per site and visitor. Written by the event consumer (and by
 * seeding/feature export); read here only after consent allowed it (see decisions/decide.ts).
 */
export const profileKey = (siteId: string, visitorId: string) => `profile:${siteId}:${visitorId}`;

const scalar = z.union([z.string(), z.number()]);
export const storedProfileSchema = z.object({
  v: z.literal(1),
  attributes: z.record(z.string(), scalar).default({}),
  itemAffinity: z.record(z.string(), z.number()).default({}),
  /**
   * The visitor's recent items (clicks and conversions), most recent first: what a sequence model
   * reads (worker/inference/encode.ts `VisitorProfile.recent`). The event consumer bounds it.
   */
  recent: z.array(z.object({ id: z.string(), ts: z.number() })).optional(),
  counts: z.object({ impressions: z.number(), clicks: z.number(), conversions: z.number() }).optional(),
  /** The last event ids applied (worker/events/features.ts), for idempotent updates. */
  seen: z.array(z.string()).optional(),
  updatedAt: z.number().optional(),
});
export type StoredProfile = z.infer<typeof storedProfileSchema>;

/** The stored profile as written; one we cannot read is treated as none rather than guessed at. */
export async function readStoredProfile(kv: KVNamespace, siteId: string, visitorId: string): Promise<StoredProfile | null> {
  let text: string | null;
  try {
    text = await kv.get(profileKey(siteId, visitorId), "text");
  } catch (cause) {
    throw new DependencyError("kv_unavailable", { cause });
  }
  if (text === null) return null;
  const parsed = storedProfileSchema.safeParse(parseJsonOrNull(text));
  return parsed.success ? parsed.data : null;
}

/** The features the model reads (worker/inference/encode.ts `VisitorProfile`). */
export type ProfileFeatures = Pick<StoredProfile, "attributes" | "itemAffinity" | "recent">;

export async function readProfile(kv: KVNamespace, siteId: string, visitorId: string): Promise<ProfileFeatures | null> {
  const stored = await readStoredProfile(kv, siteId, visitorId);
  if (!stored) return null;
  const { attributes, itemAffinity, recent } = stored;
  return recent ? { attributes, itemAffinity, recent } : { attributes, itemAffinity };
}

export async function writeProfile(kv: KVNamespace, siteId: string, visitorId: string, profile: Omit<StoredProfile, "v">): Promise<void> {
  const stored: StoredProfile = { v: 1, ...profile, updatedAt: profile.updatedAt ?? Date.now() };
  await kv.put(profileKey(siteId, visitorId), JSON.stringify(stored));
}

function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
