/**
 * Micro-segments of visitors from a `sequence` model (`npm run segments`, scripts/segments.ts): each
 * visitor's pooled vector (the model's `visitor` output for their whole history, in an empty request
 * context) is clustered by spherical k-means (seeded), and each segment is described by the items
 * and attribute values it takes more than everyone does, and its CTR where the data has labelled
 * impressions. The result follows worker/inference/segments.ts's `segmentsFileSchema`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import { z } from "zod";
import { manifestSchema } from "../../worker/inference/manifest";
import { visitorEmbedder } from "../../worker/inference/scorer";
import { type SegmentsFile, segmentsFileSchema } from "../../worker/inference/segments";
import { type DatasetSource, loadDataset } from "../train/dataset";
import { describeSegments, type Member } from "./describe";
import { kmeans } from "./kmeans";

const count = (name: string) => z.coerce.number().int(`--${name} must be an integer`).positive(`--${name} must be positive`);
export const segmentsArgsSchema = z
  .object({
    model: z.string({ error: "--model DIR is required" }),
    interactions: z.string().optional(),
    events: z.string().optional(),
    items: z.string().optional(),
    users: z.string().optional(),
    k: count("k").default(12),
    seed: z.coerce.number().int().min(0).default(0),
    top: count("top").default(10),
    out: z.string().optional(),
    timezone: z.string().default("UTC"),
  })
  .refine((a) => (a.interactions === undefined) !== (a.events === undefined), { message: "give one of --interactions, --events" });

export type SegmentsOptions = z.infer<typeof segmentsArgsSchema>;

export async function segmentVisitors(a: SegmentsOptions): Promise<SegmentsFile> {
  const manifest = manifestSchema.parse(JSON.parse(await readFile(join(a.model, "manifest.json"), "utf8")));
  const session = await ort.InferenceSession.create(await readFile(join(a.model, manifest.file)));
  const embed = visitorEmbedder(manifest, session, ort.Tensor);
  if (!embed) throw new Error(`${a.model}: segments need a sequence model (its visitor vectors); this one is ${manifest.family}`);
  const files = { ...(a.items ? { items: a.items } : {}), ...(a.users ? { users: a.users } : {}) };
  const source: DatasetSource = a.interactions
    ? { kind: "interactions", csv: a.interactions, ...files, negatives: 0, seed: a.seed, timezone: a.timezone }
    : { kind: "events", ndjson: a.events as string, ...files, timezone: a.timezone };
  const dataset = await loadDataset(source);
  const taken = new Map<string, Set<string>>();
  for (const p of dataset.positives) taken.set(p.userId, (taken.get(p.userId) ?? new Set()).add(p.contentId));
  const members: Member[] = [...taken.keys()].sort().map((userId) => ({ userId, items: taken.get(userId) as Set<string> }));
  if (members.length === 0) throw new Error(`${dataset.name}: no visitor has a positive to be placed by`);
  const vectors: Float32Array[] = [];
  for (const m of members) vectors.push(Float32Array.from(await embed(dataset.profileAt(m.userId, Number.POSITIVE_INFINITY), {})));
  const { assignment, centroids, iterations } = kmeans(vectors, a.k, a.seed);
  return segmentsFileSchema.parse({
    schemaVersion: 1,
    model: { version: manifest.version, sha256: manifest.sha256 },
    data: { name: dataset.name, citation: dataset.citation, visitors: members.length },
    method:
      `spherical k-means (k-means++ seeding, seed ${a.seed}, ${iterations} iterations) of each visitor's pooled vector ` +
      "(the model's `visitor` output for their whole history, empty request context); top items and attribute values by lift " +
      "over all visitors among those at least 2% of the segment (and 2 visitors) have",
    k: a.k,
    seed: a.seed,
    segments: describeSegments(dataset, members, assignment, centroids, a.top),
  });
}
