/**
 * The part of autocannon 8's API that the benchmark uses (the package ships no types and
 * @types/autocannon is not a dependency).
 */
declare module "autocannon" {
  import type { EventEmitter } from "node:events";

  export type Stats = { average: number; mean: number; stddev: number; min: number; max: number; p50: number; p99: number };

  export type Result = {
    duration: number;
    requests: Stats & { total: number; sent: number };
    latency: Stats & { totalCount: number };
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    "2xx": number;
  };

  export type Options = {
    url: string;
    connections?: number;
    /** Seconds. */
    duration?: number;
    /** Seconds before a request counts as timed out. */
    timeout?: number;
    method?: "GET" | "POST";
    headers?: Record<string, string>;
    body?: string;
    /** Called with every response body; `false` counts the response as a mismatch. */
    verifyBody?: (body: string) => boolean;
    /** Each connection loops over these; `setupRequest` may change a request before it is sent. */
    requests?: { setupRequest?: (request: { headers?: Record<string, string> }) => { headers?: Record<string, string> } }[];
  };

  /** A running load test: resolves with the result; emits `response` (client, status, bytes, ms). */
  export type Instance = EventEmitter & PromiseLike<Result> & { stop(): void };

  export default function autocannon(options: Options): Instance;
}
