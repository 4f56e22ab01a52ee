import { parseFlags, positiveInt } from "./cli";

export type ConsumerBenchOptions = {
  /** Interaction events sent through POST /v1/events. */
  events: number;
  /** Seconds from the first send until every event must be in D1. */
  timeoutS: number;
  json: boolean;
};

const USAGE = `usage: npm run bench:consumer -- [--events N] [--timeout S] [--json]
  --events N    interaction events to send, 100 per request (default 20000)
  --timeout S   give up when they are not all in D1 this many seconds after the first send (default 300)
  --json        end stdout with one line of JSON figures`;

export function parseConsumerBenchArgs(argv: readonly string[]): ConsumerBenchOptions {
  const values = parseFlags(argv, { events: { type: "string" }, timeout: { type: "string" } }, USAGE);
  return {
    events: positiveInt("events", values.events, 20_000, USAGE),
    timeoutS: positiveInt("timeout", values.timeout, 300, USAGE),
    json: values.json === true,
  };
}
