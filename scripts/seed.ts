/**
 * Seeds the demo site into D1 and KV through wrangler, and the demo visitors' profiles into their
 * Durable Objects through the worker (scripts/admin-import.ts): `npm run seed` (local state, the
 * default; a temporary `wrangler dev` writes the objects) or `npm run seed -- --remote --env
 * staging --url https://<worker>` (ADMIN_TOKEN in the environment). Prints signed cookies for the
 * demo visitors. A revoked demo visitor is not seeded again: their object refuses the profile.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sign } from "../worker/lib/signing";
import { catalogueSnapshotKey } from "../worker/site/catalogue";
import { adminPoster, importVisitors, readDevVar, withLocalWorker } from "./admin-import";
import { DEMO_SITE, DEMO_SLOTS, demoItems, demoVariants, demoVisitors } from "./seed/demo-data";
import { upsertVariantSql } from "./variants/sql";
import { sqlJson, sqlText } from "./wrangler";

const args = process.argv.slice(2);
const remote = args.includes("--remote");
const envIndex = args.indexOf("--env");
const targetEnv = envIndex >= 0 ? args[envIndex + 1] : undefined;
const urlIndex = args.indexOf("--url");
const workerUrl = urlIndex >= 0 ? args[urlIndex + 1] : undefined;
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

/** The demo visitors' profiles into their objects, through the deployed worker or a local one. */
function seedVisitors() {
  const profiles = demoVisitors().map((v) => ({
    site: DEMO_SITE.id,
    visitorId: v.id,
    profile: { v: 1 as const, ...v.profile, recent: [], updatedAt: Date.now() },
  }));
  if (!remote) return withLocalWorker({ env: targetEnv }, (post) => importVisitors(post, { profiles }));
  const token = process.env.ADMIN_TOKEN;
  if (!workerUrl || !token) throw new Error("--remote needs --url https://<worker> and ADMIN_TOKEN in the environment");
  return importVisitors(adminPoster(new URL(workerUrl), token), { profiles });
}

async function main() {
  const dir = join(".wrangler", "seed");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "demo.sql"), demoSql());
  wrangler("d1", "execute", "DB", "--file", join(dir, "demo.sql"));
  const modelTarget = [...(remote ? [] : ["--local"]), ...(targetEnv ? ["--env", targetEnv] : [])];
  execFileSync("npx", ["tsx", "scripts/model.ts", "register-bundled", ...modelTarget], { stdio: ["ignore", "ignore", "inherit"] });

  // The snapshot that serves when D1 is unreachable (the scheduled handler refreshes it).
  const snapshot = { site: DEMO_SITE, slots: DEMO_SLOTS, items: demoItems() };
  writeFileSync(
    join(dir, "catalogue.json"),
    JSON.stringify([{ key: catalogueSnapshotKey(DEMO_SITE.id), value: JSON.stringify(snapshot) }]),
  );
  wrangler("kv", "bulk", "put", join(dir, "catalogue.json"), "--binding", "CONFIG");

  const { imported, refused } = await seedVisitors();
  console.log(`seeded site "${DEMO_SITE.id}" (${DEMO_SLOTS.length} slots, ${demoItems().length} items) and ${imported} demo visitors`);
  const kept = demoVisitors().filter((v) => !refused.includes(v.id));
  for (const visitor of demoVisitors()) if (refused.includes(visitor.id)) console.log(`  not seeded (revoked): ${visitor.description}`);
  if (!remote) {
    const key = readDevVar("ID_SIGNING_KEY");
    if (!key) throw new Error("ID_SIGNING_KEY is not set in .dev.vars (copy .dev.vars.example)");
    for (const visitor of kept) {
      console.log(`  ${visitor.description}\n    Cookie: ep_vid=${encodeURIComponent(await sign(visitor.id, key))}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
