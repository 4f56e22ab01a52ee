import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readVariantsFile } from "../../scripts/variants/file";
import { screenVariants } from "../../worker/variants/schema";

/** `npm run variants -- import` files: CSV rows and JSON combinations become screened variants. */
const dir = mkdtempSync(join(tmpdir(), "ep-variants-"));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const known = new Set(["men-0", "women-3"]);

describe("variant import files", () => {
  it("reads CSV rows (quoted commas, empty cells absent) and screens them like the endpoint", () => {
    const file = write(
      "variants.csv",
      [
        "contentId,id,language,title,cta,origin,tool,license,synthetic,imageUrl",
        'men-0,en-1,en,"Warm, soft merino",Shop now,human,,CC0,false,',
        "men-0,fr-gen,fr,Pull chaud,Découvrir,generated,copy-model v2,,TRUE,/img/a.png",
        "men-0,bad,en,Free gift,Shop now,human,,,false,",
        "women-3,nolang,,Title,,human,,,0,",
        "men-0,gen-untold,en,Title,,generated,,,yes,",
      ].join("\n"),
    );
    const { accepted, rejected } = screenVariants(readVariantsFile(file), known, ["free"]);
    expect(accepted).toEqual([
      {
        contentId: "men-0",
        id: "en-1",
        language: "en",
        components: { title: "Warm, soft merino", cta: "Shop now" },
        provenance: { origin: "human", license: "CC0" },
        synthetic: false,
      },
      {
        contentId: "men-0",
        id: "fr-gen",
        language: "fr",
        components: { title: "Pull chaud", cta: "Découvrir", imageUrl: "/img/a.png" },
        provenance: { origin: "generated", tool: "copy-model v2" },
        synthetic: true,
      },
    ]);
    expect(rejected.map((r) => r.index)).toEqual([2, 3, 4]);
    expect(rejected[0]?.reason).toBe("blocklisted: free");
    expect(rejected[1]?.reason).toMatch(/^language: /);
    expect(rejected[2]?.reason).toContain("name the tool or model");
  });

  it("refuses a CSV with an unknown column, naming it", () => {
    const file = write("typo.csv", "contentId,id,language,headline\nmen-0,a,en,x\n");
    expect(() => readVariantsFile(file)).toThrow(/unknown columns headline/);
  });

  it("expands JSON combinations into one variant per headline × call to action", () => {
    const file = write(
      "sets.json",
      JSON.stringify({
        variants: [
          {
            contentId: "women-3",
            id: "solo",
            language: "en",
            components: { title: "Solo" },
            provenance: { origin: "human" },
            synthetic: false,
          },
        ],
        combinations: [
          {
            contentId: "men-0",
            idPrefix: "spring",
            language: "en",
            components: { title: ["Light layers", "Spring is here"], cta: ["Shop now", "See more", "Browse"] },
            provenance: { origin: "edited", tool: "editor + copy-model v2" },
            synthetic: true,
          },
        ],
      }),
    );
    const { accepted, rejected } = screenVariants(readVariantsFile(file), known, []);
    expect(rejected).toEqual([]);
    expect(accepted.map((v) => v.id)).toEqual([
      "solo",
      "spring-t0c0",
      "spring-t0c1",
      "spring-t0c2",
      "spring-t1c0",
      "spring-t1c1",
      "spring-t1c2",
    ]);
    expect(accepted[5]).toMatchObject({ components: { title: "Spring is here", cta: "See more" }, synthetic: true });
  });

  it("refuses a combination set that would explode, with the reason", () => {
    const many = Array.from({ length: 11 }, (_, i) => `Option ${i}`);
    const file = write(
      "huge.json",
      JSON.stringify({
        combinations: [
          { contentId: "men-0", idPrefix: "x", language: "en", components: { title: many, cta: many }, provenance: {}, synthetic: false },
        ],
      }),
    );
    expect(() => readVariantsFile(file)).toThrow(/at most 100 combinations per set/);
  });
});
