import { median } from "./stats";

/** Wall time of one `GET /infer?n=..&batch=..` (ms), checking that it really ran `n` times. */
async function timeRequest(base: URL, runs: number, batch: number): Promise<number> {
  const url = new URL(`/infer?n=${runs}&batch=${batch}`, base);
  const started = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  const elapsed = performance.now() - started;
  if (!res.ok) throw new Error(`${url.pathname}${url.search} answered ${res.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { runs: number; batch: number };
  if (body.runs !== runs || body.batch !== batch) throw new Error(`infer harness ran ${body.runs}×${body.batch}, not ${runs}×${batch}`);
  return elapsed;
}

/**
 * Microseconds per `score()` call with `batch` candidate rows, measured inside workerd from outside:
 * (median time of n=runs) − (median time of n=0), over `runs`. The n=0 requests carry the same
 * HTTP, routing and setup cost, and are interleaved with the loaded ones so that drift cancels.
 */
export async function inferMicrosPerRun(base: URL, batch: number, runs: number, repeats: number): Promise<number> {
  await timeRequest(base, Math.min(runs, 200), batch); // warm-up: JIT and the session's first runs at this shape
  const empty: number[] = [];
  const loaded: number[] = [];
  for (let i = 0; i < repeats; i++) {
    empty.push(await timeRequest(base, 0, batch));
    loaded.push(await timeRequest(base, runs, batch));
  }
  return ((median(loaded) - median(empty)) / runs) * 1000;
}
