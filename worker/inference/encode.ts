import { type FeatureSpec, featureWidth, type ModelManifest } from "./manifest";

/** One of the visitor's recent items: what they clicked or converted on, and when (epoch ms). */
export type RecentItem = { id: string; ts: number };

/** What the encoder reads. Plain data: the decision path fills it from the visitor's object and the request. */
export type VisitorProfile = {
  attributes: Record<string, string | number>;
  /** The visitor's recent items, most recent first (worker/visitors/features.ts keeps them). */
  recent?: readonly RecentItem[];
  /** Affinity per content id (worker/visitors/features.ts keeps it): the per-item map the worker fills. */
  itemAffinity?: Record<string, string | number>;
  /** Per-content maps a manifest may name (`user_item`, `item_bag` specs), keyed by content id. */
  [perItem: string]: Record<string, string | number> | readonly RecentItem[] | undefined;
};

export type RequestContext = {
  country?: string;
  hour?: number;
  dayOfWeek?: number;
  device?: string;
  pageCategory?: string;
  referrerClass?: string;
  /** The visitor's first language (worker/variants/language.ts), primary subtag: `fr`, `pt`. */
  language?: string;
};

export type CandidateFeatures = {
  contentId: string;
  attributes: Record<string, string | number>;
};

type Value = string | number | undefined;

function lookup(
  spec: { source: "user" | "context" | "item"; key: string },
  profile: VisitorProfile | null,
  context: RequestContext,
  item: CandidateFeatures,
): Value {
  switch (spec.source) {
    case "user":
      return profile?.attributes[spec.key];
    case "context":
      return (context as Record<string, Value>)[spec.key];
    case "item":
      return spec.key === "contentId" ? item.contentId : item.attributes[spec.key];
  }
}

function toNumber(v: Value): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = typeof v === "number" ? v : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** A per-content map of the profile (`itemAffinity`); the ordered `recent` list is not one. */
export function perItemMap(profile: VisitorProfile | null, key: string): Record<string, string | number> {
  const value = profile?.[key];
  return value === undefined || Array.isArray(value) ? {} : (value as Record<string, string | number>);
}

/** Writes one spec's block into `row` at `offset`. */
function encodeOne(
  spec: FeatureSpec,
  profile: VisitorProfile | null,
  context: RequestContext,
  item: CandidateFeatures,
  row: Float32Array,
  offset: number,
  vocabIndex: Map<string, number> | undefined,
): void {
  if (spec.kind === "item_bag") {
    for (const [contentId, raw] of Object.entries(perItemMap(profile, spec.key))) {
      const index = vocabIndex?.get(contentId);
      const x = toNumber(raw);
      if (index === undefined || x === undefined || x <= 0) continue;
      row[offset + index] = spec.transform === "log1p" ? Math.log1p(x) : x;
    }
    return;
  }
  switch (spec.kind) {
    case "categorical": {
      const raw = spec.serving ?? lookup(spec, profile, context, item);
      const index = raw === undefined ? undefined : vocabIndex?.get(String(raw));
      row[offset + (index ?? spec.vocabulary.length)] = 1;
      return;
    }
    case "numeric": {
      const x = spec.serving ?? toNumber(lookup(spec, profile, context, item)) ?? spec.default;
      row[offset] = x === undefined ? 0 : (x - spec.mean) / spec.std;
      return;
    }
    case "cyclic": {
      const x = toNumber(lookup(spec, profile, context, item));
      if (x !== undefined) {
        const angle = (2 * Math.PI * x) / spec.period;
        row[offset] = Math.sin(angle);
        row[offset + 1] = Math.cos(angle);
      }
      return;
    }
    case "user_item": {
      const x = toNumber(perItemMap(profile, spec.key)[item.contentId]) ?? spec.default;
      row[offset] = (x - spec.mean) / spec.std;
      return;
    }
  }
}

/** Item-side specs change from row to row; the others are the same for the whole decision. */
const perItem = (spec: FeatureSpec) => spec.kind === "user_item" || ("source" in spec && spec.source === "item");

/**
 * Builds encoders per manifest once (vocabulary lookups as maps, column offsets), then encodes a
 * whole decision's candidates into one [N, dims] batch for a single `session.run`. The visitor and
 * context columns are encoded once per batch and copied into each row.
 */
export function createEncoder(manifest: ModelManifest) {
  const dims = manifest.input.dims;
  let offset = 0;
  const layout = manifest.features.map((spec) => {
    const entry = {
      spec,
      offset,
      vocabIndex: spec.kind === "categorical" || spec.kind === "item_bag" ? new Map(spec.vocabulary.map((v, i) => [v, i])) : undefined,
    };
    offset += featureWidth(spec);
    return entry;
  });
  const shared = layout.filter(({ spec }) => !perItem(spec));
  const itemSide = layout.filter(({ spec }) => perItem(spec));

  return function encodeBatch(profile: VisitorProfile | null, context: RequestContext, items: readonly CandidateFeatures[]): Float32Array {
    const batch = new Float32Array(items.length * dims);
    if (items.length === 0) return batch;
    const base = new Float32Array(dims);
    for (const { spec, offset, vocabIndex } of shared) encodeOne(spec, profile, context, NO_ITEM, base, offset, vocabIndex);
    items.forEach((item, r) => {
      const row = batch.subarray(r * dims, (r + 1) * dims);
      row.set(base);
      for (const { spec, offset, vocabIndex } of itemSide) encodeOne(spec, profile, context, item, row, offset, vocabIndex);
    });
    return batch;
  };
}

const NO_ITEM: CandidateFeatures = { contentId: "", attributes: {} };
