import type { VariantImport } from "../../worker/variants/schema";
import { sqlJson, sqlText } from "../wrangler";

/**
 * One variant's upsert for `wrangler d1 execute`: an import lands as a draft (a re-import must be
 * reviewed again); the demo seed writes its variants as approved by "seed".
 */
export function upsertVariantSql(
  site: string,
  v: VariantImport,
  review: { status: "draft" } | { status: "approved"; by: string } = { status: "draft" },
): string {
  const values = [site, v.contentId, v.id, v.language].map(sqlText).join(", ");
  const reviewed = review.status === "approved" ? `${sqlText(review.by)}, unixepoch('now') * 1000` : "NULL, NULL";
  return (
    "INSERT INTO content_variants (site_id, content_id, id, language, components, provenance, synthetic, status, reviewed_by, reviewed_at) " +
    `VALUES (${values}, ${sqlJson(v.components)}, ${sqlJson(v.provenance)}, ${v.synthetic ? 1 : 0}, ${sqlText(review.status)}, ${reviewed}) ` +
    "ON CONFLICT (site_id, content_id, id) DO UPDATE SET language = excluded.language, components = excluded.components, " +
    "provenance = excluded.provenance, synthetic = excluded.synthetic, status = excluded.status, " +
    "reviewed_by = excluded.reviewed_by, reviewed_at = excluded.reviewed_at;"
  );
}
