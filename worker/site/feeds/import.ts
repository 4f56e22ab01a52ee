import type { z } from "zod";
import type { Database } from "../../store/db";
import type { TokenRole } from "../../store/schema";
import type { importResultSchema } from "../../wire/catalogue";
import { applyImport, currentItems, slotIdsOf } from "../items";
import { rowsFromCsv } from "./csv";
import { rowsFromMerchantFeed } from "./merchant";
import { type ImportMode, planImport } from "./plan";
import { FeedError } from "./rows";

export type FeedFormat = "csv" | "merchant";

/** An import's answer: the diff as ids, every refused row, and what was applied (nothing for a preview). */
export type ImportResult = z.infer<typeof importResultSchema>;

/** CSV, or XML when the text starts like a document; the upload's content type may say otherwise. */
export const formatOf = (text: string, declared?: string | null): FeedFormat =>
  declared?.includes("csv") ? "csv" : declared?.includes("xml") || /^\s*(<\?xml|<rss|<feed)/.test(text) ? "merchant" : "csv";

/**
 * Reads a feed, plans it against the site's items and, unless it is a preview, applies it in one
 * transaction. The feed's rows get `defaultSlots` when they name none (a merchant feed never does).
 */
export async function importFeed(
  db: Database,
  siteId: string,
  text: string,
  options: { format: FeedFormat; mode: ImportMode; dryRun: boolean; defaultSlots?: string[]; source: string; role: TokenRole },
): Promise<ImportResult> {
  const [current, slots] = await Promise.all([currentItems(db, siteId), slotIdsOf(db, siteId)]);
  const defaultSlots = options.defaultSlots?.length ? options.defaultSlots : [...slots];
  if (defaultSlots.length === 0) throw new FeedError(`site "${siteId}" has no slot yet: create its slots before importing items`);
  const rows = options.format === "csv" ? rowsFromCsv(text, defaultSlots) : rowsFromMerchantFeed(text, defaultSlots);
  const plan = planImport(rows, current, { mode: options.mode, slots });
  const applied = options.dryRun
    ? null
    : await applyImport(db, siteId, plan, { source: options.source, mode: options.mode, role: options.role });
  return {
    dryRun: options.dryRun,
    added: plan.added.map((i) => i.id),
    changed: plan.changed.map((i) => i.id),
    unchanged: plan.unchanged,
    archived: plan.archived,
    refused: plan.refused,
    applied: applied ? { importId: applied.id, statements: applied.statements } : null,
  };
}
