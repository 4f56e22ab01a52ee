import type { DecidedItem } from "../wire/decide";

/**
 * Server-side rendering of decided items: every catalogue field is text, escaped; URLs are kept
 * only when they are http(s) or site-relative, so neither content nor URLs can inject script.
 */
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);

export function safeUrl(url: string | undefined): string | null {
  if (!url) return null;
  if (/^\/(?!\/)/.test(url)) return url;
  if (!URL.canParse(url)) return null;
  return /^https?:$/.test(new URL(url).protocol) ? url : null;
}

/**
 * A synthetic variant carries `data-synthetic="true"` and, when the site wants it (`label`), a
 * visible label: generated media must be recognisable as such.
 */
export function renderItem(item: DecidedItem, label?: string): string {
  const href = safeUrl(item.href);
  const image = safeUrl(item.imageUrl);
  const parts = [
    image
      ? `<img class="ep-image" src="${escapeHtml(image)}" alt="${escapeHtml(item.title)}" loading="lazy" width="320" height="240">`
      : "",
    `<span class="ep-title">${escapeHtml(item.title)}</span>`,
    item.body ? `<span class="ep-body">${escapeHtml(item.body)}</span>` : "",
    item.cta ? `<span class="ep-cta">${escapeHtml(item.cta)}</span>` : "",
  ].join("");
  const inner = href ? `<a class="ep-link" href="${escapeHtml(href)}">${parts}</a>` : parts;
  const variant = item.variant
    ? ` data-variant-id="${escapeHtml(item.variant.id)}"${item.variant.synthetic ? ' data-synthetic="true"' : ""}`
    : "";
  const disclosure = item.variant?.synthetic && label ? `<span class="ep-synthetic-label">${escapeHtml(label)}</span>` : "";
  return `<div class="ep-item" data-content-id="${escapeHtml(item.contentId)}" data-rank="${item.rank}"${variant}>${inner}${disclosure}</div>`;
}
