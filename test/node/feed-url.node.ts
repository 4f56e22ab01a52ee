import { describe, expect, it } from "vitest";
import { checkFeedUrl, isPublicAddress, type Resolver } from "../../worker/site/feeds/remote";

/**
 * The feed URL check's rules, with a resolver that answers as a DNS server would (the names are
 * the test's; the scheduled fetch itself is tested end to end in test/node/onboard.node.ts).
 */
const dns: Record<string, string[]> = {
  "feeds.shop.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
  "rebound.example": ["93.184.216.34", "10.1.2.3"],
  "metadata.example": ["169.254.169.254"],
  "mapped.example": ["::ffff:192.168.0.1"],
  "nat64.example": ["64:ff9b::7f00:1"],
  "empty.example": [],
};
const resolver: Resolver = async (host) => dns[host] ?? [];

describe("feed URL checks", () => {
  it("tells public addresses from every private, loopback, link-local and reserved range", () => {
    for (const address of ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "[2a00:1450::1]"])
      expect(isPublicAddress(address), address).toBe(true);
    for (const address of [
      "127.0.0.1",
      "10.0.0.1",
      "172.16.5.4",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "255.255.255.255",
      "192.0.2.1",
      "::1",
      "::",
      "fe80::1",
      "fd00::1",
      "ff02::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "64:ff9b::a00:1",
      "2001:db8::1",
      "not-an-address",
      "1.2.3",
    ])
      expect(isPublicAddress(address), address).toBe(false);
  });

  it("accepts an https URL on port 443 whose host resolves to public addresses only", async () => {
    expect((await checkFeedUrl("https://feeds.shop.example/products.xml", resolver)).href).toBe("https://feeds.shop.example/products.xml");
    expect((await checkFeedUrl("https://feeds.shop.example:443/p.csv", resolver)).host).toBe("feeds.shop.example");
  });

  it("refuses, with the reason, anything else", async () => {
    const refused: [string, RegExp][] = [
      ["http://feeds.shop.example/p.xml", /must be https/],
      ["https://user:secret@feeds.shop.example/p.xml", /credentials/],
      ["https://feeds.shop.example:8443/p.xml", /port 443/],
      ["https://127.0.0.1/p.xml", /not a public address/],
      ["https://0x7f.1/p.xml", /127\.0\.0\.1 is not a public address/],
      ["https://[::1]/p.xml", /not a public address/],
      ["https://localhost/p.xml", /not a public name/],
      ["https://intranet/p.xml", /not a public name/],
      ["https://rebound.example/p.xml", /resolves to 10\.1\.2\.3/],
      ["https://metadata.example/p.xml", /resolves to 169\.254\.169\.254/],
      ["https://mapped.example/p.xml", /resolves to ::ffff:192\.168\.0\.1/],
      ["https://nat64.example/p.xml", /resolves to 64:ff9b::7f00:1/],
      ["https://empty.example/p.xml", /has no address/],
      ["not a url", /not a URL/],
    ];
    for (const [url, reason] of refused) await expect(checkFeedUrl(url, resolver), url).rejects.toThrow(reason);
  });

  it("lets a test's stand-in origin through, and nothing else with it", async () => {
    const origins = new Map([["https://feeds.test.example", "http://127.0.0.1:9"]]);
    expect((await checkFeedUrl("https://feeds.test.example/p.xml", resolver, origins)).host).toBe("feeds.test.example");
    await expect(checkFeedUrl("https://127.0.0.1/p.xml", resolver, origins)).rejects.toThrow(/not a public address/);
  });
});
