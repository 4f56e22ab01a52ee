import { DurableObject } from "cloudflare:workers";
import type { InteractionEvent } from "../wire/events";
import { applyInteractions, changesProfile, featuresOf, type ProfileFeatures, type StoredProfile, storedProfileSchema } from "./features";

/**
 * Everything per visitor that must be consistent, in one SQLite-backed Durable Object per
 * visitor (named from the subject hash of their signed id, ./client.ts): the revocation
 * tombstone, the profile per site, today's frequency-cap counts per site, and the ids of the
 * events already applied. Stored with the synchronous key-value API (rows of the object's SQLite
 * database), one row per key, so that a decision reads at most three rows.
 *
 * Every method but `revoke` runs without awaiting anything, so it cannot interleave with another
 * call: 200 concurrent clicks count 200. Every method checks the tombstone first, and a revoked
 * visitor's profile is never read or written again.
 */
const TOMBSTONE = "tombstone";
const APPLIED = "applied";
const profileKey = (site: string) => `profile:${site}`;
const capsKey = (site: string) => `caps:${site}`;
const PROFILE_PREFIX = "profile:";
const CAPS_PREFIX = "caps:";

/** Event ids kept for idempotence: queue redeliveries come within minutes, far fewer than this. */
const APPLIED_KEPT = 512;
/** Capped content ids counted per site and day: a bound on what one visitor's traffic can store. */
const CAPPED_KEPT = 200;
/** A profile untouched this long is deleted: the visitor id's cookie (13 months) has expired by then. */
export const RETENTION_MS = 400 * 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

type Tombstone = { at: number };
type Caps = { day: string; shown: Record<string, number> };

/** What a decision asks for: the profile only with personalization consent, caps only where storage is allowed. */
export type DecisionAsk = { site: string; profile: boolean; capsDay: string | null };
export type DecisionState = { revoked: boolean; profile: ProfileFeatures | null; shownToday: Record<string, number> };

export type VisitorExport = {
  revokedAt: number | null;
  profiles: Record<string, StoredProfile>;
  caps: Record<string, Caps>;
  appliedEvents: number;
};

export class VisitorState extends DurableObject<Env> {
  /** Profile reads since this instance started: observable proof that a revoked visitor's decision read none. */
  profileReads = 0;

  private get kv(): SyncKvStorage {
    return this.ctx.storage.kv;
  }

  private revoked(): boolean {
    return this.kv.get<Tombstone>(TOMBSTONE) !== undefined;
  }

  private readProfile(site: string): StoredProfile | undefined {
    this.profileReads++;
    return this.kv.get<StoredProfile>(profileKey(site));
  }

  /** The decision's one call: the tombstone first; the profile and caps only as asked and only when not revoked. */
  forDecision(ask: DecisionAsk): DecisionState {
    if (this.revoked()) return { revoked: true, profile: null, shownToday: {} };
    const stored = ask.profile ? this.readProfile(ask.site) : undefined;
    const caps = ask.capsDay ? this.kv.get<Caps>(capsKey(ask.site)) : undefined;
    return {
      revoked: false,
      profile: stored ? featuresOf(stored) : null,
      shownToday: caps && caps.day === ask.capsDay ? caps.shown : {},
    };
  }

  /**
   * Applies a queue batch's interactions of this visitor (any site) once each: events already
   * applied are skipped, so a redelivered message changes nothing. Only events with
   * personalization consent that change a profile (clicks, conversions) are applied. The answer
   * says whether the visitor is revoked, so that the consumer drops their events.
   */
  apply(events: readonly InteractionEvent[], now: number): { revoked: boolean; applied: number } {
    if (this.revoked()) return { revoked: true, applied: 0 };
    const applied = this.kv.get<string[]>(APPLIED) ?? [];
    const seen = new Set(applied);
    const bySite = new Map<string, InteractionEvent[]>();
    for (const e of events) {
      if (!e.personalization || !changesProfile(e.kind) || seen.has(e.eventId)) continue;
      seen.add(e.eventId);
      bySite.set(e.siteId, [...(bySite.get(e.siteId) ?? []), e]);
    }
    const fresh = [...bySite.values()].flat();
    if (fresh.length === 0) return { revoked: false, applied: 0 };
    for (const [site, list] of bySite) {
      const inOrder = list.toSorted((a, b) => a.ts - b.ts);
      this.kv.put(profileKey(site), applyInteractions(this.readProfile(site) ?? null, inOrder, now));
    }
    this.kv.put(APPLIED, [...applied, ...fresh.map((e) => e.eventId)].slice(-APPLIED_KEPT));
    this.extendRetention(now);
    return { revoked: false, applied: fresh.length };
  }

  /** Counts capped content a decision showed (after its answer), for today's caps. */
  countShown(site: string, day: string, contentIds: readonly string[], now: number): void {
    if (this.revoked() || contentIds.length === 0) return;
    const current = this.kv.get<Caps>(capsKey(site));
    const shown = current?.day === day ? { ...current.shown } : {};
    for (const id of contentIds) {
      if (id in shown || Object.keys(shown).length < CAPPED_KEPT) shown[id] = (shown[id] ?? 0) + 1;
    }
    this.kv.put(capsKey(site), { day, shown } satisfies Caps);
    this.extendRetention(now);
  }

  /** Writes a profile (seeding, migration, trained profiles); refused for a revoked visitor. */
  importProfile(site: string, profile: unknown, now: number): { revoked: boolean } {
    if (this.revoked()) return { revoked: true };
    this.kv.put(profileKey(site), storedProfileSchema.parse(profile));
    this.extendRetention(now);
    return { revoked: false };
  }

  /** Revocation and erasure: deletes everything the object holds, then keeps only the tombstone. */
  async revoke(at: number): Promise<void> {
    const since = this.kv.get<Tombstone>(TOMBSTONE)?.at ?? at;
    await this.ctx.storage.deleteAll();
    this.kv.put(TOMBSTONE, { at: since } satisfies Tombstone);
  }

  /** Everything the object holds, for the privacy team's export. */
  export(): VisitorExport {
    const profiles: Record<string, StoredProfile> = {};
    for (const [key, value] of this.kv.list<StoredProfile>({ prefix: PROFILE_PREFIX })) profiles[key.slice(PROFILE_PREFIX.length)] = value;
    const caps: Record<string, Caps> = {};
    for (const [key, value] of this.kv.list<Caps>({ prefix: CAPS_PREFIX })) caps[key.slice(CAPS_PREFIX.length)] = value;
    return {
      revokedAt: this.kv.get<Tombstone>(TOMBSTONE)?.at ?? null,
      profiles,
      caps,
      appliedEvents: this.kv.get<string[]>(APPLIED)?.length ?? 0,
    };
  }

  /** A visitor not seen for RETENTION_MS: their profile goes (a tombstone, holding nothing about them, stays). */
  override async alarm(): Promise<void> {
    const tombstone = this.kv.get<Tombstone>(TOMBSTONE);
    await this.ctx.storage.deleteAll();
    if (tombstone) this.kv.put(TOMBSTONE, tombstone);
  }

  /** Moves the deletion alarm forward, at most once a day (setting an alarm is a billed row write). */
  private extendRetention(now: number): void {
    const due = now + RETENTION_MS;
    // Not awaited, so that the calls above stay free of interleaving; a failure only delays the clean-up.
    void this.ctx.storage
      .getAlarm()
      .then((current) => (current === null || current < due - DAY_MS ? this.ctx.storage.setAlarm(due) : undefined))
      .catch(() => undefined);
  }
}
