/**
 * Bulk import of content variants from a JSON or CSV file, built on wrangler's D1 commands:
 *
 *   npm run variants -- import FILE --site SITE [--local [--persist-to DIR]] [--env NAME]
 *
 * FILE is JSON (`{ "variants": [...], "combinations": [...] }` or a bare array of variants, as
 * `worker/variants/schema.ts` describes) or CSV (`.csv`: one variant per row, see scripts/variants/file.ts).
 * The rules are the admin endpoint's: invalid, orphan and blocklisted variants are refused with
 * the reason, the others land as drafts that a reviewer must approve. Without `--local` it acts on
 * the real account.
 */
import { parseArgs } from "node:util";
import { readPolicy } from "../worker/site/policy";
import { MAX_VARIANTS_PER_IMPORT, screenVariants } from "../worker/variants/schema";
import { readVariantsFile } from "./variants/file";
import { upsertVariantSql } from "./variants/sql";
import { d1Query, d1Run, sqlText, type Target } from "./wrangler";

const USAGE = "usage: npm run variants -- import FILE --site SITE [--local [--persist-to DIR]] [--env staging|production]";

function main(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      site: { type: "string" },
      local: { type: "boolean", default: false },
      env: { type: "string" },
      "persist-to": { type: "string" },
    },
  });
  const [command, file] = positionals;
  if (command !== "import" || !file || !values.site) throw new Error(USAGE);
  const site = values.site;
  const target: Target = { remote: !values.local, env: values.env, persistTo: values["persist-to"] };

  const list = readVariantsFile(file);
  if (list.length > MAX_VARIANTS_PER_IMPORT * 20) throw new Error(`at most ${MAX_VARIANTS_PER_IMPORT * 20} variants per file`);

  const [siteRows = [], itemRows = []] = d1Query(
    [`SELECT policy FROM sites WHERE id = ${sqlText(site)}`, `SELECT id FROM content_items WHERE site_id = ${sqlText(site)}`],
    target,
  );
  const siteRow = siteRows[0] as { policy: string } | undefined;
  if (!siteRow) throw new Error(`no site "${site}"`);
  const blocklist = readPolicy(JSON.parse(siteRow.policy)).blocklist;
  const known = new Set((itemRows as { id: string }[]).map((r) => r.id));

  const { accepted, rejected } = screenVariants(list, known, blocklist);
  for (const r of rejected) console.error(`#${r.index}${r.id ? ` ${r.id}` : ""}: refused: ${r.reason}`);
  const statements = accepted.map((v) => upsertVariantSql(site, v));
  d1Run(statements, target);
  console.log(`imported ${statements.length} of ${list.length} variants as drafts on "${site}"; approve them with the admin endpoint`);
}

try {
  main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
