/**
 * Catalogue imports at scale, locally: `npm run bench:import [-- --items 10000]`.
 *
 * The production bundle on workerd (real local D1), a fresh site with two slots, then feeds of
 * `--items` products through the admin API (the typed client): a preview, the first import, the
 * same feed again, a tenth of the items changed, a full import without a tenth of them (archived),
 * for CSV and for a Google Merchant Center RSS feed; and the first import once more through the
 * CLI (`npm run site -- items SITE import FILE`), as a person onboarding would run it. It prints
 * the wall time of each request (upload, parse, plan, D1 batch, answer) and the D1 statements the
 * import applied, next to a 100-item import in the same run (times vary with the machine's load:
 * the ratio is the figure to compare).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { type ApiTarget, callApi } from "./api-client";
import { startWorkerWithConsumer } from "./bench/stack";
import { stopWorkerd } from "./bench/workerd";

const { values } = parseArgs({ options: { items: { type: "string", default: "10000" } } });
const N = Number(values.items);
const BASELINE = 100;

type Product = { id: string; title: string; price: number; image: string; inStock: boolean };

function products(n: number, version = 0): Product[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `P-${i}`,
    // `version` changes the title of every tenth product: a changed item.
    title: `Product ${i}${version && i % 10 === 0 ? ` (v${version})` : ""} with a description long enough to be realistic`,
    price: 10 + (i % 90),
    image: `https://cdn.example/p${i}.jpg`,
    inStock: i % 17 !== 0,
  }));
}

const csvOf = (items: Product[]) =>
  `id,title,href,imageUrl,availability,categories,attr:price\n${items
    .map((p) => `${p.id},"${p.title}",/p/${p.id},${p.image},${p.inStock ? "in_stock" : "out_of_stock"},Women > Knitwear,${p.price}`)
    .join("\n")}\n`;

const merchantOf = (items: Product[]) =>
  `<?xml version="1.0"?>\n<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>Feed</title>\n${items
    .map(
      (p) =>
        `<item><g:id>${p.id}</g:id><title>${p.title}</title><link>https://shop.example/p/${p.id}</link><g:image_link>${p.image}</g:image_link><g:price>${p.price}.00 EUR</g:price><g:availability>${p.inStock ? "in stock" : "out of stock"}</g:availability><g:product_type>Women &gt; Knitwear</g:product_type></item>`,
    )
    .join("\n")}\n</channel></rss>\n`;

type Row = { run: string; format: string; items: number; ms: number; statements: number | string; diff: string };

async function timedImport(
  target: ApiTarget,
  site: string,
  run: string,
  format: "csv" | "merchant",
  text: string,
  mode: "full" | "partial",
  dryRun = false,
): Promise<Row> {
  const started = performance.now();
  const answer = await callApi(target, "POST /v1/admin/sites/{site}/items/import", {
    params: { site },
    query: { format, mode, dryRun: dryRun ? "true" : "false" },
    body: text,
    type: format === "csv" ? "text/csv" : "application/xml",
  });
  const ms = performance.now() - started;
  const items = answer.added.length + answer.changed.length + answer.unchanged;
  const diff = `+${answer.added.length} ~${answer.changed.length} =${answer.unchanged} -${answer.archived.length} !${answer.refused.length}`;
  return { run, format, items, ms, statements: answer.applied?.statements ?? "none", diff };
}

async function newSite(target: ApiTarget, id: string) {
  await callApi(target, "POST /v1/admin/sites", { body: { id, name: id, allowedOrigins: ["https://shop.example"] } });
  for (const slot of ["hero", "recommendations"])
    await callApi(target, "POST /v1/admin/sites/{site}/slots", { params: { site: id }, body: { id: slot, name: slot } });
}

async function main() {
  const stack = await startWorkerWithConsumer("bench-import");
  const target = { url: stack.url.origin, token: stack.secrets.ADMIN_TOKEN ?? "" };
  const rows: Row[] = [];
  try {
    for (const format of ["csv", "merchant"] as const) {
      const feed = format === "csv" ? csvOf : merchantOf;
      const base = `bench-${format}-base`;
      await newSite(target, base);
      rows.push(await timedImport(target, base, "baseline: first import", format, feed(products(BASELINE)), "partial"));
      const site = `bench-${format}`;
      await newSite(target, site);
      const text = feed(products(N));
      rows.push(await timedImport(target, site, "preview (dry run)", format, text, "partial", true));
      rows.push(await timedImport(target, site, "first import", format, text, "partial"));
      rows.push(await timedImport(target, site, "same feed again", format, text, "partial"));
      rows.push(await timedImport(target, site, "a tenth changed", format, feed(products(N, 1)), "partial"));
      rows.push(await timedImport(target, site, "full, a tenth gone", format, feed(products(N, 1).filter((_, i) => i % 10 !== 5)), "full"));
    }
    // The CLI, as a person would run it: a new site's first import of the Merchant feed.
    const dir = mkdtempSync(join(tmpdir(), "ep-bench-import-"));
    writeFileSync(join(dir, "feed.xml"), merchantOf(products(N)));
    await newSite(target, "bench-cli");
    const started = performance.now();
    const { stdout } = await promisify(execFile)(
      resolve("node_modules/.bin/tsx"),
      [resolve("scripts/site.ts"), "items", "bench-cli", "import", "feed.xml"],
      {
        cwd: dir,
        env: { ...process.env, EP_URL: target.url, EP_ADMIN_TOKEN: target.token },
      },
    );
    const cliMs = performance.now() - started;
    const statements = stdout.match(/applied in (\d+) D1 statements/)?.[1] ?? "?";
    rows.push({
      run: "first import, by the CLI (process included)",
      format: "merchant",
      items: N,
      ms: cliMs,
      statements,
      diff: stdout.match(/\d+ added/)?.[0] ?? "",
    });
  } finally {
    await stopWorkerd(stack.mf);
  }
  const baseline = (format: string) => rows.find((r) => r.format === format && r.run.startsWith("baseline"))?.ms ?? Number.NaN;
  console.log(`catalogue imports of ${N} items on local workerd (D1 in SQLite); times include the HTTP upload and answer`);
  console.table(
    rows.map((r) => ({
      run: r.run,
      format: r.format,
      items: r.items,
      "time (s)": (r.ms / 1000).toFixed(2),
      [`× the ${BASELINE}-item import`]: (r.ms / baseline(r.format)).toFixed(1),
      "D1 statements": r.statements,
      "diff (+added ~changed =unchanged -archived !refused)": r.diff,
    })),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
