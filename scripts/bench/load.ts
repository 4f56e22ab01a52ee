import autocannon, { type Options, type Result } from "autocannon";
import { descendantsCpuMs } from "./machine";
import { percentile } from "./stats";

export type LoadResult = {
  rps: number;
  /** Latency percentiles of 2xx answers in ms, from autocannon's own per-request timings (sub-ms precision). */
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  /** Answers that `verifyBody` rejected. */
  mismatches: number;
  /**
   * CPU time the worker (workerd and its objects) spent per measured request, in ms; undefined off
   * Linux. It includes what the requests leave behind in the run (the queue consumer's batches).
   */
  cpuMsPerRequest: number | undefined;
};

export type LoadSpec = Omit<Options, "connections" | "duration"> & { connections: number };

function run(spec: LoadSpec, durationS: number, onLatency?: (ms: number) => void): Promise<Result> {
  const instance = autocannon({ ...spec, duration: durationS, timeout: 10 });
  if (onLatency) {
    instance.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) onLatency(ms);
    });
  }
  return Promise.resolve(instance);
}

/**
 * A warm-up run (discarded: JIT, isolate caches, the model session) and then the measured one.
 * autocannon's histogram rounds latencies to whole milliseconds, which is too coarse for a route
 * answering in 2–10 ms, so the percentiles come from the raw timings it emits per response.
 */
export async function loadTest(
  spec: LoadSpec,
  timing: { warmupS: number; durationS: number },
  /** Checks every measured answer's body (not the warm-up's); rejected ones count as mismatches. */
  verifyBody?: (body: string) => boolean,
): Promise<LoadResult> {
  await run(spec, timing.warmupS);
  const latencies: number[] = [];
  const cpuBefore = descendantsCpuMs("workerd");
  const result = await run({ ...spec, ...(verifyBody ? { verifyBody } : {}) }, timing.durationS, (ms) => latencies.push(ms));
  const cpuAfter = descendantsCpuMs("workerd");
  return {
    cpuMsPerRequest:
      cpuBefore === undefined || cpuAfter === undefined || result.requests.total === 0
        ? undefined
        : (cpuAfter - cpuBefore) / result.requests.total,
    rps: result.requests.total / result.duration,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    mismatches: result.mismatches,
  };
}

/**
 * Tallies the mode and reason of every decide answer under load (regexes, not JSON.parse, to keep
 * the load generator cheap) and accepts only model-ranked answers of the expected mode.
 */
export function decisionTally(expectedMode: "personalized" | "contextual") {
  const modes: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  const verify = (body: string): boolean => {
    const mode = /"mode":"([a-z]+)"/.exec(body)?.[1] ?? "unparsed";
    const reason = /"modeReason":"([^"]+)"/.exec(body)?.[1] ?? "unparsed";
    modes[mode] = (modes[mode] ?? 0) + 1;
    reasons[reason] = (reasons[reason] ?? 0) + 1;
    return mode === expectedMode && !body.includes('"fallback"');
  };
  return { expectedMode, modes, reasons, verify };
}
export type DecisionTally = ReturnType<typeof decisionTally>;
