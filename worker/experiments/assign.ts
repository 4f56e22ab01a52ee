import type { Experiment } from "../site/policy";
import { draw } from "./explore";

/**
 * Deterministic assignment: a salted SHA-256 of the visitor id (or of a per-request key for a
 * visitor without one) gives a uniform number in [0, 1), stable per visitor and independent
 * between salts, so the holdout, the canary and each experiment split visitors independently.
 */
export async function bucketOf(salt: string, key: string): Promise<number> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${salt}\u0000${key}`));
  return new DataView(digest).getUint32(0) / 2 ** 32;
}

export const holdoutSalt = (siteId: string) => `holdout:${siteId}`;

export async function inHoldout(siteId: string, key: string, share: number): Promise<boolean> {
  return share > 0 && (await bucketOf(holdoutSalt(siteId), key)) < share;
}

export type Assignment = { experiment: string; arm: string };

/** The arm of each running experiment, by its weights. */
export async function assignArms(
  experiments: readonly Experiment[],
  key: string,
): Promise<{ experiment: Experiment; arm: Experiment["arms"][number] }[]> {
  const running = experiments.filter((e) => e.status === "running");
  return Promise.all(
    running.map(async (experiment) => {
      const u = await bucketOf(`experiment:${experiment.id}:${experiment.salt}`, key);
      const total = experiment.arms.reduce((sum, arm) => sum + arm.weight, 0);
      const arm =
        experiment.arms[
          draw(
            experiment.arms.map((a) => a.weight / total),
            u,
          )
        ];
      if (!arm) throw new Error(`experiment ${experiment.id} has no arms`);
      return { experiment, arm };
    }),
  );
}
