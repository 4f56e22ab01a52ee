import type { z } from "zod";
import { type ItemInput, itemInputSchema } from "../../wire/catalogue";

/**
 * What every feed format turns into: one row per item with the line it starts on, either an
 * item checked by the same schema as the admin API, or the reason it was refused.
 */
export type FeedRow = { line: number; item: ItemInput } | { line: number; id?: string; reason: string };

/** The most rows one import takes; a larger catalogue is split into several feeds. */
export const MAX_FEED_ROWS = 50_000;

/** Checks one raw row; a refusal names the first bad field. */
export function checkedRow(line: number, raw: Record<string, unknown>): FeedRow {
  const parsed = itemInputSchema.safeParse(raw);
  if (parsed.success) return { line, item: parsed.data };
  return { line, ...(typeof raw.id === "string" && raw.id ? { id: raw.id } : {}), reason: reasonOf(parsed.error) };
}

function reasonOf(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = (issue?.path ?? []).map(String).join(".");
  return issue ? `${field || "row"}: ${issue.message}` : "invalid row";
}

/** A refusal that applies to the whole file (not parseable, too large...). */
export class FeedError extends Error {}
