import { parseFlags, positiveInt } from "./cli";

export type BenchOptions = {
  /** Seconds of measured load per route. */
  durationS: number;
  /** Seconds of unmeasured load per route first (JIT, caches, the model session). */
  warmupS: number;
  connections: number;
  /** Sequential `score()` calls per timed infer request, and how often each is repeated. */
  inferRuns: number;
  inferRepeats: number;
  /** Measured Chromium page loads of the tag page and of its baseline, each. */
  pageLoads: number;
  /** Decisions of each kind, and page views, whose operations are counted (bench/operations.ts). */
  countedViews: number;
  json: boolean;
  quick: boolean;
};

const USAGE = `usage: npm run bench -- [--duration S] [--connections N] [--page-loads N] [--quick] [--json]
  --duration S     seconds of load per route (default 10; 2 with --quick)
  --connections N  concurrent connections (default 16)
  --page-loads N   Chromium page loads of /demo/tag and of the page without the tag, each (default 20; 5 with --quick)
  --quick          smoke run: short load, fewer infer iterations
  --json           end stdout with one line of JSON figures`;

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const values = parseFlags(
    argv,
    {
      duration: { type: "string" },
      connections: { type: "string" },
      "page-loads": { type: "string" },
      quick: { type: "boolean", default: false },
    },
    USAGE,
  );
  const quick = values.quick === true;
  return {
    durationS: positiveInt("duration", values.duration, quick ? 2 : 10, USAGE),
    warmupS: quick ? 1 : 2,
    connections: positiveInt("connections", values.connections, 16, USAGE),
    inferRuns: quick ? 500 : 2000,
    inferRepeats: quick ? 3 : 5,
    pageLoads: positiveInt("page-loads", values["page-loads"], quick ? 5 : 20, USAGE),
    countedViews: quick ? 20 : 100,
    json: values.json === true,
    quick,
  };
}
