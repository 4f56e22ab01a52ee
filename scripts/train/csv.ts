import { readFileSync } from "node:fs";

/** A parsed CSV file: the header and each record with its 1-based line number (for error messages). */
export type Csv = { path: string; header: string[]; records: { line: number; fields: string[] }[] };

/**
 * Reads a CSV file (RFC 4180: comma-separated, fields optionally in double quotes with "" for a
 * quote, LF or CRLF line ends). Blank lines are skipped; a record whose field count differs from
 * the header's is an error naming the line.
 */
export function readCsv(path: string): Csv {
  const text = readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  const endRecord = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0] !== "") rows.push({ line: recordLine, fields });
    fields = [];
    field = "";
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === "\n") line++;
        field += c;
      }
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += c;
  }
  if (quoted) throw new Error(`${path}:${recordLine}: unterminated quoted field`);
  if (field !== "" || fields.length > 0) endRecord();
  const [head, ...records] = rows;
  if (!head) throw new Error(`${path}: empty file`);
  for (const r of records) {
    if (r.fields.length !== head.fields.length) {
      throw new Error(`${path}:${r.line}: ${r.fields.length} fields, the header has ${head.fields.length}`);
    }
  }
  return { path, header: head.fields.map((h) => h.trim()), records };
}

function requiredColumn(csv: Csv, name: string): number {
  const i = csv.header.indexOf(name);
  if (i < 0) throw new Error(`${csv.path}: missing column "${name}" (header: ${csv.header.join(",")})`);
  return i;
}

/** The index of each named column; a missing required column is an error naming the file. */
export function columns<const R extends string, const O extends string>(
  csv: Csv,
  required: readonly R[],
  optional: readonly O[] = [],
): Record<R, number> & Partial<Record<O, number>> {
  const out: Record<string, number> = {};
  for (const name of required) out[name] = requiredColumn(csv, name);
  for (const name of optional) if (csv.header.includes(name)) out[name] = csv.header.indexOf(name);
  return out as Record<R, number> & Partial<Record<O, number>>;
}

/**
 * An attributes file (`--items`, `--users`): the key column, then one attribute per column. A
 * column is numeric when every non-empty value parses as a finite number, otherwise categorical
 * (kept as strings); empty cells are left out.
 */
export function readAttributes(path: string, key: string): Map<string, Record<string, string | number>> {
  const csv = readCsv(path);
  const keyIndex = requiredColumn(csv, key);
  const attributeColumns = csv.header
    .map((name, i) => ({ name, i }))
    .filter(({ i }) => i !== keyIndex)
    .map(({ name, i }) => ({
      name,
      i,
      numeric: csv.records.every((r) => {
        const v = r.fields[i]?.trim() ?? "";
        return v === "" || Number.isFinite(Number(v));
      }),
    }));
  const out = new Map<string, Record<string, string | number>>();
  for (const r of csv.records) {
    const id = r.fields[keyIndex]?.trim() ?? "";
    if (id === "") throw new Error(`${path}:${r.line}: empty ${key}`);
    if (out.has(id)) throw new Error(`${path}:${r.line}: ${key} "${id}" appears twice`);
    const attributes: Record<string, string | number> = {};
    for (const { name, i, numeric } of attributeColumns) {
      const v = r.fields[i]?.trim() ?? "";
      if (v !== "") attributes[name] = numeric ? Number(v) : v;
    }
    out.set(id, attributes);
  }
  return out;
}
