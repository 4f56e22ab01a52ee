/**
 * Which language versions a visitor may see. The fallback chain, first match wins:
 *
 *   1. the page's own language (`lang` from the tag, `Content-Language` at the edge): content
 *      should read like the page around it;
 *   2. the visitor's `Accept-Language` ranges, by quality (q=0 excluded);
 *   3. each of those reduced to its primary language (`pt-BR` → `pt`), in the same order;
 *   4. the site's default language (policy `variants.defaultLanguage`);
 *   5. none matched: the content item's own fields (its base version).
 *
 * A chain entry matches a variant's language exactly (case-insensitive); a bare primary language
 * (`pt`) also matches any regional variant of it (`pt-BR`), the nearest thing on offer.
 */

const TAG = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/;
const MAX_RANGES = 8;

/** `Accept-Language` ranges by descending quality; malformed or wildcard ranges are skipped. */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(",")
    .slice(0, 32)
    .map((part, index) => {
      const [range = "", ...params] = part.trim().toLowerCase().split(";");
      const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      const quality = q === undefined ? 1 : Number(q.slice(2));
      return { range: range.trim(), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter(({ range, quality }) => quality > 0 && TAG.test(range))
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .slice(0, MAX_RANGES)
    .map(({ range }) => range);
}

const primary = (tag: string) => tag.split("-")[0] ?? tag;

export function languageChain(input: { pageLanguage?: string; acceptLanguage?: string; defaultLanguage: string }): string[] {
  const page = input.pageLanguage?.toLowerCase();
  const ranked = [...(page && TAG.test(page) ? [page] : []), ...acceptedLanguages(input.acceptLanguage)];
  return [...new Set([...ranked, ...ranked.map(primary), input.defaultLanguage.toLowerCase()])];
}

function matchesEntry(language: string, entry: string): boolean {
  const lower = language.toLowerCase();
  return lower === entry || (!entry.includes("-") && primary(lower) === entry);
}

/** The first chain entry any of `options` is written in, and the options in it; none: []. */
export function inFirstLanguage<T extends { language: string }>(options: readonly T[], chain: readonly string[]): T[] {
  for (const entry of chain) {
    const found = options.filter((o) => matchesEntry(o.language, entry));
    if (found.length) return found;
  }
  return [];
}
