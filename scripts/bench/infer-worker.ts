/**
 * A harness worker that runs the serving model's `score()` (encode + one batched `session.run`)
 * N times in a row inside workerd: `GET /infer?n=N&batch=B`.
 *
 * workerd's clocks do not advance during pure computation (a Spectre mitigation), so the worker
 * cannot time itself; the benchmark times requests with n=N against n=0 from outside instead.
 * Built by `wrangler deploy scripts/bench/infer-worker.ts --dry-run` with the main wrangler.toml,
 * so that the same CompiledWasm/Data rules (and the same ORT setup) apply as in production.
 */
import obdItems from "../../models/default/obd-items.json";
import type { CandidateFeatures, RequestContext, VisitorProfile } from "../../worker/inference/encode";
import { scorerFor } from "../../worker/inference/model";
import { bundledSource } from "../../worker/inference/registry";
import { demoVisitors } from "../seed/demo-data";

/** wrangler.toml binds this class; a worker built with it must export it, even one that never uses it. */
export { VisitorState } from "../../worker/visitors/state";

const MAX_RUNS = 100_000;
const MAX_BATCH = 1_000;

/** What buildContext makes of the benchmark's decide request (a desktop visitor from search, evening in Tokyo). */
const CONTEXT: RequestContext = {
  country: "JP",
  hour: 20,
  dayOfWeek: 3,
  device: "desktop",
  pageCategory: "women",
  referrerClass: "search",
};

function demoProfile(): VisitorProfile {
  const visitor = demoVisitors()[0];
  if (!visitor) throw new Error("no demo visitors");
  return { attributes: visitor.profile.attributes, itemAffinity: visitor.profile.itemAffinity };
}

const attributesById = new Map(
  (obdItems as { contentId: string; attributes: Record<string, string | number> }[]).map((item) => [item.contentId, item.attributes]),
);

/** `batch` candidates: the ids the model was trained on, with their real (demo data) features, cycling past the end. */
function candidates(catalogue: readonly string[], batch: number): CandidateFeatures[] {
  if (catalogue.length === 0) throw new Error("the manifest's catalogue is empty");
  return Array.from({ length: batch }, (_, i) => {
    const contentId = catalogue[i % catalogue.length] as string;
    return { contentId, attributes: attributesById.get(contentId) ?? {} };
  });
}

function intParam(url: URL, name: string, min: number, max: number): number {
  const value = Number(url.searchParams.get(name));
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${name} must be an integer in [${min}, ${max}]`);
  return value;
}

async function infer(url: URL): Promise<Response> {
  const runs = intParam(url, "n", 0, MAX_RUNS);
  const batch = intParam(url, "batch", 1, MAX_BATCH);
  const scorer = await scorerFor(bundledSource);
  const profile = demoProfile();
  const items = candidates(scorer.manifest.catalogue, batch);
  let checksum = 0;
  for (let i = 0; i < runs; i++) {
    const scores = await scorer.score(profile, CONTEXT, items);
    checksum += scores[0] ?? 0;
  }
  return Response.json({ runs, batch, version: scorer.version, checksum });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname !== "/infer") return new Response("not found", { status: 404 });
    try {
      return await infer(url);
    } catch (err) {
      const status = err instanceof RangeError ? 400 : 500;
      return Response.json({ error: err instanceof Error ? err.message : String(err) }, { status });
    }
  },
};
