/**
 * Seeds the demo site into D1 and KV through wrangler: `npm run seed` (local state, the default;
 * `--persist-to DIR` for another state directory) or `npm run seed -- --remote --env staging`.
 * Prints signed cookies for the demo visitors. A demo visitor whose id was revoked is never seeded
 * again: no profile is written under a revoked id, by any route or script.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { sign } from "../worker/lib/signing";
import { catalogueSnapshotKey } from "../worker/site/catalogue";
import { profileKey } from "../worker/store/profiles";
import { subjectHash } from "../worker/store/subject";
import { DEMO_SITE, DEMO_SLOTS, type DemoVisitor, demoItems, demoVariants, demoVisitors } from "./seed/demo-data";
import { upsertVariantSql } from "./variants/sql";
import { d1Query, d1Run, kvPut, sqlJson, sqlText, type Target } from "./wrangler";

const { values } = parseArgs({
  options: { remote: { type: "boolean", default: false }, env: { type: "string" }, "persist-to": { type: "string" } },
});
const target: Target = { remote: values.remote, env: values.env, persistTo: values["persist-to"] };

function demoSql(): string[] {
  const s = DEMO_SITE;
  return [
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
}

/** The demo visitors whose ids were never revoked (tombstones are kept under the id's hash). */
async function unrevoked(visitors: DemoVisitor[]): Promise<{ kept: DemoVisitor[]; revoked: DemoVisitor[] }> {
  const hashes = await Promise.all(visitors.map((v) => subjectHash(v.id)));
  const [rows = []] = d1Query([`SELECT subject_hash FROM revocations WHERE subject_hash IN (${hashes.map(sqlText).join(", ")})`], target);
  const tombstones = new Set((rows as { subject_hash: string }[]).map((r) => r.subject_hash));
  return {
    kept: visitors.filter((_, i) => !tombstones.has(hashes[i] ?? "")),
    revoked: visitors.filter((_, i) => tombstones.has(hashes[i] ?? "")),
  };
}

/** A value from `.dev.vars`, or null without that file (wrangler dev then has no secrets either). */
function readDevVar(name: string): string | null {
  if (!existsSync(".dev.vars")) return null;
  const match = readFileSync(".dev.vars", "utf8").match(new RegExp(`^${name}="?([^"\\n]*)"?`, "m"));
  return match?.[1] || null;
}

async function main() {
  d1Run(demoSql(), target);
  const modelTarget = [
    ...(target.remote ? [] : ["--local"]),
    ...(target.env ? ["--env", target.env] : []),
    ...(target.persistTo && !target.remote ? ["--persist-to", target.persistTo] : []),
  ];
  execFileSync("npx", ["tsx", "scripts/model.ts", "register-bundled", ...modelTarget], { stdio: ["ignore", "ignore", "inherit"] });

  const { kept, revoked } = await unrevoked(demoVisitors());
  kvPut(
    "PROFILES",
    Object.fromEntries(kept.map((v) => [profileKey(DEMO_SITE.id, v.id), JSON.stringify({ v: 1, ...v.profile, updatedAt: Date.now() })])),
    target,
  );
  // The snapshot that serves when D1 is unreachable (the scheduled handler refreshes it).
  const snapshot = { site: DEMO_SITE, slots: DEMO_SLOTS, items: demoItems() };
  kvPut("CONFIG", { [catalogueSnapshotKey(DEMO_SITE.id)]: JSON.stringify(snapshot) }, target);

  console.log(`seeded site "${DEMO_SITE.id}" (${DEMO_SLOTS.length} slots, ${demoItems().length} items) and ${kept.length} demo visitors`);
  for (const visitor of revoked) console.log(`  not seeded (revoked and erased): ${visitor.description}`);
  const key = target.remote ? null : readDevVar("ID_SIGNING_KEY");
  if (!target.remote && !key) console.log("  (no ID_SIGNING_KEY in .dev.vars: copy .dev.vars.example to print the visitors' cookies)");
  if (key) {
    for (const visitor of kept) {
      console.log(`  ${visitor.description}\n    Cookie: ep_vid=${encodeURIComponent(await sign(visitor.id, key))}`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
