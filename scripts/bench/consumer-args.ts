import { parseFlags, positiveInt } from "./cli";
import type { EventShape } from "./page-views";

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
  /** Queue every event first with the consumer held, then time the consumer alone. */
  held: boolean;
  /** How the events are sent (./page-views.ts): 100 to a request, or as the script tag's beacons. */
  shape: EventShape;
  json: boolean;
};

const USAGE = `usage: npm run bench:consumer -- [--events N] [--visitors V] [--redeliver B] [--timeout S] [--state-dir D] [--held] [--beacons] [--json]
  --events N     interaction events to send, three per page view, 100 per request (default 20000)
  --visitors V   identified visitors sharing the page views (default: one per two page views, at most 5,000:
                 locally each live visitor object holds SQLite files open, bounded by the open-file limit)
  --redeliver B  consumer invocations that fail after writing, so the queue delivers them again (default 5)
  --timeout S    give up when they are not all written this many seconds after the first send (default 300)
  --state-dir D  keep the local stores' files in D (emptied first), e.g. on a tmpfs such as /dev/shm/ep-bench:
                 locally every visitor's object is a SQLite file created and synced on the worker's own
                 thread, which on a slow disk measures the disk more than the consumer
  --held         queue every event first with the consumer held, then time the consumer alone: locally the
                 edge's requests and the consumer share one thread, on Cloudflare they run apart
  --beacons      send each page view's events as the script tag does (impressions, then the click, in two
                 requests with ?delivery=batched, the click applied at the edge) instead of 100 to a request
                 from many visitors (a server relaying them, whose clicks the consumer applies)
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
      held: { type: "boolean" },
      beacons: { type: "boolean" },
    },
    USAGE,
  );
  return {
    events: positiveInt("events", values.events, 20_000, USAGE),
    visitors: values.visitors === undefined ? undefined : positiveInt("visitors", values.visitors, 1, USAGE),
    redeliver: values.redeliver === "0" ? 0 : positiveInt("redeliver", values.redeliver, 5, USAGE),
    timeoutS: positiveInt("timeout", values.timeout, 300, USAGE),
    stateDir: typeof values["state-dir"] === "string" ? values["state-dir"] : undefined,
    held: values.held === true,
    shape: values.beacons === true ? "beacons" : "relay",
    json: values.json === true,
  };
}
