import { parseFlags, positiveInt } from "./cli";

export type ConsumerBenchOptions = {
  /** Interaction events sent through POST /v1/events, three per page view. */
  events: number;
  /** Identified visitors the page views are shared among (default: half as many as page views, at most 5,000). */
  visitors: number | undefined;
  /** Consumer invocations made to fail after their writes, so that their messages are delivered again. */
  redeliver: number;
  /** Seconds from the first send until every event must be written. */
  timeoutS: number;
  /** Where the local stores keep their SQLite files (default bench-out/consumer/state). */
  stateDir: string | undefined;
  json: boolean;
};

const USAGE = `usage: npm run bench:consumer -- [--events N] [--visitors V] [--redeliver B] [--timeout S] [--json]
  --events N     interaction events to send, three per page view, 100 per request (default 20000)
  --visitors V   identified visitors sharing the page views (default: one per two page views, at most 5,000:
                 locally each live visitor object holds SQLite files open, bounded by the open-file limit)
  --redeliver B  consumer invocations that fail after writing, so the queue delivers them again (default 5)
  --timeout S    give up when they are not all written this many seconds after the first send (default 300)
  --state-dir D  keep the local stores' files in D (emptied first), e.g. on a tmpfs such as /dev/shm/ep-bench:
                 locally every visitor's object is a SQLite file created and synced on the worker's own
                 thread, which on a slow disk measures the disk more than the consumer
  --json         end stdout with one line of JSON figures`;

export function parseConsumerBenchArgs(argv: readonly string[]): ConsumerBenchOptions {
  const values = parseFlags(
    argv,
    {
      events: { type: "string" },
      visitors: { type: "string" },
      redeliver: { type: "string" },
      timeout: { type: "string" },
      "state-dir": { type: "string" },
    },
    USAGE,
  );
  return {
    events: positiveInt("events", values.events, 20_000, USAGE),
    visitors: values.visitors === undefined ? undefined : positiveInt("visitors", values.visitors, 1, USAGE),
    redeliver: values.redeliver === "0" ? 0 : positiveInt("redeliver", values.redeliver, 5, USAGE),
    timeoutS: positiveInt("timeout", values.timeout, 300, USAGE),
    stateDir: typeof values["state-dir"] === "string" ? values["state-dir"] : undefined,
    json: values.json === true,
  };
}
