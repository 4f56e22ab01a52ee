import type { RequestContext } from "../inference/encode";

/**
 * The request's own context, coarse by design: country (not city or IP), the local hour and day
 * (not a timestamp), a device class (not the user agent), a referrer class (not the URL).
 */

const SEARCH_HOSTS = /(^|\.)(google|bing|duckduckgo|yahoo|yandex|baidu|ecosia|qwant|startpage)\./;
const SOCIAL_HOSTS = /(^|\.)(facebook|instagram|t\.co|twitter|x\.com|linkedin|pinterest|reddit|tiktok|youtube|threads)(\.|$)/;

export type ReferrerClass = "direct" | "search" | "social" | "internal" | "external";

export function referrerClass(referrer: string | undefined, pageUrl: string): ReferrerClass {
  if (!referrer || !URL.canParse(referrer)) return "direct";
  const host = new URL(referrer).hostname;
  if (host === new URL(pageUrl).hostname) return "internal";
  if (SEARCH_HOSTS.test(host)) return "search";
  if (SOCIAL_HOSTS.test(host)) return "social";
  return "external";
}

export type DeviceClass = "mobile" | "tablet" | "desktop" | "bot";

export function deviceClass(userAgent: string | undefined): DeviceClass {
  const ua = userAgent ?? "";
  if (ua === "" || /bot|crawler|spider|crawling|headlesschrome|lighthouse|curl|wget|python-requests/i.test(ua)) return "bot";
  if (/ipad|tablet|(android(?!.*mobile))/i.test(ua)) return "tablet";
  if (/mobi|iphone|ipod|android/i.test(ua)) return "mobile";
  return "desktop";
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const formatters = new Map<string, Intl.DateTimeFormat>();
/** Every zone's offset is a whole number of quarter hours, so the local hour and day hold for a UTC quarter hour. */
const QUARTER_HOUR_MS = 15 * 60 * 1000;
const lastAnswer = new Map<string, { quarter: number; answer: { hour: number; dayOfWeek: number } }>();

/**
 * Local hour (0-23) and day of week (0 = Sunday) in `timeZone`; UTC if the zone is unknown. The
 * answer is kept per zone for its quarter hour: `formatToParts` was about 2% of a decision's CPU.
 */
export function localTime(now: Date, timeZone: string): { hour: number; dayOfWeek: number } {
  const quarter = Math.floor(now.getTime() / QUARTER_HOUR_MS);
  const last = lastAnswer.get(timeZone);
  if (last?.quarter === quarter) return last.answer;
  let format = formatters.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", hourCycle: "h23", weekday: "short" });
    } catch {
      return localTime(now, "UTC");
    }
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(now);
  const hour = Number(parts.find((p) => p.type === "hour")?.value ?? 0) % 24;
  const dayOfWeek = WEEKDAYS.indexOf(parts.find((p) => p.type === "weekday")?.value ?? "Sun");
  const answer = { hour, dayOfWeek };
  lastAnswer.set(timeZone, { quarter, answer });
  return answer;
}

/** Page category: the one the page states, else the first path segment ("home" for "/"). */
export function pageCategory(pageUrl: string, stated: string | undefined): string {
  if (stated) return stated.toLowerCase();
  const first = new URL(pageUrl).pathname.split("/").find(Boolean);
  return first ? decodeURIComponent(first).toLowerCase().slice(0, 64) : "home";
}

export function buildContext(input: {
  now: Date;
  cf: { country?: unknown; timezone?: unknown } | undefined;
  siteTimezone: string;
  userAgent: string | undefined;
  page: { url: string; referrer?: string; category?: string };
  /** The language chain (worker/variants/language.ts); its first entry is a context feature. */
  languages: readonly string[];
}): RequestContext {
  const timeZone = typeof input.cf?.timezone === "string" ? input.cf.timezone : input.siteTimezone;
  const country = typeof input.cf?.country === "string" ? input.cf.country : undefined;
  return {
    ...(country ? { country } : {}),
    ...localTime(input.now, timeZone),
    device: deviceClass(input.userAgent),
    pageCategory: pageCategory(input.page.url, input.page.category),
    referrerClass: referrerClass(input.page.referrer, input.page.url),
    ...(input.languages[0] ? { language: input.languages[0].split("-")[0] } : {}),
  };
}
