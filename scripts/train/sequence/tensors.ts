/**
 * The sequence trainer's inputs, written with the worker's own encoder (createSequenceEncoder): the
 * visitor/context row and the item attribute row of every positive, and every visitor's positives
 * as catalogue rows. Binary little-endian files; scripts/train/sequence/data.py reads them and
 * documents the layout.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  type CandidateFeatures,
  createSequenceEncoder,
  type RequestContext,
  ROWS,
  type VisitorProfile,
} from "../../../worker/inference/encode";
import type { SequenceManifest } from "../../../worker/inference/manifest";
import { exampleCandidate } from "../../evaluate/candidates";
import type { Dataset } from "../dataset";
import { createRandom } from "../random";
import { SPLIT, type VisitorSequence } from "./split";

/** A group to score in Python and in the worker alike: one visitor and context, several candidates. */
export type ScoredGroup = { profile: VisitorProfile | null; context: RequestContext; items: CandidateFeatures[] };
export type ScoredSetMeta = { groups: number; candidates: number };

/** Growable typed arrays, so that large data sets stay compact. */
class Column<T extends Int32Array | Float32Array | Uint8Array> {
  length = 0;
  constructor(private data: T) {}
  push(values: ArrayLike<number>): void {
    while (this.length + values.length > this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(Math.max(16, this.data.length * 2));
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data.set(values, this.length);
    this.length += values.length;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.data.buffer, 0, this.length * this.data.BYTES_PER_ELEMENT);
  }
}

const write = (dir: string, name: string, column: Column<Int32Array | Float32Array | Uint8Array>) =>
  writeFileSync(join(dir, name), column.bytes());

/** Context columns only: the visitor's attributes, without the history (the sequence is its own input). */
const attributesOnly = (profile: VisitorProfile | null): VisitorProfile | null => (profile ? { attributes: profile.attributes } : null);

/**
 * sequences.{rows,users,split,context,itemFeatures} and items.features. A seeded `anonymous` share
 * of training positives is encoded without the visitor's attributes, so that the attributes'
 * unknown columns learn what an anonymous visitor gets.
 */
export function writeSequences(
  dir: string,
  manifest: SequenceManifest,
  dataset: Dataset,
  sequences: readonly VisitorSequence[],
  dropout: { anonymous: number; seed: number },
): { positives: number; visitors: number; itemsWithoutRow: number } {
  const encoder = createSequenceEncoder(manifest);
  const random = createRandom(dropout.seed);
  const rows = new Column(new Int32Array(1 << 16));
  const users = new Column(new Int32Array(1024));
  const split = new Column(new Uint8Array(1 << 16));
  const context = new Column(new Float32Array(1 << 16));
  const itemFeatures = new Column(new Float32Array(1 << 16));
  users.push([0]);
  for (const s of sequences) {
    s.positives.forEach((e, i) => {
      const anonymous = s.split[i] === SPLIT.train && random.next() < dropout.anonymous;
      const x = encoder.encode(anonymous ? null : attributesOnly(e.profile), e.context, [exampleCandidate(dataset.items, e)]);
      rows.push(x.items);
      context.push(x.context);
      itemFeatures.push(x.itemFeatures);
    });
    split.push(s.split);
    users.push([rows.length]);
  }
  write(dir, "sequences.rows", rows);
  write(dir, "sequences.users", users);
  write(dir, "sequences.split", split);
  write(dir, "sequences.context", context);
  write(dir, "sequences.itemFeatures", itemFeatures);
  // Catalogue rows' attributes, then those of the data's items without a row (validation samples them, as the evaluation does).
  const known = new Set(manifest.catalogue);
  const others = [...dataset.items.keys()].filter((id) => !known.has(id));
  const catalogue = new Column(new Float32Array(1024));
  catalogue.push(new Float32Array(ROWS.firstItem * encoder.itemDims));
  for (const id of [...manifest.catalogue, ...others]) {
    catalogue.push(encoder.encode(null, {}, [{ contentId: id, attributes: dataset.items.get(id) ?? {} }]).itemFeatures);
  }
  write(dir, "items.features", catalogue);
  return { positives: rows.length, visitors: sequences.length, itemsWithoutRow: others.length };
}

/**
 * NAME.{history,historyOffsets,context,items,groups,itemFeatures}: the groups as the worker's
 * encoder sees them, with the history as catalogue rows oldest first (train.py cuts the window).
 */
export function writeScoredSet(dir: string, name: string, manifest: SequenceManifest, groups: readonly ScoredGroup[]): ScoredSetMeta {
  const encoder = createSequenceEncoder(manifest);
  const rowOf = new Map(manifest.catalogue.map((id, i) => [id, ROWS.firstItem + i]));
  const history = new Column(new Int32Array(1024));
  const historyOffsets = new Column(new Int32Array(64));
  const context = new Column(new Float32Array(1024));
  const items = new Column(new Int32Array(1024));
  const offsets = new Column(new Int32Array(64));
  const itemFeatures = new Column(new Float32Array(1024));
  historyOffsets.push([0]);
  offsets.push([0]);
  for (const g of groups) {
    const recent = g.profile?.recent ?? [];
    history.push(recent.map((r) => rowOf.get(r.id) ?? ROWS.unknown).reverse());
    historyOffsets.push([history.length]);
    const x = encoder.encode(attributesOnly(g.profile), g.context, g.items);
    context.push(x.context);
    items.push(x.items);
    offsets.push([items.length]);
    itemFeatures.push(x.itemFeatures);
  }
  for (const [ext, column] of Object.entries({ history, historyOffsets, context, items, groups: offsets, itemFeatures })) {
    write(dir, `${name}.${ext}`, column);
  }
  return { groups: groups.length, candidates: items.length };
}
