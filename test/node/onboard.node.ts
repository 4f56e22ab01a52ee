import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiTarget, callApi } from "../../scripts/api-client";
import { startWorkerWithConsumer } from "../../scripts/bench/stack";
import { type Miniflare, stopWorkerd } from "../../scripts/bench/workerd";

/**
 * docs/onboard-in-ten-minutes.md, followed as written: its `npm run site` commands run in order
 * (the CLI, a process of its own) against a fresh local worker, with its CSV as the feed, then its
 * decision is asked through the typed client. A step that stops working, or a page that no longer
 * says what happens, fails here.
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

beforeAll(async () => {
  const stack = await startWorkerWithConsumer("onboard");
  mf = stack.mf;
  target = { url: stack.url.origin, token: stack.secrets.ADMIN_TOKEN ?? "" };
  dir = mkdtempSync(join(tmpdir(), "ep-onboard-"));
  const [csv] = blocks("csv");
  if (!csv) throw new Error("the page has no CSV feed");
  writeFileSync(join(dir, "products.csv"), csv);
});

afterAll(async () => {
  if (mf) await stopWorkerd(mf);
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
    expect(JSON.parse(created?.slice(0, created.lastIndexOf("}") + 1) ?? "null")).toMatchObject({ id: "knit", consentModel: "opt-out", timezone: "Europe/Paris" });
    // What the page says: three rows apply, line 5 is refused for its image, nothing changes on a preview.
    expect(preview).toMatch(/^preview in [\d.]+ s: 3 added, 0 changed, 0 unchanged, 0 archived, 1 refused/m);
    expect(preview).toMatch(/line 5 \(socks-4\): .*imageUrl.*https/);
    expect(preview).toContain("nothing changed");
    expect(applied).toMatch(/^imported in [\d.]+ s: 3 added/m);
    expect(applied).toMatch(/applied in \d+ D1 statements/);
    const items = await callApi(target, "GET /v1/admin/sites/{site}/items", { params: { site: "knit" } });
    expect((items as { items: { id: string }[] }).items.map((item) => item.id).sort()).toEqual(["beanie-3", "cardigan-1", "scarf-2"]);
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
