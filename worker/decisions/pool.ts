import type { Pin } from "../experiments/explore";
import type { Preview } from "../experiments/preview";
import type { CatalogueItem } from "../site/catalogue";
import { matches, type SitePolicy } from "../site/policy";

/** Why a rule removes an item from a decision. */
export type Exclusion = "exclusion:all" | "frequency_cap" | "exclusion:profile";

/** Capped content this visitor was shown today, by content id. */
export type ShownToday = Readonly<Record<string, number>>;

/**
 * The one place the site's rules are read: an item excluded for everyone, an item whose
 * frequency cap is reached today, and (only once a profile was read) an item that may not be
 * chosen from a profile. The first rule that applies is the reason; null when none does.
 */
export function exclusionOf(item: CatalogueItem, policy: SitePolicy, shownToday: ShownToday, profileRead: boolean): Exclusion | null {
  if (policy.exclusions.some((rule) => rule.scope === "all" && matches(rule, item))) return "exclusion:all";
  if (policy.caps.some((cap) => matches(cap, item) && (shownToday[item.id] ?? 0) >= cap.perDay)) return "frequency_cap";
  if (profileRead && policy.exclusions.some((rule) => rule.scope === "profile" && matches(rule, item))) return "exclusion:profile";
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
  return pool.filter((item) => !policy.exclusions.some((rule) => rule.scope === "profile" && matches(rule, item)));
}

/** The site's pins; a content preview pins its item in its slot every time. */
export function pinsOf(policy: SitePolicy, preview: Preview | null): (Pin & { slot: string })[] {
  const content = preview?.content;
  return content ? [...policy.pinned.filter((p) => p.slot !== content.slot), { ...content, share: 1 }] : policy.pinned;
}

/** For a preview's trace: each catalogue item left out of the final pool, with the rule that removed it. */
export function filteredOut(items: readonly CatalogueItem[], pool: readonly CatalogueItem[], policy: SitePolicy, shownToday: ShownToday) {
  return items.flatMap((item) => {
    const by = pool.includes(item) ? null : exclusionOf(item, policy, shownToday, true);
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
