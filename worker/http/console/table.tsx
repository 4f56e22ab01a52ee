import type { Child } from "hono/jsx";
import { Empty } from "./layout";

/** One column of a {@link DataTable}: its header, and what a row shows in it (text: JSX escapes it). */
export type Column<T> = {
  header: string;
  cell: (row: T) => Child;
  /** The row's header cell (`<th scope="row">`) rather than a data cell. */
  rowHeader?: boolean;
  /** A class on the cell, e.g. `status` (which the Chromium tests read) or `flagged`. */
  class?: (row: T) => string;
};

/**
 * Every table in the console: column headers with `scope="col"`, one row per item, inside a
 * `.scroll` wrapper. On a phone each row becomes a block of "header: value" lines (the stylesheet
 * shows every cell's `data-label`), so that no table is wider than the screen.
 * Cells are JSX children, so content is always rendered as text, never as HTML.
 */
export function DataTable<T>(props: {
  columns: Column<T>[];
  rows: T[];
  /** A caption for screen readers' table lists (visually hidden: the section's heading shows). */
  caption?: string;
  /** An `id` on the table, for the tests' selectors. */
  id?: string;
  /** Attributes of a row's `<tr>`, e.g. `data-version` or a `flagged` class. */
  rowAttrs?: (row: T) => Record<string, string>;
  /** What to say instead of an empty table; without it an empty table keeps its header. */
  empty?: Child;
}) {
  const { columns, rows } = props;
  if (rows.length === 0 && props.empty !== undefined) return <Empty>{props.empty}</Empty>;
  return (
    <div class="scroll">
      <table id={props.id}>
        {props.caption ? <caption class="visually-hidden">{props.caption}</caption> : null}
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col">{c.header}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr {...(props.rowAttrs?.(row) ?? {})}>
              {columns.map((c) =>
                c.rowHeader ? (
                  <th scope="row" class={c.class?.(row)} data-label={c.header}>
                    {c.cell(row)}
                  </th>
                ) : (
                  <td class={c.class?.(row)} data-label={c.header}>
                    {c.cell(row)}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
