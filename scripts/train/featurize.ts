/**
 * From examples to the model's inputs, with the worker's own code: the feature spec (fitted on the
 * training split) goes into the manifest, rows are encoded by worker/inference/encode.ts and the
 * drift reference is binned by worker/inference/drift.ts. Rows are written for the Python trainer
 * in CSR form (little-endian int32 row pointers and column indices, float32 values, uint8 labels,
 * int32 group pointers), since dense [N, D] matrices would not fit in memory.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { binOf, binsOf } from "../../worker/inference/drift";
import { type CandidateFeatures, createEncoder, perItemMap, type RequestContext, type VisitorProfile } from "../../worker/inference/encode";
import { type FeatureSpec, featureWidth, type MlpManifest, type ModelManifest } from "../../worker/inference/manifest";
import { exampleCandidate } from "../evaluate/candidates";
import type { Dataset, Example } from "./dataset";
import { createRandom } from "./random";

export type FeatureOptions = {
  /** The most items the model knows by id (the contentId one-hot and the history bag). */
  maxItems: number;
  /** The most values of one categorical attribute. */
  maxCategories: number;
  /** A categorical value needs this many training examples to get its own column. */
  minCount: number;
};
export const DEFAULT_FEATURE_OPTIONS: FeatureOptions = { maxItems: 2000, maxCategories: 100, minCount: 10 };

export const INPUT_NAME = "features";
export const OUTPUT_NAME = "score";
/** The one per-item map the worker keeps in a profile (worker/visitors/features.ts). */
const AFFINITY_KEY = "itemAffinity";

type Attributes = Record<string, string | number>;

const naturalOrder = new Intl.Collator("en", { numeric: true }).compare;

function countBy<T>(values: Iterable<T>): Map<T, number> {
  const counts = new Map<T, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** Values seen at least `minCount` times, the `max` most frequent, in natural order. */
function vocabulary(values: Iterable<string>, options: Pick<FeatureOptions, "minCount">, max: number): string[] {
  return [...countBy(values)]
    .filter(([, n]) => n >= options.minCount)
    .sort((a, b) => b[1] - a[1] || naturalOrder(a[0], b[0]))
    .slice(0, max)
    .map(([v]) => v)
    .sort(naturalOrder);
}

function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length || 1));
  return { mean, std: std > 0 ? std : 1 };
}

/** Specs for each attribute key: numeric when every observed value is a number, else categorical. */
function attributeSpecs(
  source: "user" | "item",
  rows: readonly Attributes[],
  options: FeatureOptions,
  nameOf: (key: string) => string,
): FeatureSpec[] {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].sort(naturalOrder);
  return keys.flatMap((key): FeatureSpec[] => {
    const values = rows.flatMap((r) => (r[key] === undefined ? [] : [r[key]]));
    if (values.every((v) => typeof v === "number")) {
      return [{ name: nameOf(key), kind: "numeric", source, key, ...meanStd(values as number[]) }];
    }
    const vocab = vocabulary(
      values.map((v) => String(v)),
      options,
      options.maxCategories,
    );
    return vocab.length > 0 ? [{ name: nameOf(key), kind: "categorical", source, key, vocabulary: vocab }] : [];
  });
}

/**
 * The manifest's feature spec, fitted on the training split only: visitor attributes, the history
 * as a bag over the known items, the affinity for the candidate itself (where the data has it), the
 * candidate's id and attributes, and the request context (hour and weekday as cycles, position
 * served as "1", other context strings as categoricals).
 */
export function buildFeatureSpecs(train: readonly Example[], dataset: Dataset, options: FeatureOptions): FeatureSpec[] {
  const positives = countBy(train.flatMap((e) => (e.label === 1 ? [e.contentId] : [])));
  const shown = countBy(train.map((e) => e.contentId));
  const items = [...shown.keys()]
    .sort((a, b) => (positives.get(b) ?? 0) - (positives.get(a) ?? 0) || (shown.get(b) ?? 0) - (shown.get(a) ?? 0) || naturalOrder(a, b))
    .slice(0, options.maxItems)
    .sort(naturalOrder);

  const userAttributes = train.flatMap((e) => (e.profile ? [e.profile.attributes] : []));
  const itemAttributes = train.map((e) => exampleCandidate(dataset.items, e).attributes);
  const userKeys = new Set(userAttributes.flatMap((a) => Object.keys(a)));
  const itemKeys = new Set(itemAttributes.flatMap((a) => Object.keys(a)));
  const reserved = new Set(["history", AFFINITY_KEY, "contentId", "hour", "dayOfWeek", "position"]);
  const name = (prefix: string, other: Set<string>) => (key: string) => (other.has(key) || reserved.has(key) ? `${prefix}_${key}` : key);

  const specs: FeatureSpec[] = [...attributeSpecs("user", userAttributes, options, name("user", itemKeys))];
  if (train.some((e) => Object.keys(e.profile?.[AFFINITY_KEY] ?? {}).length > 0)) {
    specs.push({ name: "history", kind: "item_bag", key: AFFINITY_KEY, vocabulary: items, transform: "log1p" });
  }
  // Affinity for the candidate itself: scaled by the RMS of its non-zero training values with mean
  // 0, so that "no affinity" encodes as exactly 0 and a typical value as about 1.
  const own = train.flatMap((e) => {
    const x = Number(perItemMap(e.profile, AFFINITY_KEY)[e.contentId] ?? 0);
    return x > 0 ? [x] : [];
  });
  if (own.length > 0) {
    const rms = Math.sqrt(own.reduce((a, b) => a + b * b, 0) / own.length);
    specs.push({ name: AFFINITY_KEY, kind: "user_item", key: AFFINITY_KEY, mean: 0, std: rms, default: 0 });
  }
  specs.push({ name: "contentId", kind: "categorical", source: "item", key: "contentId", vocabulary: items });
  specs.push(...attributeSpecs("item", itemAttributes, options, name("item", userKeys)));

  const contexts = train.map((e) => e.context as Record<string, string | number | undefined>);
  for (const [key, period] of [
    ["hour", 24],
    ["dayOfWeek", 7],
  ] as const) {
    if (contexts.some((c) => typeof c[key] === "number")) specs.push({ name: key, kind: "cyclic", source: "context", key, period });
  }
  const stringKeys = [...new Set(contexts.flatMap((c) => Object.keys(c).filter((k) => typeof c[k] === "string" && k !== "position")))];
  for (const key of stringKeys.sort(naturalOrder)) {
    const vocab = vocabulary(
      contexts.flatMap((c) => (typeof c[key] === "string" ? [c[key]] : [])),
      options,
      options.maxCategories,
    );
    if (vocab.length > 0) specs.push({ name: key, kind: "categorical", source: "context", key, vocabulary: vocab });
  }
  const positions = vocabulary(
    train.flatMap((e) => (e.context.position === undefined ? [] : [e.context.position])),
    { minCount: 1 },
    options.maxCategories,
  );
  if (positions.length > 0) {
    // Trained with the real position, served as the first one: every candidate is scored as if it
    // were shown on top, which takes the position bias out of the ranking.
    const serving = positions.includes("1") ? "1" : (positions[0] as string);
    specs.push({ name: "position", kind: "categorical", source: "context", key: "position", vocabulary: positions, serving });
  }
  return specs;
}

/** A manifest before training: everything the encoder needs (sha256 and training are filled in later). */
export function draftManifest(version: string, features: FeatureSpec[]): MlpManifest {
  const contentIds = features.find((f) => f.name === "contentId");
  return {
    schemaVersion: 1,
    family: "mlp",
    version,
    createdAt: new Date().toISOString(),
    file: "model.onnx",
    sha256: "",
    quantization: "int8",
    input: { name: INPUT_NAME, dims: features.reduce((sum, f) => sum + featureWidth(f), 0) },
    output: { name: OUTPUT_NAME },
    features,
    catalogue: contentIds?.kind === "categorical" ? contentIds.vocabulary : [],
  };
}

/**
 * The training population's share of each drift bin, per visitor and context feature, counted
 * once per round (the worker counts once per decision), in the order of `binsOf`.
 */
export function driftReference(features: readonly FeatureSpec[], examples: readonly Example[]): NonNullable<ModelManifest["drift"]> {
  const rounds = new Map<string, Example>();
  for (const e of examples) if (!rounds.has(e.round)) rounds.set(e.round, e);
  return features.flatMap((spec) => {
    const bins = binsOf(spec);
    if (!bins) return [];
    const counts = new Map(bins.map((b) => [b, 0]));
    for (const e of rounds.values()) {
      const bin = binOf(spec, e.profile, e.context);
      if (bin !== null) counts.set(bin, (counts.get(bin) ?? 0) + 1);
    }
    const total = rounds.size || 1;
    return [{ feature: spec.name, bins, expected: bins.map((b) => (counts.get(b) ?? 0) / total) }];
  });
}

// ---------------------------------------------------------------------------------------------
// Encoding and the CSR files.

/** One `encodeBatch` call: a visitor and context, and the candidates scored for them. */
export type Group = { profile: VisitorProfile | null; context: RequestContext; items: CandidateFeatures[]; labels?: (0 | 1)[] };

export type CsrSet = { rows: number; nnz: number; groups: number; labels: boolean };

/** Growable typed arrays, so that millions of non-zeros stay compact. */
class Column<T extends Int32Array | Float32Array | Uint8Array> {
  length = 0;
  constructor(private data: T) {}
  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, 0, this.length * this.data.BYTES_PER_ELEMENT);
  }
}

/** The training encoding: the real logged values (the serving overrides, e.g. position "1", are for serving). */
export function trainingEncoder(manifest: MlpManifest) {
  const withoutServing = (spec: FeatureSpec): FeatureSpec => {
    if (spec.kind !== "categorical" && spec.kind !== "numeric") return spec;
    const { serving: _serving, ...rest } = spec;
    return rest;
  };
  return createEncoder({ ...manifest, features: manifest.features.map(withoutServing) });
}

/**
 * Encodes every group with `encode` (the worker's encoder) and writes `<name>.indptr`,
 * `.indices`, `.values`, `.groups` and, when the groups carry labels, `.labels` into `dir`.
 */
export function writeCsr(
  dir: string,
  name: string,
  encode: ReturnType<typeof createEncoder>,
  dims: number,
  groups: Iterable<Group>,
): CsrSet {
  const indptr = new Column(new Int32Array(1024));
  const indices = new Column(new Int32Array(1 << 16));
  const values = new Column(new Float32Array(1 << 16));
  const labels = new Column(new Uint8Array(1024));
  const groupPtr = new Column(new Int32Array(1024));
  indptr.push(0);
  groupPtr.push(0);
  let rows = 0;
  let labelled = true;
  for (const group of groups) {
    const batch = encode(group.profile, group.context, group.items);
    for (let r = 0; r < group.items.length; r++) {
      const offset = r * dims;
      for (let j = 0; j < dims; j++) {
        const v = batch[offset + j] as number;
        if (v !== 0) {
          indices.push(j);
          values.push(v);
        }
      }
      indptr.push(indices.length);
      labels.push(group.labels?.[r] ?? 0);
    }
    labelled &&= group.labels !== undefined;
    rows += group.items.length;
    groupPtr.push(rows);
  }
  writeFileSync(join(dir, `${name}.indptr`), indptr.bytes());
  writeFileSync(join(dir, `${name}.indices`), indices.bytes());
  writeFileSync(join(dir, `${name}.values`), values.bytes());
  writeFileSync(join(dir, `${name}.groups`), groupPtr.bytes());
  if (labelled) writeFileSync(join(dir, `${name}.labels`), labels.bytes());
  return { rows, nnz: indices.length, groups: groupPtr.length - 1, labels: labelled };
}

/** Content id no model knows: rows shown with it teach the contentId OOV column. */
const UNKNOWN_CONTENT = "\u0000unknown";

/**
 * Examples as groups: consecutive examples of one round with the same context share the visitor
 * and the request, and are encoded in one batch as the worker encodes a decision. Rows keep the
 * examples' order. With `dropout`, a seeded share of rounds is shown as an anonymous visitor and of
 * rows as an unknown item, so that the OOV columns learn population averages (anonymous visitors
 * and new items then get sensible scores) instead of staying untrained.
 */
export function* exampleGroups(
  dataset: Dataset,
  examples: readonly Example[],
  dropout?: { anonymous: number; unknownItem: number; seed: number },
): Generator<Group> {
  const random = dropout ? createRandom(dropout.seed) : undefined;
  const chance = (p: number) => random !== undefined && random.next() < p;
  for (let start = 0; start < examples.length; ) {
    const first = examples[start] as Example;
    let end = start + 1;
    while (end < examples.length && examples[end]?.round === first.round && examples[end]?.context.position === first.context.position)
      end++;
    const group = examples.slice(start, end);
    start = end;
    yield {
      profile: chance(dropout?.anonymous ?? 0) ? null : first.profile,
      context: first.context,
      items: group.map((e) => {
        const item = exampleCandidate(dataset.items, e);
        return chance(dropout?.unknownItem ?? 0) ? { ...item, contentId: UNKNOWN_CONTENT } : item;
      }),
      labels: group.map((e) => e.label),
    };
  }
}
