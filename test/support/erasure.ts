import { env, SELF } from "cloudflare:test";
import { waitFor } from "../../scripts/harness/wait";
import { continueErasures } from "../../worker/privacy/erasure";
import { db } from "./fixtures";

export type RequestStatus = { status: string; completedAt: string | null };

export async function requestStatus(requestId: string): Promise<RequestStatus> {
  const res = await SELF.fetch(`https://edge.example/v1/privacy/requests/${requestId}`, {
    headers: { authorization: `Bearer ${env.PRIVACY_TOKEN}` },
  });
  return res.json();
}

/**
 * Runs what the scheduled handler runs (the log's erasure pass, then the pending erasures back on
 * the queue for the consumer) as it would two minutes from now, past the pass's grace period, until
 * the request completes.
 */
export async function waitForCompletion(requestId: string): Promise<RequestStatus> {
  return waitFor(
    async () => {
      await continueErasures(db, env.EVENTS, { bucket: env.LOG, sink: "r2" }, Date.now() + 120_000);
      const body = await requestStatus(requestId);
      return body.status === "completed" && body;
    },
    30_000,
    500,
  );
}
