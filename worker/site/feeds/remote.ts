/**
 * Fetching a site's feed URL, as the scheduled job does. The URL comes from input (a site's
 * settings), so it is resolved and then checked against what is allowed before anything is
 * fetched: https only, port 443, no credentials, and a host whose every address is public (no
 * loopback, private, link-local, carrier-grade NAT, multicast or reserved range, IPv4 or IPv6,
 * mapped forms included). Redirects are followed by hand, each target checked the same way.
 *
 * Workers have no resolver API, so names are resolved over DNS-over-HTTPS. Between that answer and
 * the fetch, the name could be pointed elsewhere (rebinding); on Cloudflare a Worker's fetch
 * reaches the public internet only, so the check is a second wall there, and the first one for any
 * other runtime.
 */

/** What a feed may weigh: the upload's limit (worker/http/routes/admin-sites.ts keeps the same). */
export const MAX_REMOTE_FEED_BYTES = 32 * 1024 * 1024;
const MAX_REDIRECTS = 3;
const FETCH_TIMEOUT_MS = 30_000;
const DOH_URL = "https://cloudflare-dns.com/dns-query";

/** A feed that cannot be fetched, with the reason an operator can act on. */
export class FeedFetchError extends Error {}

/** Resolves a host name to its addresses (A and AAAA). */
export type Resolver = (host: string) => Promise<string[]>;

/**
 * Origins that tests serve feeds from: an https origin a site may register, mapped to the local
 * http origin that stands in for it (`FEED_FETCH_TEST_ORIGINS`, empty in every deployment).
 */
export type TestOrigins = ReadonlyMap<string, string>;

const ipv4Parts = (address: string) => {
  const parts = address.split(".").map(Number);
  return parts.length === 4 && parts.every((p) => Number.isInteger(p) && p >= 0 && p <= 255) ? parts : null;
};

function publicIpv4([a = 0, b = 0, c = 0]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false; // this network, private, loopback, multicast and reserved
  if (a === 100 && b >= 64 && b <= 127) return false; // carrier-grade NAT
  if (a === 169 && b === 254) return false; // link-local (cloud metadata services)
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if ((a === 198 && b === 51 && c === 100) || (a === 203 && b === 0 && c === 113)) return false; // TEST-NET-2, -3
  return true;
}

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.toLowerCase();
  const tail = text.match(/:(\d+\.\d+\.\d+\.\d+)$/)?.[1];
  if (tail) {
    const v4 = ipv4Parts(tail);
    if (!v4) return null;
    text = `${text.slice(0, -tail.length)}${((v4[0] ?? 0) * 256 + (v4[1] ?? 0)).toString(16)}:${((v4[2] ?? 0) * 256 + (v4[3] ?? 0)).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = rest ? rest.split(":") : [];
  if (text.split("::").length > 2) return null;
  const missing = 8 - left.length - right.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array(rest === undefined ? 0 : missing).fill("0"), ...right].map((g) =>
    /^[0-9a-f]{1,4}$/.test(g) ? Number.parseInt(g, 16) : Number.NaN,
  );
  return groups.every((g) => !Number.isNaN(g)) ? groups : null;
}

function publicIpv6(groups: number[]): boolean {
  const [g0 = 0, g1 = 0, , , , g5 = 0, g6 = 0, g7 = 0] = groups;
  const embeddedV4 = [g6 >> 8, g6 & 255, g7 >> 8, g7 & 255];
  if (groups.slice(0, 5).every((g) => g === 0) && g5 === 0xffff) return publicIpv4(embeddedV4); // IPv4-mapped
  if (g0 === 0x64 && g1 === 0xff9b) return publicIpv4(embeddedV4); // NAT64
  if (groups.slice(0, 6).every((g) => g === 0)) return false; // unspecified, loopback, IPv4-compatible
  if ((g0 & 0xfe00) === 0xfc00 || (g0 & 0xffc0) === 0xfe80 || (g0 & 0xff00) === 0xff00) return false; // unique local, link-local, multicast
  if (g0 === 0x2001 && g1 === 0x0db8) return false; // documentation
  if (g0 === 0x0100 && groups.slice(1, 4).every((g) => g === 0)) return false; // discard-only
  return true;
}

/** Whether an address (IPv4 or IPv6, as DNS or a URL gives it) is on the public internet. */
export function isPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  const v4 = ipv4Parts(bare);
  if (v4) return publicIpv4(v4);
  const v6 = bare.includes(":") ? ipv6Groups(bare) : null;
  return v6 ? publicIpv6(v6) : false;
}

const isIpLiteral = (host: string) => host.startsWith("[") || ipv4Parts(host) !== null;

/** DNS-over-HTTPS (JSON): the A and AAAA answers, CNAMEs followed by the resolver. */
export const dohResolver: Resolver = async (host) => {
  const lookups = await Promise.all(
    ["A", "AAAA"].map(async (type) => {
      const res = await fetch(`${DOH_URL}?name=${encodeURIComponent(host)}&type=${type}`, {
        headers: { accept: "application/dns-json" },
        signal: AbortSignal.timeout(5_000),
      });
      if (!res.ok) throw new FeedFetchError(`the name ${host} could not be resolved (resolver answered ${res.status})`);
      const body = (await res.json()) as { Answer?: { type: number; data: string }[] };
      return (body.Answer ?? []).filter((a) => a.type === 1 || a.type === 28).map((a) => a.data);
    }),
  );
  return lookups.flat();
};

/** The URL, if it may be fetched: its form first, then every address its host resolves to. */
export async function checkFeedUrl(raw: string, resolve: Resolver, testOrigins: TestOrigins = new Map()): Promise<URL> {
  if (!URL.canParse(raw)) throw new FeedFetchError("the feed URL is not a URL");
  const url = new URL(raw);
  if (testOrigins.has(url.origin)) return url;
  if (url.protocol !== "https:") throw new FeedFetchError("the feed URL must be https");
  if (url.username || url.password) throw new FeedFetchError("the feed URL must not carry credentials");
  if (url.port && url.port !== "443") throw new FeedFetchError("the feed URL must use port 443");
  const host = url.hostname;
  if (isIpLiteral(host)) {
    if (!isPublicAddress(host)) throw new FeedFetchError(`the feed host ${host} is not a public address`);
    return url;
  }
  if (!host.includes(".") || host === "localhost" || host.endsWith(".localhost"))
    throw new FeedFetchError(`the feed host ${host} is not a public name`);
  const addresses = await resolve(host).catch((err: unknown) => {
    throw err instanceof FeedFetchError ? err : new FeedFetchError(`the name ${host} could not be resolved`);
  });
  if (addresses.length === 0) throw new FeedFetchError(`the name ${host} has no address`);
  const inside = addresses.find((address) => !isPublicAddress(address));
  if (inside) throw new FeedFetchError(`the feed host ${host} resolves to ${inside}, which is not a public address`);
  return url;
}

/** The body as text, refused past `MAX_REMOTE_FEED_BYTES` while it streams in. */
async function boundedText(res: Response): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_REMOTE_FEED_BYTES) throw new FeedFetchError(`the feed is ${declared} bytes: at most ${MAX_REMOTE_FEED_BYTES}`);
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_REMOTE_FEED_BYTES) {
      await reader.cancel();
      throw new FeedFetchError(`the feed passes ${MAX_REMOTE_FEED_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Fetches a feed URL once it is checked, and every redirect's target once it is checked too. */
export async function fetchFeed(
  raw: string,
  resolve: Resolver,
  testOrigins: TestOrigins = new Map(),
): Promise<{ text: string; contentType: string | null }> {
  let target = raw;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const url = await checkFeedUrl(target, resolve, testOrigins);
    const fetched = testOrigins.get(url.origin);
    const res = await fetch(fetched ? `${fetched}${url.pathname}${url.search}` : url, {
      redirect: "manual",
      headers: { accept: "application/xml, text/csv, text/plain;q=0.5" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    }).catch(() => {
      throw new FeedFetchError(`the feed could not be fetched from ${url.host}`);
    });
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      target = new URL(location, url).href;
      continue;
    }
    if (!res.ok) throw new FeedFetchError(`the feed URL answered ${res.status}`);
    return { text: await boundedText(res), contentType: res.headers.get("content-type") };
  }
  throw new FeedFetchError(`the feed URL redirects more than ${MAX_REDIRECTS} times`);
}

/** `FEED_FETCH_TEST_ORIGINS`: JSON mapping https origins to local ones (tests only); empty: none; not JSON: throws. */
export function testOriginsOf(raw: string | undefined): TestOrigins {
  if (!raw?.trim()) return new Map();
  const parsed = JSON.parse(raw) as Record<string, string>;
  return new Map(Object.entries(parsed));
}
