import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * Every relative link and anchor in README.md and docs/*.md resolves: the file exists and, when
 * the link names a heading (`page.md#section`), the page has that heading (GitHub's slugs).
 * External links are not fetched (nothing here needs the internet).
 */

const PAGES = [
  "README.md",
  ...readdirSync("docs")
    .filter((name) => name.endsWith(".md"))
    .map((name) => join("docs", name)),
];

/** The text outside fenced code blocks, where a `](` is not a link. */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, "");

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading = ""] of prose(readFileSync(file, "utf8")).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count ? `${slug}-${count}` : slug);
  }
  return anchors;
}

function relativeLinks(file: string): string[] {
  return [...prose(readFileSync(file, "utf8")).matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target = ""]) => target)
    .filter((target) => !/^[a-z]+:/i.test(target));
}

describe("README and docs links", () => {
  it("finds the pages and their links (the check has something to check)", () => {
    expect(PAGES).toContain("docs/onboard-in-ten-minutes.md");
    expect(relativeLinks("README.md").length).toBeGreaterThan(5);
  });

  it("resolves every relative link and anchor", () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const link of relativeLinks(page)) {
        const [path = "", anchor] = link.split("#");
        const target = path ? resolve(dirname(page), decodeURIComponent(path)) : resolve(page);
        if (!existsSync(target)) broken.push(`${page}: ${link} (no such file)`);
        else if (anchor && target.endsWith(".md") && !anchorsOf(target).has(anchor)) broken.push(`${page}: ${link} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("would catch a broken anchor (GitHub's slug of a heading with punctuation and code)", () => {
    expect(anchorsOf("docs/site-owner.md").has("the-script-tag")).toBe(true);
    expect(anchorsOf("docs/site-owner.md").has("the-script-tags")).toBe(false);
  });
});
