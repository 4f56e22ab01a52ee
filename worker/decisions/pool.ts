import type { Pin } from "../experiments/explore";
import type { Preview } from "../experiments/preview";
import type { CatalogueItem } from "../site/catalogue";
import { matches, type SitePolicy } from "../site/policy";

/** Why a rule removes an item from a decision. */
export type Exclusion = "exclusion:all" | "frequency_cap" | "exclusion:profile" | "exclusion:segment";

/** Capped content this visitor was shown today, by content id. */
export type ShownToday = Readonly<Record<string, number>>;

/** The visitor's micro-segment as rules name it (`segment:<id>`), or null when the model placed them in none. */
export type SegmentName = `segment:${string}` | null;

const everyone = (rule: { segment?: string }) => rule.segment === undefined;

/**
 * The one place the site's rules are read: an item excluded for everyone, an item whose
 * frequency cap is reached today, (only once a profile was read) an item that may not be chosen
 * from a profile, and (once the model placed the visitor) an item excluded for their segment. The
 * first rule that applies is the reason; null when none does.
 */
export function exclusionOf(
  item: CatalogueItem,
  policy: SitePolicy,
  shownToday: ShownToday,
  profileRead: boolean,
  segment: SegmentName = null,
): Exclusion | null {
  if (policy.exclusions.some((rule) => everyone(rule) && rule.scope === "all" && matches(rule, item))) return "exclusion:all";
  if (policy.caps.some((cap) => matches(cap, item) && (shownToday[item.id] ?? 0) >= cap.perDay)) return "frequency_cap";
  if (profileRead && policy.exclusions.some((rule) => everyone(rule) && rule.scope === "profile" && matches(rule, item)))
    return "exclusion:profile";
  if (segment && policy.exclusions.some((rule) => rule.segment === segment && matches(rule, item))) return "exclusion:segment";
  return null;
}

/**
 * Phase 2 of a decision: the content no rule removes. A preview of one piece of content shows it
 * whatever the rules say.
 */
export function poolOf(
  items: readonly CatalogueItem[],
  policy: SitePolicy,
  shownToday: ShownToday,
  preview: Preview | null,
): CatalogueItem[] {
  const allowed = items.filter((item) => exclusionOf(item, policy, shownToday, false) === null);
  const previewed = preview?.content ? items.find((item) => item.id === preview.content?.contentId) : undefined;
  return previewed && !allowed.includes(previewed) ? [...allowed, previewed] : allowed;
}

/** The pool once a profile was read: content that may not be chosen from a profile leaves it. */
export function withoutProfileExclusions(pool: readonly CatalogueItem[], policy: SitePolicy): CatalogueItem[] {
  return pool.filter((item) => !policy.exclusions.some((rule) => everyone(rule) && rule.scope === "profile" && matches(rule, item)));
}

/** The pool once the model placed the visitor in a segment: content excluded for that segment leaves it. */
export function withoutSegmentExclusions(pool: readonly CatalogueItem[], policy: SitePolicy, segment: SegmentName): CatalogueItem[] {
  if (!segment) return [...pool];
  return pool.filter((item) => !policy.exclusions.some((rule) => rule.segment === segment && matches(rule, item)));
}

/**
 * The site's pins for this visitor (those for everyone, and those for their segment); a content
 * preview pins its item in its slot every time.
 */
export function pinsOf(policy: SitePolicy, preview: Preview | null, segment: SegmentName = null): (Pin & { slot: string })[] {
  const pinned = policy.pinned.filter((p) => everyone(p) || p.segment === segment);
  const content = preview?.content;
  return content ? [...pinned.filter((p) => p.slot !== content.slot), { ...content, share: 1 }] : pinned;
}

/** For a preview's trace: each catalogue item left out of the final pool, with the rule that removed it. */
export function filteredOut(
  items: readonly CatalogueItem[],
  pool: readonly CatalogueItem[],
  policy: SitePolicy,
  shownToday: ShownToday,
  segment: SegmentName = null,
) {
  return items.flatMap((item) => {
    const by = pool.includes(item) ? null : exclusionOf(item, policy, shownToday, true, segment);
    return by ? [{ contentId: item.id, by }] : [];
  });
}

/** The capped content among what this decision showed: what the visitor's caps count (once each). */
export function cappedAmong(policy: SitePolicy, items: readonly CatalogueItem[], shownIds: readonly string[]): string[] {
  return shownIds.filter((id) => {
    const item = items.find((i) => i.id === id);
    return item !== undefined && policy.caps.some((cap) => matches(cap, item));
  });
}
