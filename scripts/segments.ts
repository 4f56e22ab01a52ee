/**
 * `npm run segments -- --model DIR (--interactions CSV | --events NDJSON) [--items CSV] [--users CSV]
 * [--k 12] [--seed 0] [--top 10] [--out FILE]`: scripts/segments/run.ts clusters the visitors of a
 * `sequence` model into micro-segments and writes them as worker/inference/segments.ts's
 * `segmentsFileSchema` (default DIR/segments.json); a one-line summary per segment goes to stderr.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { segmentsArgsSchema, segmentVisitors } from "./segments/run";
import { parseStringFlags } from "./string-flags";

const USAGE = `usage: npm run segments -- --model DIR (--interactions CSV | --events NDJSON) [--items CSV] [--users CSV]
  [--k N (default 12)] [--seed N (default 0)] [--top N (default 10)] [--out FILE (default DIR/segments.json)] [--timezone TZ]`;

async function main() {
  const args = parseStringFlags(
    ["model", "interactions", "events", "items", "users", "k", "seed", "top", "out", "timezone"],
    segmentsArgsSchema,
    USAGE,
  );
  const file = await segmentVisitors(args);
  const out = args.out ?? join(args.model, "segments.json");
  await writeFile(out, `${JSON.stringify(file, null, 1)}\n`);
  for (const s of file.segments) {
    const items = s.topItems.slice(0, 3).map((i) => `${i.contentId} ×${i.lift.toFixed(1)}`);
    const values = s.topAttributes.slice(0, 2).map((v) => `${v.attribute}=${v.value} ×${v.lift.toFixed(1)}`);
    console.error(`${s.id}: ${s.visitors} visitors (${(100 * s.share).toFixed(1)}%) ${[...items, ...values].join(", ")}`);
  }
  console.error(`wrote ${out}: ${file.segments.length} segments of ${file.data.visitors} visitors`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
