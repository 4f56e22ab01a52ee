import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiTarget, callApi } from "../../scripts/api-client";
import { startWorkerWithConsumer } from "../../scripts/bench/stack";
import { type Miniflare, stopWorkerd } from "../../scripts/bench/workerd";
import { waitFor } from "../../scripts/harness/wait";
import { runScheduled } from "../../scripts/log/local";
import { lineOf, merchantFeed } from "../support/feeds";

/**
 * docs/onboard-in-ten-minutes.md, followed as written: its `npm run site` commands run in order
 * (the CLI, a process of its own) against a fresh local worker, with its CSV as the feed, then its
 * decision is asked through the typed client. A step that stops working, or a page that no longer
 * says what happens, fails here. Then a site's feed URL, fetched by the scheduled maintenance: a
 * local server stands in for the feed's https host (FEED_FETCH_TEST_ORIGINS, which only tests set);
 * every other URL goes through the checks that deployments apply.
 */

const PAGE = readFileSync(resolve("docs/onboard-in-ten-minutes.md"), "utf8");
const TSX = resolve("node_modules/.bin/tsx");
const CLI = resolve("scripts/site.ts");

/** The fenced blocks of one language, in page order. */
const blocks = (lang: string) => [...PAGE.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, "g"))].map(([, body = ""]) => body);

/** A shell line's words, with "double" and 'single' quotes (all this page uses). */
const words = (line: string) => [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map(([, dq, sq, bare]) => dq ?? sq ?? bare ?? "");

let mf: Miniflare;
let target: ApiTarget;
let dir: string;
let feedServer: Server;
/** Paths the stand-in feed host was asked for. */
const feedRequests: string[] = [];
const FEED_ORIGIN = "https://feeds.knit.example";
const FEED_ITEMS = 300;

/** The stand-in for https://feeds.knit.example: a Merchant feed, and a redirect to a private address. */
async function startFeedServer(): Promise<string> {
  const feed = merchantFeed(FEED_ITEMS, { bad: [7], outOfStock: [3] });
  feedServer = createServer((req, res) => {
    feedRequests.push(req.url ?? "");
    if (req.url === "/products.xml") res.writeHead(200, { "content-type": "application/xml" }).end(feed);
    else if (req.url === "/moved") res.writeHead(302, { location: "https://127.0.0.1/products.xml" }).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((ready) => feedServer.listen(0, "127.0.0.1", ready));
  return `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const local = await startFeedServer();
  const stack = await startWorkerWithConsumer("onboard", { vars: { FEED_FETCH_TEST_ORIGINS: JSON.stringify({ [FEED_ORIGIN]: local }) } });
  mf = stack.mf;
  target = { url: stack.url.origin, token: stack.secrets.ADMIN_TOKEN ?? "" };
  dir = mkdtempSync(join(tmpdir(), "ep-onboard-"));
  const [csv] = blocks("csv");
  if (!csv) throw new Error("the page has no CSV feed");
  writeFileSync(join(dir, "products.csv"), csv);
});

afterAll(async () => {
  if (mf) await stopWorkerd(mf);
  await new Promise((closed) => feedServer?.close(closed));
});

/** Runs `npm run site -- …` as the CLI itself, in a directory holding the page's products.csv. */
async function site(args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(TSX, [CLI, ...args], {
    cwd: dir,
    env: { ...process.env, EP_URL: target.url, EP_ADMIN_TOKEN: target.token },
  });
  return stdout;
}

describe("Onboard your own site in ten minutes", () => {
  const commands = blocks("sh")
    .flatMap((block) => block.split("\n"))
    .filter((line) => line.startsWith("npm run site -- "))
    .map((line) => words(line.slice("npm run site -- ".length)));

  it("creates the site, its slots and its catalogue with the page's own commands", async () => {
    expect(commands.map(([command]) => command)).toEqual(["create", "slots", "slots", "items", "items"]);
    const outputs: string[] = [];
    for (const args of commands) outputs.push(await site(args));
    const [created, , , preview, applied] = outputs;
    expect(JSON.parse(created?.slice(0, created.lastIndexOf("}") + 1) ?? "null")).toMatchObject({
      id: "knit",
      consentModel: "opt-out",
      timezone: "Europe/Paris",
    });
    // What the page says: three rows apply, line 5 is refused for its image, nothing changes on a preview.
    expect(preview).toMatch(/^preview in [\d.]+ s: 3 added, 0 changed, 0 unchanged, 0 archived, 1 refused/m);
    expect(preview).toMatch(/line 5 \(socks-4\): .*imageUrl.*https/);
    expect(preview).toContain("nothing changed");
    expect(applied).toMatch(/^imported in [\d.]+ s: 3 added/m);
    expect(applied).toMatch(/applied in \d+ D1 statements/);
    const items = await callApi(target, "GET /v1/admin/sites/{site}/items", { params: { site: "knit" } });
    expect(items.items.map((item) => item.id).sort()).toEqual(["beanie-3", "cardigan-1", "scarf-2"]);
  });

  it("decides for the new site as the page's curl does: in-stock items of the feed only", async () => {
    const curl = blocks("sh").find((block) => block.includes("/v1/decide"));
    const body = JSON.parse(words(curl?.replace(/\\\n/g, " ") ?? "").at(-1) ?? "null");
    const answer = await callApi(target, "POST /v1/decide", { body });
    const bySlot = Object.fromEntries(answer.slots.map((slot) => [slot.slot, slot.items.map((item) => item.contentId)]));
    expect(bySlot).toEqual({ hero: ["cardigan-1"], recommendations: ["scarf-2"] });
    expect(answer.slots.every((slot) => slot.fallback === undefined)).toBe(true);
  });
});

/** A real catalogue's size for the CLI's own import (about two seconds: bench:import times it). */
const CLI_FEED_ITEMS = 10_000;

describe("the CLI alone, with a 10,000-item feed", () => {
  it("imports a Merchant feed file, naming the refused row's line, and serves in-stock items only", async () => {
    writeFileSync(join(dir, "feed.xml"), merchantFeed(CLI_FEED_ITEMS, { bad: [7], outOfStock: [3] }));
    await site(["create", "--id", "knit-cli", "--name", "Knitwear by CLI", "--origin", "https://cli.knit.example"]);
    await site(["slots", "knit-cli", "add", "--id", "recommendations", "--name", "Recommended", "--default", "5"]);
    const out = await site(["items", "knit-cli", "import", "feed.xml", "--slots", "recommendations"]);
    expect(out).toMatch(
      new RegExp(`^imported in [\\d.]+ s: ${CLI_FEED_ITEMS - 1} added, 0 changed, 0 unchanged, 0 archived, 1 refused`, "m"),
    );
    expect(out).toContain(`line ${lineOf(7)} (P-7): `);
    const answer = await callApi(target, "POST /v1/decide", {
      body: { site: "knit-cli", page: { url: "https://cli.knit.example/" }, slots: [{ id: "recommendations" }] },
    });
    const ids = answer.slots[0]?.items.map((item) => item.contentId) ?? [];
    expect(ids).toHaveLength(5);
    expect(ids.filter((id) => id === "P-3" || id === "P-7")).toEqual([]);
  });
});

describe("a feed URL, fetched by the scheduled maintenance", () => {
  const sites = {
    "knit-feed": `${FEED_ORIGIN}/products.xml`,
    "knit-moved": `${FEED_ORIGIN}/moved`,
    "knit-private": "https://10.0.0.1/products.xml",
    "knit-loopback": "https://[::ffff:127.0.0.1]/products.xml",
    "knit-localhost": "https://localhost/products.xml",
  };

  // A URL's form (https, port 443, no credentials) is refused when the site is saved (test/onboarding.test.ts);
  // what only resolving tells, when it is fetched.
  it("imports the feed as an upload would, and refuses every URL that is not a public https host", async () => {
    for (const [id, feedUrl] of Object.entries(sites)) {
      await callApi(target, "POST /v1/admin/sites", {
        body: { id, name: id, allowedOrigins: ["https://knit.example"], consentModel: "opt-out", feedUrl },
      });
      await callApi(target, "POST /v1/admin/sites/{site}/slots", {
        params: { site: id },
        body: { id: "recommendations", name: "Recommended", defaultCount: 3, maxCount: 20 },
      });
    }
    await runScheduled(mf, new URL(target.url), Date.now());
    // What an operator reads after the run: each site's latest import, through the admin API (and the CLI for one).
    const latest = async (id: string) => (await callApi(target, "GET /v1/admin/sites/{site}/imports", { params: { site: id } })).imports[0];
    const records = await waitFor(async () => {
      const found = await Promise.all(Object.keys(sites).map(async (id) => [id, await latest(id)] as const));
      return found.every(([, record]) => record) ? found : null;
    }, 120_000);
    const bySite = Object.fromEntries(records);
    // The feed: every product but the refused one, its line and reason recorded.
    expect(bySite["knit-feed"]).toMatchObject({ status: "applied", added: FEED_ITEMS - 1, refused: 1, error: null });
    expect(bySite["knit-feed"]?.refusedSample).toEqual([expect.objectContaining({ line: lineOf(7), id: "P-7" })]);
    expect(bySite["knit-feed"]?.source).toBe(`url:${FEED_ORIGIN}/products.xml`);
    // The others: failed with the reason, nothing imported, and the private targets never asked.
    expect(bySite["knit-moved"]).toMatchObject({ status: "failed", added: 0, error: "the feed host 127.0.0.1 is not a public address" });
    expect(bySite["knit-private"]?.error).toBe("the feed host 10.0.0.1 is not a public address");
    expect(bySite["knit-loopback"]?.error).toMatch(/^the feed host \[::ffff:7f00:1\] is not a public address$/);
    expect(bySite["knit-localhost"]?.error).toBe("the feed host localhost is not a public name");
    expect(feedRequests.sort()).toEqual(["/moved", "/products.xml"]);
    expect(await site(["imports", "knit-private"])).toContain("the feed host 10.0.0.1 is not a public address");
    for (const id of ["knit-moved", "knit-private", "knit-loopback", "knit-localhost"]) {
      const items = await callApi(target, "GET /v1/admin/sites/{site}/items", { params: { site: id } });
      expect(items.items).toEqual([]);
    }
  });

  it("serves the fetched catalogue: in-stock items only", async () => {
    const answer = await callApi(target, "POST /v1/decide", {
      body: { site: "knit-feed", page: { url: "https://knit.example/" }, slots: [{ id: "recommendations", count: 20 }] },
    });
    const ids = answer.slots[0]?.items.map((item) => item.contentId) ?? [];
    expect(ids).toHaveLength(20);
    expect(ids).not.toContain("P-3");
    expect(ids).not.toContain("P-7");
  });
});
