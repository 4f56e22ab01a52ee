import { type Segment, type SegmentsFile, segmentsFileSchema } from "../inference/segments";
import { ApiError } from "../lib/errors";
import { type ServedVersion, segmentsObjectKey } from "./config";

/**
 * A model version's micro-segments travel with it: pushed in the same request as its files
 * (`segments.json` next to `model.onnx` in the `MODELS` bucket), checked against the version's
 * sha256, and read by the decision path once per isolate, like the manifest. Segments never fail
 * a decision: a file that is missing, unreadable or for other bytes places nobody.
 */

const refused = (message: string) => new ApiError(422, "segments_refused", message, "segments");

/**
 * Validates a segments file for the model being pushed (its family, version and sha256): 422
 * naming the problem otherwise. Only the `sequence` family has the visitor vector segments live in.
 */
export function validateSegments(raw: unknown, model: { version: string; sha256: string; family: string }): SegmentsFile {
  if (model.family !== "sequence")
    throw refused(`segments need a sequence model (its visitor output); ${model.version} is ${model.family}`);
  const parsed = segmentsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw refused(`segments: ${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`);
  }
  const file = parsed.data;
  if (file.model.sha256 !== model.sha256) {
    throw refused(
      `the segments were made with model ${file.model.version} (sha256 ${file.model.sha256}), not with ${model.version} (sha256 ${model.sha256})`,
    );
  }
  return file;
}

/**
 * Segment files never change (versions are immutable): one read per isolate and version. The
 * values are kept, not the reads in flight (worker/lib/ttl-cache.ts says why).
 */
const cache = new Map<string, readonly Segment[] | null>();

/** A version's segments file as stored, or null when there is none or it is not for these bytes. */
export async function readSegmentsFile(models: R2Bucket, served: Pick<ServedVersion, "version" | "sha256">): Promise<SegmentsFile | null> {
  const object = await models.get(segmentsObjectKey(served.version));
  if (!object) return null;
  const parsed = segmentsFileSchema.safeParse(await object.json());
  return parsed.success && parsed.data.model.sha256 === served.sha256 ? parsed.data : null;
}

const read = async (models: R2Bucket, served: ServedVersion) => (await readSegmentsFile(models, served))?.segments ?? null;

/** The served version's segments, or null (none pushed, a bundled version, or the file unreadable). */
export async function segmentsOf(models: R2Bucket, served: ServedVersion): Promise<readonly Segment[] | null> {
  if (served.storage !== "r2") return null;
  const key = `${served.version}:${served.sha256}`;
  if (cache.has(key)) return cache.get(key) ?? null;
  try {
    const segments = await read(models, served);
    cache.set(key, segments);
    return segments;
  } catch {
    // An R2 failure is not remembered: the next decision asks again.
    return null;
  }
}
