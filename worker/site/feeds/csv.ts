import { parse } from "csv-parse/sync";
import { checkedRow, FeedError, type FeedRow, MAX_FEED_ROWS } from "./rows";

/**
 * A catalogue as CSV (RFC 4180, with a header row): `id,title,body,imageUrl,href,cta,slots,
 * categories,availability,startsAt,endsAt,defaultRank` in any order, plus `attr:<name>` columns
 * for item attributes (a numeric cell becomes a number). `slots` and `categories` hold several
 * values separated by `;`. Empty cells are absent. Parsed by csv-parse, which handles quoting and
 * tells the line each record starts on.
 */
const COLUMNS = [
  "id",
  "title",
  "body",
  "imageUrl",
  "href",
  "cta",
  "slots",
  "categories",
  "availability",
  "startsAt",
  "endsAt",
  "defaultRank",
];
const LIST_COLUMNS = new Set(["slots", "categories"]);
const ATTRIBUTE = /^attr:([A-Za-z0-9_]{1,64})$/;

const numeric = (value: string) => (/^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value);

export function rowsFromCsv(text: string, defaultSlots: readonly string[]): FeedRow[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      info: true,
      skip_empty_lines: true,
      relax_column_count: true,
      bom: true,
      max_record_size: 64 * 1024,
    }) as unknown as typeof records;
  } catch (err) {
    throw new FeedError(`the CSV could not be read: ${err instanceof Error ? err.message : "unknown error"}`);
  }
  const [header, ...body] = records;
  if (!header) throw new FeedError("the CSV is empty: it needs a header row and one row per item");
  const names = header.record.map((h) => h.trim());
  const unknown = names.filter((n) => !COLUMNS.includes(n) && !ATTRIBUTE.test(n));
  if (unknown.length) throw new FeedError(`unknown columns ${unknown.join(", ")}; expected ${COLUMNS.join(",")} and attr:<name>`);
  if (!names.includes("id") || !names.includes("title")) throw new FeedError("the CSV needs at least the columns id and title");
  if (body.length > MAX_FEED_ROWS) throw new FeedError(`${body.length} rows: at most ${MAX_FEED_ROWS} per import`);

  return body.map(({ record, info }) => {
    const raw: Record<string, unknown> = {};
    const attributes: Record<string, string | number> = {};
    names.forEach((name, i) => {
      const cell = record[i]?.trim();
      if (cell === undefined || cell === "") return;
      const attribute = ATTRIBUTE.exec(name)?.[1];
      if (attribute) attributes[attribute] = numeric(cell);
      else if (LIST_COLUMNS.has(name))
        raw[name] = cell
          .split(";")
          .map((v) => v.trim())
          .filter(Boolean);
      else if (name === "defaultRank") raw[name] = numeric(cell);
      else raw[name] = cell;
    });
    if (Object.keys(attributes).length) raw.attributes = attributes;
    raw.slots ??= [...defaultSlots];
    // csv-parse counts the lines read once the record is complete: the record started `lines` back.
    return checkedRow(info.lines - (record.join(",").split("\n").length - 1), raw);
  });
}
