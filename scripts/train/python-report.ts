import { z } from "zod";
import type { CandidateFeatures, RequestContext, VisitorProfile } from "../../worker/inference/encode";
import type { Scorer } from "../../worker/inference/scorer";
import { loadModelDir } from "../evaluate/scorer";

/**
 * What both trainers' Python side reports about its run (scripts/train/train.py and
 * scripts/train/sequence/train.py): the network, how long it trained and the sizes of its ONNX
 * exports. Each family's report schema adds its own learning curve and checks.
 */
export const pythonRunFields = {
  hyperparameters: z.record(z.string(), z.number()),
  threads: z.number(),
  architecture: z.string(),
  parameters: z.number(),
  epochs: z.number(),
  epochsRun: z.number(),
  trainWallSeconds: z.number(),
  opset: z.number(),
  sizes: z.object({ fp32Bytes: z.number(), int8Bytes: z.number(), ratio: z.number() }),
};

/** How far the worker's scores may be from the Python side's for the same inputs. */
export const PARITY_TOLERANCE = 1e-4;

/**
 * The written model directory read back as the worker reads it (its encoder and onnxruntime-web),
 * scored on the parity cases: the largest difference from what train.py expected, or an error past
 * PARITY_TOLERANCE. Returns the scorer for the evaluation that follows.
 */
export async function checkWorkerParity(
  dir: string,
  cases: readonly { profile: VisitorProfile | null; context: RequestContext; items: readonly CandidateFeatures[]; expected: number[] }[],
): Promise<{ scorer: Scorer; maxAbsError: number }> {
  const scorer = await loadModelDir(dir);
  let maxAbsError = 0;
  for (const c of cases) {
    const scores = await scorer.score(c.profile, c.context, c.items);
    c.expected.forEach((want, i) => {
      maxAbsError = Math.max(maxAbsError, Math.abs((scores[i] ?? Number.NaN) - want));
    });
  }
  if (!(maxAbsError <= PARITY_TOLERANCE)) {
    throw new Error(`the worker's encoder + onnxruntime-web differ from train.py by ${maxAbsError} (> ${PARITY_TOLERANCE})`);
  }
  return { scorer, maxAbsError };
}
