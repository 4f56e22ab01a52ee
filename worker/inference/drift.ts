import { perItemMap, type RequestContext, type VisitorProfile } from "./encode";
import type { FeatureSpec, ModelManifest } from "./manifest";

/**
 * Feature drift: every visitor and context feature of a manifest is put in coarse bins, once per
 * decision. Training counts the same bins over its examples (manifest `drift.expected`); serving
 * counts them per model version and day (the event consumer); the report compares the two with
 * the population stability index. Bins are coarse on purpose: counts per bin are all that leaves
 * the decision, never a visitor's values.
 */

export const MISSING = "(missing)";
export const OTHER = "(other)";
const Z_EDGES = [-2, -1, -0.5, 0, 0.5, 1, 2] as const;
/** How many items a visitor's history holds: the bins of history-like features. */
const HISTORY_BINS = [
  { below: 1, label: "0" },
  { below: 2, label: "1" },
  { below: 5, label: "2-4" },
  { below: 10, label: "5-9" },
  { below: Number.POSITIVE_INFINITY, label: "10+" },
] as const;

/** The bin labels of one feature, in a fixed order (training writes `expected` in this order). */
export function binsOf(spec: FeatureSpec): string[] | null {
  switch (spec.kind) {
    case "categorical":
      return spec.source === "item" ? null : [...spec.vocabulary, OTHER, MISSING];
    case "numeric":
      return spec.source === "item" ? null : [...Z_EDGES.map((e) => `z<${e}`), `z>=${Z_EDGES.at(-1)}`, MISSING];
    case "cyclic":
      return Array.from({ length: cyclicBins(spec.period) }, (_, i) => `${i}/${cyclicBins(spec.period)}`).concat(MISSING);
    case "user_item":
    case "item_bag":
    case "sequence":
      return HISTORY_BINS.map((b) => b.label);
  }
}

const cyclicBins = (period: number) => Math.min(8, Math.max(1, Math.ceil(period)));

type Value = string | number | undefined;

function raw(spec: { source: "user" | "context" | "item"; key: string }, profile: VisitorProfile | null, context: RequestContext): Value {
  return spec.source === "user" ? profile?.attributes[spec.key] : (context as Record<string, Value>)[spec.key];
}

const finite = (v: Value): number | undefined => {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/** The bin one feature falls in for this visitor and context (null for item-side features). */
export function binOf(spec: FeatureSpec, profile: VisitorProfile | null, context: RequestContext): string | null {
  switch (spec.kind) {
    case "categorical": {
      if (spec.source === "item") return null;
      const v = spec.serving ?? raw(spec, profile, context);
      if (v === undefined || v === "") return MISSING;
      return spec.vocabulary.includes(String(v)) ? String(v) : OTHER;
    }
    case "numeric": {
      if (spec.source === "item") return null;
      const x = spec.serving ?? finite(raw(spec, profile, context));
      if (x === undefined) return MISSING;
      const z = (x - spec.mean) / spec.std;
      const below = Z_EDGES.find((edge) => z < edge);
      return below === undefined ? `z>=${Z_EDGES.at(-1)}` : `z<${below}`;
    }
    case "cyclic": {
      const x = finite(raw(spec, profile, context));
      if (x === undefined) return MISSING;
      const n = cyclicBins(spec.period);
      const phase = (((x % spec.period) + spec.period) % spec.period) / spec.period;
      return `${Math.min(n - 1, Math.floor(phase * n))}/${n}`;
    }
    case "user_item":
    case "item_bag":
      return historyBin(Object.values(perItemMap(profile, spec.key)).filter((v) => (finite(v) ?? 0) > 0).length);
    case "sequence":
      return historyBin(Math.min(spec.length, profile?.recent?.length ?? 0));
  }
}

const historyBin = (entries: number) => HISTORY_BINS.find((b) => entries < b.below)?.label ?? "10+";

/** One decision's bins for every visitor and context feature of the manifest. */
export function driftObservation(manifest: ModelManifest, profile: VisitorProfile | null, context: RequestContext): Record<string, string> {
  const bins: Record<string, string> = {};
  for (const spec of manifest.features) {
    const bin = binOf(spec, profile, context);
    if (bin !== null) bins[spec.name] = bin;
  }
  return bins;
}

/** Population stability index of observed counts against expected shares; empty bins count as ε. */
export function populationStabilityIndex(expected: readonly number[], observedCounts: readonly number[]): number {
  const epsilon = 1e-4;
  const totalExpected = expected.reduce((a, b) => a + b, 0) || 1;
  const totalObserved = observedCounts.reduce((a, b) => a + b, 0) || 1;
  let psi = 0;
  expected.forEach((e, i) => {
    const p = Math.max(e / totalExpected, epsilon);
    const q = Math.max((observedCounts[i] ?? 0) / totalObserved, epsilon);
    psi += (q - p) * Math.log(q / p);
  });
  return psi;
}

/** PSI above this is read as a shift worth a look (the usual rule of thumb). */
export const DRIFT_FLAG_PSI = 0.2;

/**
 * Observations a feature needs before its PSI means anything: ten per bin on average, and at
 * least a hundred. Below it, a handful of decisions from one hour or one page reads as a shift
 * (172 decisions flagged 8 of 9 features, PSI up to 15.8), so no PSI is given or flagged.
 */
export const DRIFT_MIN_PER_BIN = 10;
export const DRIFT_MIN_OBSERVED = 100;
export const driftSampleNeeded = (bins: number) => Math.max(DRIFT_MIN_OBSERVED, DRIFT_MIN_PER_BIN * bins);

export type FeatureDrift = { feature: string; observed: number; needed: number; psi: number | null; flagged: boolean };

/** One feature's drift against its reference: PSI and its flag only once the sample is large enough. */
export function driftOf(reference: { feature: string; expected: readonly number[] }, counts: readonly number[]): FeatureDrift {
  const observed = counts.reduce((a, b) => a + b, 0);
  const needed = driftSampleNeeded(reference.expected.length);
  const psi = observed >= needed ? populationStabilityIndex(reference.expected, counts) : null;
  return { feature: reference.feature, observed, needed, psi, flagged: psi !== null && psi > DRIFT_FLAG_PSI };
}
