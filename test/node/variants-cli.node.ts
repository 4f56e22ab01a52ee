import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { d1Query, d1Run, sqlJson, type Target } from "../../scripts/wrangler";

/** `npm run variants -- import` against local wrangler state: a CSV lands as screened drafts. */
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
let work: string;
let target: Target;

describe("npm run variants (wrangler, local state)", () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "variants-cli-"));
    target = { remote: false, persistTo: join(work, "state") };
    execFileSync("npx", ["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", join(work, "state")], {
      env,
      stdio: "ignore",
    });
    d1Run(
      [
        `INSERT INTO sites (id, name, allowed_origins, consent_model, honor_gpc, timezone, policy) VALUES ('cli', 'CLI', '[]', 'opt-out', 1, 'UTC', ${sqlJson({ blocklist: ["cheap"] })});`,
        `INSERT INTO content_items (site_id, id, status, slot_ids, render, categories, attributes, default_rank) VALUES ('cli', 'coat', 'active', '["hero"]', ${sqlJson({ title: "Coat" })}, '[]', '{}', 1);`,
      ],
      target,
    );
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // A generous bound: two wrangler runs, while the suite runs two workers at once.
  it("imports a CSV's valid rows as drafts and names each refused row", { timeout: 240_000 }, () => {
    const csv = join(work, "variants.csv");
    writeFileSync(
      csv,
      [
        "contentId,id,language,title,cta,origin,tool,synthetic",
        "coat,en-1,en,Warm wool coat,Shop now,human,,false",
        'coat,fr-gen,fr,"Manteau chaud, léger",Découvrir,generated,copy-model v2,true',
        "coat,cheap-1,en,A cheap coat,Buy,human,,false",
        "ghost,x,en,Nothing,,human,,false",
      ].join("\n"),
    );
    const run = spawnSync(
      "npx",
      ["tsx", "scripts/variants.ts", "import", csv, "--site", "cli", "--local", "--persist-to", join(work, "state")],
      {
        encoding: "utf8",
        env,
      },
    );
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('imported 2 of 4 variants as drafts on "cli"');
    expect(run.stderr).toContain("#2 cheap-1: refused: blocklisted: cheap");
    expect(run.stderr).toContain('#3 x: refused: no content item "ghost"');
    const [rows = []] = d1Query(["SELECT id, language, status, synthetic, components FROM content_variants ORDER BY id"], target);
    expect(rows).toEqual([
      {
        id: "en-1",
        language: "en",
        status: "draft",
        synthetic: 0,
        components: JSON.stringify({ title: "Warm wool coat", cta: "Shop now" }),
      },
      {
        id: "fr-gen",
        language: "fr",
        status: "draft",
        synthetic: 1,
        components: JSON.stringify({ title: "Manteau chaud, léger", cta: "Découvrir" }),
      },
    ]);
  });
});
