import { DurableObject } from "cloudflare:workers";
import type { InteractionEvent } from "../wire/events";
import { applyInteractions, changesProfile, featuresOf, mergeProfiles, type StoredProfile, storedProfileSchema } from "./features";
import type {
  Caps,
  DecisionAsk,
  DecisionState,
  EmailMark,
  EmailOpen,
  ImportMode,
  Link,
  LinkedDevice,
  SiteRow,
  Tombstone,
  VisitorExport,
} from "./shapes";

/**
 * Everything per visitor that must be consistent, in one SQLite-backed Durable Object per
 * visitor (named from the subject hash of their signed id, ./client.ts): the revocation
 * tombstone, the profile per site with the ids of the events applied to it, and today's
 * frequency-cap counts per site. Stored with the synchronous key-value API (rows of the object's
 * SQLite database), one row per key, so that a decision reads at most three rows and a queue
 * batch writes one row per site (rows written are what SQLite storage bills).
 *
 * Every method but `revoke` runs without awaiting anything, so it cannot interleave with another
 * call: 200 concurrent clicks count 200. Every method checks the tombstone first, and a revoked
 * visitor's profile is never read or written again.
 */
const TOMBSTONE = "tombstone";
/** A device's link to the customer it signed in as, and a customer's list of linked devices (worker/channels/links.ts). */
const LINK = "link";
const LINKS = "links";
/** What each e-mail open showed, so that a later open and the click show and land on the same content. */
const EMAIL_OPENS = "email-opens";
const EMAIL_OPENS_KEPT = 200;
const profileKey = (site: string) => `profile:${site}`;
const capsKey = (site: string) => `caps:${site}`;
const PROFILE_PREFIX = "profile:";
const CAPS_PREFIX = "caps:";

/** Event ids kept per site for idempotence: queue redeliveries come within minutes, far fewer than this. */
const APPLIED_KEPT = 256;
/** Capped content ids counted per site and day: a bound on what one visitor's traffic can store. */
const CAPPED_KEPT = 200;
/** A profile untouched this long is deleted: the visitor id's cookie (13 months) has expired by then. */
export const RETENTION_MS = 400 * 24 * 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Devices a customer may link: a bound on what one account's sign-ins can store. */
export const LINKED_DEVICES_MAX = 100;

export class VisitorState extends DurableObject<Env> {
  /** Profile reads since this instance started: observable proof that a revoked visitor's decision read none. */
  profileReads = 0;
  /** Rows read from storage since this instance started (not from `rows`): proof that warm decisions read none. */
  storageReads = 0;

  /**
   * The object's rows as last read or written, by key (absent ones too): a decision's reads come
   * from memory while the instance lives. Every write goes through `put` and every deletion
   * through `deleteAll`, and nothing else writes this object's storage, so the copy is never
   * stale. Values are never mutated in place (every change builds a new one).
   */
  private readonly rows = new Map<string, unknown>();

  private get<T>(key: string): T | undefined {
    if (this.rows.has(key)) return this.rows.get(key) as T | undefined;
    const value = this.ctx.storage.kv.get<T>(key);
    this.storageReads++;
    this.rows.set(key, value);
    return value;
  }

  private put(key: string, value: unknown): void {
    this.ctx.storage.kv.put(key, value);
    this.rows.set(key, value);
  }

  /** Deletes every row (and the alarm), and the memory of them. */
  private async deleteAll(): Promise<void> {
    this.rows.clear();
    this.alarmDue = null;
    await this.ctx.storage.deleteAll();
    // The object's input gate holds other calls while storage is deleted; cleared again all the same.
    this.rows.clear();
  }

  private revoked(): boolean {
    return this.get<Tombstone>(TOMBSTONE) !== undefined;
  }

  private readSite(site: string): SiteRow | undefined {
    this.profileReads++;
    return this.get<SiteRow>(profileKey(site));
  }

  /** The decision's one call: the tombstone first; the profile and caps only as asked and only when not revoked. */
  forDecision(ask: DecisionAsk): DecisionState {
    if (this.revoked()) return { revoked: true, profile: null, shownToday: {} };
    const link = this.get<Link>(LINK);
    if (link) return { revoked: false, profile: null, shownToday: {}, linkedTo: link.subject };
    const row = ask.profile ? this.readSite(ask.site) : undefined;
    const caps = ask.capsDay ? this.get<Caps>(capsKey(ask.site)) : undefined;
    return {
      revoked: false,
      profile: row ? featuresOf(row.profile) : null,
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
    const bySite = new Map<string, InteractionEvent[]>();
    for (const e of events) {
      if (e.personalization && changesProfile(e.kind)) bySite.set(e.siteId, [...(bySite.get(e.siteId) ?? []), e]);
    }
    let applied = 0;
    for (const [site, list] of bySite) {
      const row = this.readSite(site);
      const seen = new Set(row?.applied);
      const fresh: InteractionEvent[] = [];
      for (const e of list) {
        if (seen.has(e.eventId)) continue;
        seen.add(e.eventId);
        fresh.push(e);
      }
      if (fresh.length === 0) continue;
      this.put(profileKey(site), {
        profile: applyInteractions(
          row?.profile ?? null,
          fresh.toSorted((a, b) => a.ts - b.ts),
          now,
        ),
        applied: [...seen].slice(-APPLIED_KEPT),
      } satisfies SiteRow);
      applied += fresh.length;
    }
    if (applied > 0) this.extendRetention(now);
    return { revoked: false, applied };
  }

  /** Counts capped content a decision showed (after its answer), for today's caps. */
  countShown(site: string, day: string, contentIds: readonly string[], now: number): void {
    if (this.revoked() || contentIds.length === 0) return;
    const current = this.get<Caps>(capsKey(site));
    const shown = current?.day === day ? { ...current.shown } : {};
    for (const id of contentIds) {
      if (id in shown || Object.keys(shown).length < CAPPED_KEPT) shown[id] = (shown[id] ?? 0) + 1;
    }
    this.put(capsKey(site), { day, shown } satisfies Caps);
    this.extendRetention(now);
  }

  /**
   * Writes a profile (seeding, trained profiles: `replace`; the migration from KV: `merge`, which
   * keeps what the object learnt since, see features.ts `mergeProfiles`); refused for a revoked visitor.
   * Answers the customer a device is linked to, whose object its decisions read: the importer writes
   * there too (worker/visitors/import.ts).
   */
  importProfile(site: string, profile: unknown, now: number, mode: ImportMode = "replace"): { revoked: boolean; linkedTo: string | null } {
    if (this.revoked()) return { revoked: true, linkedTo: null };
    const row = this.get<SiteRow>(profileKey(site));
    const incoming = storedProfileSchema.parse(profile);
    const stored = mode === "merge" && row ? mergeProfiles(row.profile, incoming, now) : incoming;
    this.put(profileKey(site), { profile: stored, applied: row?.applied ?? [] } satisfies SiteRow);
    this.extendRetention(now);
    return { revoked: false, linkedTo: this.get<Link>(LINK)?.subject ?? null };
  }

  /**
   * A device signs in as `customer`: from now on its decisions read the customer's object. Answers
   * the device's own profiles, which the customer's object takes in once (`adoptDevice`). A device
   * follows the last customer it signed in as.
   */
  linkTo(customer: string, now: number): { revoked: true } | { revoked: false; profiles: Record<string, StoredProfile> } {
    if (this.revoked()) return { revoked: true };
    this.put(LINK, { subject: customer, at: now } satisfies Link);
    this.extendRetention(now);
    return { revoked: false, profiles: this.export().profiles };
  }

  /**
   * A customer's object takes in a linking device: the device is listed (what revocation and the
   * export follow) and its history is merged into the customer's profile per site, once per
   * device however often the link is sent (see features.ts `mergeProfiles`).
   */
  adoptDevice(visitorId: string, profiles: Record<string, unknown>, now: number): { revoked: boolean; merged: boolean; full: boolean } {
    if (this.revoked()) return { revoked: true, merged: false, full: false };
    const devices = this.get<LinkedDevice[]>(LINKS) ?? [];
    if (devices.some((d) => d.visitorId === visitorId)) return { revoked: false, merged: false, full: false };
    if (devices.length >= LINKED_DEVICES_MAX) return { revoked: false, merged: false, full: true };
    for (const [site, profile] of Object.entries(profiles)) {
      const incoming = storedProfileSchema.parse(profile);
      const row = this.get<SiteRow>(profileKey(site));
      const stored = row ? mergeProfiles(row.profile, incoming, now) : { ...incoming, updatedAt: now };
      this.put(profileKey(site), { profile: stored, applied: row?.applied ?? [] } satisfies SiteRow);
    }
    this.put(LINKS, [...devices, { visitorId, at: now }]);
    this.extendRetention(now);
    return { revoked: false, merged: true, full: false };
  }

  /**
   * The open recorded under `key` (a recipient token's nonce and a slot), with its impression or
   * click marked as logged; `open` is recorded when there is none yet (one already there is kept:
   * two opens racing show one content). Answers the open as stored (null: none, or revoked) and
   * the marks that are new, so that each is logged once however often the image is fetched or the
   * link followed.
   */
  recordEmail(
    key: string,
    open: EmailOpen | null,
    marks: readonly EmailMark[],
    now: number,
  ): { open: EmailOpen | null; marked: EmailMark[] } {
    if (this.revoked()) return { open: null, marked: [] };
    const opens = this.get<Record<string, EmailOpen>>(EMAIL_OPENS) ?? {};
    const current = opens[key] ?? open;
    if (!current) return { open: null, marked: [] };
    const marked = marks.filter((mark) => !current[mark]);
    if (opens[key] && marked.length === 0) return { open: current, marked };
    const stored = { ...current, ...Object.fromEntries(marked.map((mark) => [mark, true])) };
    const kept = Object.entries({ ...opens, [key]: stored })
      .sort((a, b) => b[1].at - a[1].at)
      .slice(0, EMAIL_OPENS_KEPT);
    this.put(EMAIL_OPENS, Object.fromEntries(kept));
    this.extendRetention(now);
    return { open: stored, marked };
  }

  /**
   * Revocation and erasure: deletes everything the object holds (a customer's links with it), then
   * keeps only the tombstone. Answers the linked devices it held, for the caller to revoke too.
   */
  async revoke(at: number): Promise<LinkedDevice[]> {
    const since = this.get<Tombstone>(TOMBSTONE)?.at ?? at;
    const devices = this.get<LinkedDevice[]>(LINKS) ?? [];
    await this.deleteAll();
    this.put(TOMBSTONE, { at: since } satisfies Tombstone);
    return devices;
  }

  /** Everything the object holds, for the privacy team's export. */
  export(): VisitorExport {
    const profiles: Record<string, StoredProfile> = {};
    let appliedEvents = 0;
    for (const [key, row] of this.ctx.storage.kv.list<SiteRow>({ prefix: PROFILE_PREFIX })) {
      profiles[key.slice(PROFILE_PREFIX.length)] = row.profile;
      appliedEvents += row.applied.length;
    }
    const caps: Record<string, Caps> = {};
    for (const [key, value] of this.ctx.storage.kv.list<Caps>({ prefix: CAPS_PREFIX })) caps[key.slice(CAPS_PREFIX.length)] = value;
    return {
      revokedAt: this.get<Tombstone>(TOMBSTONE)?.at ?? null,
      profiles,
      caps,
      appliedEvents,
      linkedTo: this.get<Link>(LINK)?.subject ?? null,
      linkedDevices: this.get<LinkedDevice[]>(LINKS) ?? [],
      emailOpens: Object.values(this.get<Record<string, EmailOpen>>(EMAIL_OPENS) ?? {}),
    };
  }

  /** A visitor not seen for RETENTION_MS: their profile goes (a tombstone, holding nothing about them, stays). */
  override async alarm(): Promise<void> {
    const tombstone = this.get<Tombstone>(TOMBSTONE);
    await this.deleteAll();
    if (tombstone) this.put(TOMBSTONE, tombstone);
  }

  /** The deletion alarm as this instance last saw it: while it is due within a day of what a call would set, no read. */
  private alarmDue: number | null = null;

  /** Moves the deletion alarm forward, at most once a day (setting an alarm is a billed row write). */
  private extendRetention(now: number): void {
    const due = now + RETENTION_MS;
    if (this.alarmDue !== null && this.alarmDue >= due - DAY_MS) return;
    // Not awaited, so that the calls above stay free of interleaving; a failure only delays the clean-up.
    void this.ctx.storage
      .getAlarm()
      .then(async (current) => {
        if (current !== null && current >= due - DAY_MS) this.alarmDue = current;
        else {
          await this.ctx.storage.setAlarm(due);
          this.alarmDue = due;
        }
      })
      .catch(() => undefined);
  }
}
