/**
 * Seeds the demo site into D1 and KV through wrangler: `npm run seed` (local state, the default)
 * or `npm run seed -- --remote --env staging`. Prints signed cookies for the demo visitors.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sign } from "../worker/lib/signing";
import { catalogueSnapshotKey } from "../worker/site/catalogue";
import { profileKey } from "../worker/store/profiles";
import { DEMO_SITE, DEMO_SLOTS, demoItems, demoVariants, demoVisitors } from "./seed/demo-data";
import { upsertVariantSql } from "./variants/sql";
import { sqlJson, sqlText } from "./wrangler";

const args = process.argv.slice(2);
const remote = args.includes("--remote");
const envIndex = args.indexOf("--env");
const targetEnv = envIndex >= 0 ? args[envIndex + 1] : undefined;
const where = [remote ? "--remote" : "--local", ...(targetEnv ? ["--env", targetEnv] : [])];

function demoSql(): string {
  const s = DEMO_SITE;
  const lines = [
    `INSERT OR REPLACE INTO sites (id, name, allowed_origins, consent_model, honor_gpc, tcf_vendor_id, timezone, origin_url) VALUES (${sqlText(s.id)}, ${sqlText(s.name)}, ${sqlJson(s.allowedOrigins)}, ${sqlText(s.consentModel)}, ${s.honorGpc ? 1 : 0}, NULL, ${sqlText(s.timezone)}, ${sqlText(s.originUrl)});`,
    `DELETE FROM content_items WHERE site_id = ${sqlText(s.id)};`,
    `DELETE FROM content_variants WHERE site_id = ${sqlText(s.id)};`,
    ...DEMO_SLOTS.map(
      (slot) =>
        `INSERT OR REPLACE INTO slots (site_id, id, name, default_count, max_count) VALUES (${sqlText(s.id)}, ${sqlText(slot.id)}, ${sqlText(slot.name)}, ${slot.defaultCount}, ${slot.maxCount});`,
    ),
    ...demoItems().map(
      (item) =>
        `INSERT INTO content_items (site_id, id, status, slot_ids, render, categories, attributes, default_rank) VALUES (${sqlText(s.id)}, ${sqlText(item.id)}, 'active', ${sqlJson(item.slotIds)}, ${sqlJson(item.render)}, ${sqlJson(item.categories)}, ${sqlJson(item.attributes)}, ${item.defaultRank});`,
    ),
    ...demoVariants().map(({ variant, status }) =>
      upsertVariantSql(s.id, variant, status === "approved" ? { status, by: "seed" } : { status }),
    ),
  ];
  return `${lines.join("\n")}\n`;
}

function wrangler(...command: string[]) {
  execFileSync("npx", ["wrangler", ...command, ...where], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
}

function readDevVar(name: string): string {
  const text = readFileSync(".dev.vars", "utf8");
  const match = text.match(new RegExp(`^${name}="?([^"\\n]*)"?`, "m"));
  if (!match?.[1]) throw new Error(`${name} is not set in .dev.vars (copy .dev.vars.example)`);
  return match[1];
}

async function main() {
  const dir = join(".wrangler", "seed");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "demo.sql"), demoSql());
  wrangler("d1", "execute", "DB", "--file", join(dir, "demo.sql"));
  const modelTarget = [...(remote ? [] : ["--local"]), ...(targetEnv ? ["--env", targetEnv] : [])];
  execFileSync("npx", ["tsx", "scripts/model.ts", "register-bundled", ...modelTarget], { stdio: ["ignore", "ignore", "inherit"] });

  const profiles = demoVisitors().map((v) => ({
    key: profileKey(DEMO_SITE.id, v.id),
    value: JSON.stringify({ v: 1, ...v.profile, updatedAt: Date.now() }),
  }));
  writeFileSync(join(dir, "profiles.json"), JSON.stringify(profiles));
  wrangler("kv", "bulk", "put", join(dir, "profiles.json"), "--binding", "PROFILES");

  // The snapshot that serves when D1 is unreachable (the scheduled handler refreshes it).
  const snapshot = { site: DEMO_SITE, slots: DEMO_SLOTS, items: demoItems() };
  writeFileSync(
    join(dir, "catalogue.json"),
    JSON.stringify([{ key: catalogueSnapshotKey(DEMO_SITE.id), value: JSON.stringify(snapshot) }]),
  );
  wrangler("kv", "bulk", "put", join(dir, "catalogue.json"), "--binding", "CONFIG");

  console.log(
    `seeded site "${DEMO_SITE.id}" (${DEMO_SLOTS.length} slots, ${demoItems().length} items) and ${profiles.length} demo visitors`,
  );
  if (!remote) {
    const key = readDevVar("ID_SIGNING_KEY");
    for (const visitor of demoVisitors()) {
      console.log(`  ${visitor.description}\n    Cookie: ep_vid=${encodeURIComponent(await sign(visitor.id, key))}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
