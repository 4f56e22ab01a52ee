import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { LOG_ROOT, partitions } from "../../worker/log/files";
import { type LogRow, logRowSchema } from "../../worker/wire/log";
import { pipelineStreamSchema } from "./schema-files";

/**
 * Reading the log offline with DuckDB (`@duckdb/node-api`): the batch files on R2, either copied
 * from local state (what `wrangler dev` or Miniflare keeps) or read from R2 itself over its S3 API
 * (DuckDB's `r2://` URLs; that needs DuckDB's httpfs extension, which DuckDB downloads once).
 * Partitions are pruned by site and day from the Hive-style paths, and every (kind, id) is read
 * once however many files hold it (a batch written twice), as every reader of the log counts it.
 */
export type LogQuery = { site?: string | undefined; from?: string | undefined; to?: string | undefined; visitor?: string | undefined };
export type R2Source = { bucket: string; accountId: string; keyId: string; secret: string };

const DUCK_TYPE: Record<string, string> = { string: "VARCHAR", int64: "BIGINT", float64: "DOUBLE", bool: "BOOLEAN", json: "JSON" };
const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;

/** The log row's columns as DuckDB types, from the stream schema (itself derived from the zod schema). */
function columnsClause(): string {
  const fields = pipelineStreamSchema().fields.map((f) => `${f.name}: ${quote(DUCK_TYPE[f.type ?? ""] ?? "VARCHAR")}`);
  return `{${fields.join(", ")}}`;
}

const inRange = (day: string, q: LogQuery) => (!q.from || day >= q.from) && (!q.to || day <= q.to);

/**
 * Copies the partitions a query needs from an R2 bucket binding (local state through Miniflare)
 * into `dir`, under the same keys; returns how many files. Events about a decision can fall on the
 * day after it, so one more day is copied than asked for.
 */
export async function copyPartitions(bucket: R2Bucket, dir: string, q: LogQuery): Promise<number> {
  const dayAfter = q.to ? new Date(Date.parse(`${q.to}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10) : undefined;
  let files = 0;
  for (const p of await partitions(bucket)) {
    if ((q.site && p.siteId !== q.site) || !inRange(p.day, { from: q.from, to: dayAfter })) continue;
    let cursor: string | undefined;
    do {
      const page = await bucket.list({ prefix: p.prefix, ...(cursor ? { cursor } : {}) });
      for (const object of page.objects) {
        const body = await bucket.get(object.key);
        if (!body) continue;
        const path = join(dir, object.key);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, new Uint8Array(await body.arrayBuffer()));
        files++;
      }
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
  return files;
}

export class LogReader {
  private constructor(
    private readonly connection: DuckDBConnection,
    private readonly glob: string,
  ) {}

  /** Over batch files under `root` (a directory holding `log/`). */
  static async local(root: string): Promise<LogReader> {
    const instance = await DuckDBInstance.create(":memory:");
    return new LogReader(await instance.connect(), join(root, LOG_ROOT, "site=*", "day=*", "*.ndjson.gz"));
  }

  /** Over the bucket on R2 itself, with an R2 API token's S3 credentials. */
  static async r2(source: R2Source): Promise<LogReader> {
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    await connection.run("INSTALL httpfs; LOAD httpfs;");
    await connection.run(
      `CREATE SECRET log_r2 (TYPE r2, KEY_ID ${quote(source.keyId)}, SECRET ${quote(source.secret)}, ACCOUNT_ID ${quote(source.accountId)})`,
    );
    return new LogReader(connection, `r2://${source.bucket}/${LOG_ROOT}site=*/day=*/*.ndjson.gz`);
  }

  /** The rows of the range, pruned by the partitions' site and day; with `distinct`, one per kind and id. */
  private source(q: LogQuery, { extraDays = 0, distinct = true } = {}): string {
    const to = q.to && extraDays ? new Date(Date.parse(`${q.to}T00:00:00Z`) + extraDays * 86_400_000).toISOString().slice(0, 10) : q.to;
    const where = [
      q.site ? `site = ${quote(q.site)} AND site_id = ${quote(q.site)}` : "",
      q.from ? `day >= ${quote(q.from)}` : "",
      to ? `day <= ${quote(to)}` : "",
      q.visitor ? `visitor_id = ${quote(q.visitor)}` : "",
    ].filter(Boolean);
    return `(SELECT * EXCLUDE (filename, site) FROM read_json(${quote(this.glob)}, format = 'newline_delimited', compression = 'gzip',
      hive_partitioning = true, filename = true, columns = ${columnsClause()})
      ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ${distinct ? "QUALIFY row_number() OVER (PARTITION BY kind, id ORDER BY filename) = 1" : ""})`;
  }

  /** The result's rows as JSON values; none when no file matches (an empty log or range). */
  private async read(sql: string): Promise<Record<string, unknown>[]> {
    try {
      return (await this.connection.runAndReadAll(sql)).getRowObjectsJson();
    } catch (err) {
      if (/No files found/i.test(String(err))) return [];
      throw err;
    }
  }

  private async rowsOf(sql: string): Promise<LogRow[]> {
    return (await this.read(sql)).map((raw) => {
      const row = { ...(raw as Record<string, unknown>) };
      for (const name of ["assignments", "segments", "context", "slots", "shadow", "drift"])
        if (typeof row[name] === "string") row[name] = JSON.parse(row[name] as string);
      row.ts = Number(row.ts);
      row.v = Number(row.v);
      return logRowSchema.parse(row);
    });
  }

  /** Every distinct row of the range, by day, time, kind and id. */
  async rows(q: LogQuery): Promise<LogRow[]> {
    return this.rowsOf(`SELECT * FROM ${this.source(q)} ORDER BY day, ts, kind, id`);
  }

  /** The decisions of the range, and the interactions about them (also from the day after the range). */
  async decisionsWithEvents(q: LogQuery): Promise<{ decisions: LogRow[]; interactions: LogRow[] }> {
    const decisions = await this.rowsOf(`SELECT * FROM ${this.source(q)} WHERE kind = 'decision' ORDER BY ts, id`);
    const interactions = await this.rowsOf(
      `SELECT e.* FROM ${this.source(q, { extraDays: 1 })} e SEMI JOIN ${this.source(q)} d ON d.kind = 'decision' AND d.id = e.decision_id
       WHERE e.kind = 'interaction' ORDER BY e.ts, e.id`,
    );
    return { decisions, interactions };
  }

  /** Counts per kind and interaction type: what the benchmark compares the aggregates with. */
  async counts(q: LogQuery): Promise<Record<string, number>> {
    const rows = await this.read(`SELECT coalesce(event, kind) AS what, count(*) AS n FROM ${this.source(q)} GROUP BY ALL ORDER BY what`);
    return Object.fromEntries(rows.map((r) => [String(r.what), Number(r.n)]));
  }

  /** Every row in the files, repeats included. */
  async fileRowCount(q: LogQuery): Promise<number> {
    const [row] = await this.read(`SELECT count(*) AS n FROM ${this.source(q, { distinct: false })}`);
    return Number(row?.n ?? 0);
  }
}
