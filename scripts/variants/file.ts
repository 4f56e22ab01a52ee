import { readFileSync } from "node:fs";
import { variantImportRequestSchema } from "../../worker/variants/schema";
import { readCsv } from "../train/csv";

/** The variants in an import file: CSV (`.csv`) or JSON, as plain objects still to be screened. */
export function readVariantsFile(file: string): unknown[] {
  return file.toLowerCase().endsWith(".csv") ? variantsFromCsv(file) : variantsFromJson(file);
}

/** `{ variants, combinations }` (or a bare array of variants), combinations expanded. */
function variantsFromJson(file: string): unknown[] {
  const raw = JSON.parse(readFileSync(file, "utf8")) as unknown;
  const parsed = variantImportRequestSchema.safeParse(Array.isArray(raw) ? { variants: raw } : raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join(".") || "file"}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data.variants;
}

const CSV_COLUMNS = ["contentId", "id", "language", "title", "body", "imageUrl", "cta", "origin", "tool", "license", "source", "synthetic"];

/**
 * One variant per row, with the columns of CSV_COLUMNS (any order; empty cells are absent).
 * `synthetic` is true/false (or 1/0); anything else is passed on and refused by the schema.
 */
function variantsFromCsv(file: string): unknown[] {
  const csv = readCsv(file);
  const unknown = csv.header.filter((h) => !CSV_COLUMNS.includes(h));
  if (unknown.length) throw new Error(`${file}: unknown columns ${unknown.join(", ")}; expected ${CSV_COLUMNS.join(",")}`);
  return csv.records.map(({ fields }) => {
    const cell = (name: string) => {
      const value = fields[csv.header.indexOf(name)]?.trim();
      return value === undefined || value === "" ? undefined : value;
    };
    const defined = (o: Record<string, string | undefined>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
    const synthetic = cell("synthetic");
    return {
      contentId: cell("contentId"),
      id: cell("id"),
      language: cell("language"),
      components: defined({ title: cell("title"), body: cell("body"), imageUrl: cell("imageUrl"), cta: cell("cta") }),
      provenance: defined({ origin: cell("origin"), tool: cell("tool"), license: cell("license"), source: cell("source") }),
      synthetic: /^(true|1)$/i.test(synthetic ?? "") ? true : /^(false|0)$/i.test(synthetic ?? "") ? false : synthetic,
    };
  });
}
