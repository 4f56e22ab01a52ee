/**
 * What a trained model ships besides its weights: the parity fixture (inputs the worker must score
 * exactly as the training pipeline did) and the demo data (a catalogue and real visitors whose
 * rankings differ from the anonymous one), which `npm run seed` and the worker's tests read from
 * models/default.
 */
import type { CandidateFeatures, RequestContext, VisitorProfile } from "../../worker/inference/encode";
import type { ModelManifest } from "../../worker/inference/manifest";
import { candidate } from "../evaluate/candidates";
import type { Dataset, Example } from "./dataset";
import type { Group } from "./featurize";

/** The context the demo rankings are computed in: a weekday evening. */
export const DEMO_CONTEXT: RequestContext = { hour: 20, dayOfWeek: 3 };
const DEMO_ITEMS = 24;
const DEMO_CANDIDATES = 1000;
const DEMO_VISITORS = 3;
/**
 * Demo visitors' top 5 hold at least one item the anonymous top 5 lacks, and differ from each
 * other's by one. One, not more: a model trained on little data (the OBD sample) moves rankings
 * only a little, and the demo should show what it does, not what we would like it to do.
 */
const MIN_NEW = 1;
/** A ranking is eligible only when its top 6 scores are this far apart, so no runtime's rounding can reorder it. */
const MARGIN = 1e-6;

const naturalOrder = new Intl.Collator("en", { numeric: true }).compare;

/** The `n` catalogue items with the most training positives (ties: most shown, then natural order). */
export function mostPositive(train: readonly Example[], catalogue: readonly string[], n: number): string[] {
  const known = new Set(catalogue);
  const counts = new Map<string, { positives: number; shown: number }>();
  for (const e of train) {
    if (!known.has(e.contentId)) continue;
    const c = counts.get(e.contentId) ?? { positives: 0, shown: 0 };
    c.positives += e.label;
    c.shown++;
    counts.set(e.contentId, c);
  }
  return [...counts]
    .sort(([a, x], [b, y]) => y.positives - x.positives || y.shown - x.shown || naturalOrder(a, b))
    .slice(0, n)
    .map(([id]) => id);
}

/** The demo site's catalogue: the model's 24 items with the most training positives. */
export const demoCatalogue = (train: readonly Example[], catalogue: readonly string[]) => mostPositive(train, catalogue, DEMO_ITEMS);

/**
 * Distinct real visitor profiles (each as of one of its examples), those with the longest history
 * first: the history is what moves a ranking most, so these make the clearest demo visitors.
 */
export function demoCandidates(examples: readonly Example[]): VisitorProfile[] {
  const distinct = new Map<string, VisitorProfile>();
  let round: string | undefined;
  for (const e of examples) {
    if (e.round === round || !e.profile) continue; // a round's examples share one profile
    round = e.round;
    distinct.set(JSON.stringify(e.profile), e.profile);
  }
  const historyLength = (p: VisitorProfile) => Object.keys(p.itemAffinity ?? {}).length;
  return [...distinct.values()]
    .map((profile, order) => ({ profile, order, length: historyLength(profile) }))
    .sort((a, b) => b.length - a.length || a.order - b.order)
    .slice(0, DEMO_CANDIDATES)
    .map(({ profile }) => profile);
}

/** The anonymous visitor first, then each candidate, over the demo catalogue in the demo context. */
export function demoGroups(dataset: Dataset, catalogue: readonly string[], candidates: readonly VisitorProfile[]): Group[] {
  const items = catalogue.map((id) => candidate(dataset.items, id));
  return [null, ...candidates].map((profile) => ({ profile, context: DEMO_CONTEXT, items }));
}

export type DemoVisitors = {
  rankingContext: RequestContext;
  catalogue: "demo-catalogue.json";
  anonymousTop5: string[];
  visitors: { id: string; description: string; profile: VisitorProfile; top5: string[]; top5Scores: number[] }[];
};

/**
 * Picks up to three demo visitors from the scored demo groups (anonymous first), whose top 5
 * differ from the anonymous one and from each other (MIN_NEW). Greedy: each pick is the candidate
 * least like the anonymous list and the visitors picked before it.
 */
export function pickDemoVisitors(
  scores: Float32Array,
  catalogue: readonly string[],
  candidates: readonly VisitorProfile[],
  datasetName: string,
): DemoVisitors {
  const n = catalogue.length;
  const ranking = (g: number) => {
    const s = scores.subarray(g * n, (g + 1) * n);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (s[b] as number) - (s[a] as number) || a - b);
    return { top5: order.slice(0, 5).map((i) => catalogue[i] as string), sorted: order.map((i) => s[i] as number) };
  };
  const anonymous = ranking(0);
  const newItems = (a: readonly string[], b: readonly string[]) => a.filter((id) => !b.includes(id)).length;
  const shared = (a: readonly string[], b: readonly string[]) => a.length - newItems(a, b) + 0.1 * a.filter((id, i) => b[i] === id).length;
  const eligible = candidates.flatMap((profile, k) => {
    const { top5, sorted } = ranking(k + 1);
    const separated = sorted.slice(0, 6).every((s, i, all) => i === 0 || (all[i - 1] as number) - s >= MARGIN);
    return separated && newItems(top5, anonymous.top5) >= MIN_NEW ? [{ profile, top5, scores: sorted.slice(0, 5) }] : [];
  });
  const chosen: typeof eligible = [];
  while (chosen.length < DEMO_VISITORS) {
    const others = [anonymous.top5, ...chosen.map((c) => c.top5)];
    const ranked = eligible
      .filter((c) => !chosen.includes(c) && chosen.every((p) => newItems(c.top5, p.top5) >= MIN_NEW))
      .map((c, order) => {
        const overlap = others.map((o) => shared(c.top5, o));
        return { c, worst: Math.max(...overlap), total: overlap.reduce((a, b) => a + b, 0), order };
      })
      .sort((a, b) => a.worst - b.worst || a.total - b.total || a.order - b.order);
    if (!ranked[0]) break;
    chosen.push(ranked[0].c);
  }
  return {
    rankingContext: DEMO_CONTEXT,
    catalogue: "demo-catalogue.json",
    anonymousTop5: anonymous.top5,
    visitors: chosen.map((c, i) => ({
      id: `demo-visitor-${"abcdefgh"[i]}`,
      description: describe(c.profile, c.top5, anonymous.top5, datasetName),
      profile: c.profile,
      top5: c.top5,
      top5Scores: c.scores,
    })),
  };
}

const short = (v: string | number) => (typeof v === "string" && v.length > 12 ? `${v.slice(0, 8)}…` : String(v));

function describe(profile: VisitorProfile, top5: readonly string[], anonymousTop5: readonly string[], datasetName: string): string {
  const attributes = Object.entries(profile.attributes).map(([k, v]) => `${k}=${short(v)}`);
  const history = Object.entries(profile.itemAffinity ?? {}).sort((a, b) => Number(b[1]) - Number(a[1]));
  const parts = [`Real ${datasetName} visitor${attributes.length ? ` (${attributes.join(", ")})` : ""}`];
  if (history.length > 0) {
    const top = history.slice(0, 3).map(([id, a]) => `${id} (${Number(a).toPrecision(2)})`);
    parts.push(`affinity for ${history.length} item${history.length > 1 ? "s" : ""}, highest ${top.join(", ")}`);
  }
  const fresh = top5.filter((id) => !anonymousTop5.includes(id));
  parts.push(`${fresh.length} of the top 5 (${fresh.join(", ")}) ${fresh.length === 1 ? "is" : "are"} not in the anonymous top 5`);
  return `${parts.join("; ")}.`;
}

export type ParityCase = { name: string; profile: VisitorProfile | null; context: RequestContext; items: CandidateFeatures[] };

/**
 * About six fixture cases over anonymous, real, partial and unknown inputs: every encoder branch
 * (OOV values, missing attributes, off-list affinities, a new content id, an empty context).
 */
export function parityCases(
  manifest: ModelManifest,
  dataset: Dataset,
  demo: readonly string[],
  candidates: readonly VisitorProfile[],
): ParityCase[] {
  const items = demo.map((id) => candidate(dataset.items, id));
  const [first, second] = [candidates[0] ?? null, candidates[Math.floor(candidates.length / 2)] ?? null];
  const userSpecs = manifest.features.filter((f) => "source" in f && f.source === "user");
  // Every third attribute known, the next one an unknown value, the next one missing.
  const partialAttributes = Object.fromEntries(
    userSpecs.flatMap((spec, i): [string, string | number][] => {
      if (i % 3 === 2) return [];
      if (i % 3 === 1) return [[spec.key, "not-a-known-value"]];
      return [[spec.key, spec.kind === "categorical" ? (spec.vocabulary[0] ?? "x") : 0.5]];
    }),
  );
  const catalogue = manifest.catalogue;
  const some = items[0] ?? { contentId: catalogue[0] ?? "item", attributes: {} };
  const unseen = Object.fromEntries(
    Object.entries(some.attributes).map(([k, v]) => [k, typeof v === "number" ? v + 0.25 : "unseen-value"]),
  );
  return [
    { name: "anonymous visitor, demo items", profile: null, context: { hour: 9, dayOfWeek: 1 }, items: items.slice(0, 20) },
    {
      name: "a real visitor with a long history, every context key",
      profile: first,
      context: { hour: 21, dayOfWeek: 5, country: "JP", device: "mobile", pageCategory: "women", referrerClass: "search" },
      items: items.slice(4, 24),
    },
    { name: "another real visitor, midnight on Sunday", profile: second, context: { hour: 0, dayOfWeek: 0 }, items: items.slice(0, 20) },
    {
      name: "partial profile: unknown and missing attributes, fractional and off-list affinities",
      profile: {
        attributes: partialAttributes,
        itemAffinity: {
          ...(catalogue[1] ? { [catalogue[1]]: 0.5 } : {}),
          ...(catalogue[14] ? { [catalogue[14]]: 3 } : {}),
          "not-in-the-catalogue": 7,
        },
      },
      context: { hour: 13, dayOfWeek: 6 },
      items: items.slice(0, 12),
    },
    {
      name: "unknown items: a new content id, unseen attribute values, missing attributes",
      profile: first,
      context: { hour: 23, dayOfWeek: 4 },
      items: [
        ...items.slice(0, 2),
        { contentId: "new-item-1", attributes: some.attributes },
        { contentId: "new-item-2", attributes: unseen },
        { contentId: some.contentId, attributes: {} },
        { contentId: "bare-item", attributes: {} },
      ],
    },
    { name: "anonymous visitor, empty context", profile: null, context: {}, items: items.slice(10, 24) },
  ].filter((c) => c.items.length > 0);
}
