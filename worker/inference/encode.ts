import { type FeatureSpec, featureWidth, type MlpManifest, type SequenceManifest, sequenceBlocks } from "./manifest";

/** One of the visitor's recent items: what they clicked or converted on, and when (epoch ms). */
export type RecentItem = { id: string; ts: number };

/** What the encoder reads. Plain data: the decision path fills it from the visitor's object and the request. */
export type VisitorProfile = {
  attributes: Record<string, string | number>;
  /**
   * The visitor's recent items, most recent first, at most RECENT_ITEMS_MAX (./manifest.ts) of
   * them; absent or empty for a visitor without history. The `sequence` family reads it.
   */
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
  switch (spec.kind) {
    case "item_bag": {
      for (const [contentId, raw] of Object.entries(perItemMap(profile, spec.key))) {
        const index = vocabIndex?.get(contentId);
        const x = toNumber(raw);
        if (index === undefined || x === undefined || x <= 0) continue;
        row[offset + index] = spec.transform === "log1p" ? Math.log1p(x) : x;
      }
      return;
    }
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
    case "sequence":
      return; // not a column: createSequenceEncoder builds its own input
  }
}

/** Item-side specs change from row to row; the others are the same for the whole decision. */
const perItem = (spec: FeatureSpec) => spec.kind === "user_item" || ("source" in spec && spec.source === "item");

/**
 * A block of columns: the specs' offsets and vocabulary lookups, computed once. `shared` fills
 * the visitor and context columns (once per decision), `item` the candidate's own.
 */
function blockLayout(specs: readonly FeatureSpec[]) {
  let offset = 0;
  const layout = specs.map((spec) => {
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
  return {
    width: offset,
    shared(profile: VisitorProfile | null, context: RequestContext, row: Float32Array): void {
      for (const { spec, offset, vocabIndex } of shared) encodeOne(spec, profile, context, NO_ITEM, row, offset, vocabIndex);
    },
    item(profile: VisitorProfile | null, context: RequestContext, item: CandidateFeatures, row: Float32Array): void {
      for (const { spec, offset, vocabIndex } of itemSide) encodeOne(spec, profile, context, item, row, offset, vocabIndex);
    },
  };
}

/**
 * The `mlp` family: builds the encoder per manifest once, then encodes a whole decision's
 * candidates into one [N, dims] batch for a single `session.run`. The visitor and context columns
 * are encoded once per batch and copied into each row.
 */
export function createEncoder(manifest: Pick<MlpManifest, "features">) {
  const block = blockLayout(manifest.features);
  const dims = block.width;
  return function encodeBatch(profile: VisitorProfile | null, context: RequestContext, items: readonly CandidateFeatures[]): Float32Array {
    const batch = new Float32Array(items.length * dims);
    if (items.length === 0) return batch;
    const base = new Float32Array(dims);
    block.shared(profile, context, base);
    items.forEach((item, r) => {
      const row = batch.subarray(r * dims, (r + 1) * dims);
      row.set(base);
      block.item(profile, context, item, row);
    });
    return batch;
  };
}

/**
 * Embedding rows of the `sequence` family before the catalogue's: padding (training only), an
 * unknown item (a content id outside the catalogue: scored from its attributes) and the start
 * of a history (so that a visitor without one still has a sequence to pool).
 */
export const ROWS = { padding: 0, unknown: 1, start: 2, firstItem: 3 } as const;

export type SequenceInputs = {
  /** Catalogue rows of the recent items, oldest first, ending with the most recent: [1, t]. */
  sequence: Int32Array;
  /** Each candidate's catalogue row: [N]. */
  items: Int32Array;
  /** The visitor and context columns: [1, contextDims] (empty when the spec has none). */
  context: Float32Array;
  /** Each candidate's attribute columns: [N, itemDims] (empty when the spec has none). */
  itemFeatures: Float32Array;
};

/**
 * The `sequence` family's inputs for one decision. The sequence is the start row followed by the
 * recent items' rows from oldest to most recent, and only its last `length` entries are kept; so
 * a visitor with `length` or more recent items has no start row, and one without any has the start
 * row alone. Training cuts its windows by the same rule (scripts/train/sequence/train.py).
 */
export function createSequenceEncoder(manifest: Pick<SequenceManifest, "features" | "catalogue">) {
  const blocks = sequenceBlocks(manifest.features);
  const length = blocks.sequence[0]?.length ?? 1;
  const contextBlock = blockLayout(blocks.context);
  const itemBlock = blockLayout(blocks.item);
  const rowOf = new Map(manifest.catalogue.map((id, i) => [id, ROWS.firstItem + i]));
  const row = (id: string) => rowOf.get(id) ?? ROWS.unknown;
  return {
    contextDims: contextBlock.width,
    itemDims: itemBlock.width,
    encode(profile: VisitorProfile | null, context: RequestContext, items: readonly CandidateFeatures[]): SequenceInputs {
      const recent = (profile?.recent ?? []).slice(0, length);
      const withStart = recent.length < length;
      const sequence = new Int32Array(recent.length + (withStart ? 1 : 0));
      if (withStart) sequence[0] = ROWS.start;
      recent.forEach((item, i) => {
        sequence[sequence.length - 1 - i] = row(item.id);
      });
      const shared = new Float32Array(contextBlock.width);
      contextBlock.shared(profile, context, shared);
      const itemFeatures = new Float32Array(items.length * itemBlock.width);
      items.forEach((item, r) => {
        itemBlock.item(profile, context, item, itemFeatures.subarray(r * itemBlock.width, (r + 1) * itemBlock.width));
      });
      return { sequence, items: Int32Array.from(items, (item) => row(item.contentId)), context: shared, itemFeatures };
    },
  };
}

const NO_ITEM: CandidateFeatures = { contentId: "", attributes: {} };
