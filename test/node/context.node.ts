import { describe, expect, it } from "vitest";
import { buildContext, deviceClass, localTime, pageCategory, referrerClass } from "../../worker/decisions/context";
import { withoutPathPrefix } from "../../worker/http/path-prefix";

describe("request context", () => {
  it("classifies devices from the user agent, bots included", () => {
    expect(deviceClass("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148")).toBe("mobile");
    expect(deviceClass("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36")).toBe("mobile");
    expect(deviceClass("Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X)")).toBe("tablet");
    expect(deviceClass("Mozilla/5.0 (Linux; Android 14; SM-X710) Safari/537.36")).toBe("tablet");
    expect(deviceClass("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36")).toBe("desktop");
    expect(deviceClass("Googlebot/2.1 (+http://www.google.com/bot.html)")).toBe("bot");
    expect(deviceClass(undefined)).toBe("bot");
  });

  it("classifies referrers without keeping them", () => {
    const page = "https://shop.example/women";
    expect(referrerClass(undefined, page)).toBe("direct");
    expect(referrerClass("not a url", page)).toBe("direct");
    expect(referrerClass("https://shop.example/men?x=1", page)).toBe("internal");
    expect(referrerClass("https://www.google.co.jp/search?q=coat", page)).toBe("search");
    expect(referrerClass("https://t.co/abc", page)).toBe("social");
    expect(referrerClass("https://blog.example/post", page)).toBe("external");
  });

  it("uses the visitor's local hour and weekday, falling back to UTC for unknown zones", () => {
    const now = new Date("2026-11-25T23:30:00Z"); // a Wednesday in UTC, Thursday morning in Tokyo
    expect(localTime(now, "Asia/Tokyo")).toEqual({ hour: 8, dayOfWeek: 4 });
    expect(localTime(now, "UTC")).toEqual({ hour: 23, dayOfWeek: 3 });
    expect(localTime(now, "Not/AZone")).toEqual({ hour: 23, dayOfWeek: 3 });
  });

  it("turns the local day over at the zone's own midnight, also for zones a quarter or half hour off", () => {
    // Kathmandu is UTC+5:45 and Kolkata UTC+5:30: their midnights fall on UTC quarter hours.
    expect(localTime(new Date("2026-11-25T18:14:59Z"), "Asia/Kathmandu")).toEqual({ hour: 23, dayOfWeek: 3 });
    expect(localTime(new Date("2026-11-25T18:15:00Z"), "Asia/Kathmandu")).toEqual({ hour: 0, dayOfWeek: 4 });
    expect(localTime(new Date("2026-11-25T18:29:59Z"), "Asia/Kolkata")).toEqual({ hour: 23, dayOfWeek: 3 });
    expect(localTime(new Date("2026-11-25T18:30:00Z"), "Asia/Kolkata")).toEqual({ hour: 0, dayOfWeek: 4 });
    expect(localTime(new Date("2026-11-25T18:29:59Z"), "Asia/Kolkata")).toEqual({ hour: 23, dayOfWeek: 3 });
  });

  it("derives the page category from the path unless the page states one", () => {
    expect(pageCategory("https://shop.example/Women/knitwear?utm=1", undefined)).toBe("women");
    expect(pageCategory("https://shop.example/", undefined)).toBe("home");
    expect(pageCategory("https://shop.example/x", "Sale")).toBe("sale");
  });

  it("keeps only coarse fields", () => {
    const context = buildContext({
      now: new Date("2026-11-25T03:00:00Z"),
      cf: { country: "JP", timezone: "Asia/Tokyo", city: "Shibuya" } as { country: string; timezone: string },
      siteTimezone: "UTC",
      userAgent: "Mozilla/5.0 (iPhone) Mobile",
      page: { url: "https://shop.example/men/coats?id=42", referrer: "https://www.bing.com/search?q=x" },
      languages: ["ja-jp", "ja", "en"],
    });
    expect(context).toEqual({
      country: "JP",
      hour: 12,
      dayOfWeek: 3,
      device: "mobile",
      pageCategory: "men",
      referrerClass: "search",
      language: "ja",
    });
  });
});

describe("mounting under a path prefix", () => {
  it("routes /p13n/v1/decide as /v1/decide and leaves other paths alone", () => {
    const strip = (url: string, prefix: string) => new URL(withoutPathPrefix(new Request(url), prefix).url).pathname + new URL(url).search;
    expect(strip("https://shop.example/p13n/v1/decide?site=demo", "/p13n")).toBe("/v1/decide?site=demo");
    expect(strip("https://shop.example/p13n", "/p13n")).toBe("/");
    expect(strip("https://shop.example/p13nx/v1/decide", "/p13n")).toBe("/p13nx/v1/decide");
    expect(strip("https://shop.example/v1/decide", "")).toBe("/v1/decide");
  });
});
