import type { Config } from "../lib/config";
import { withDeadline } from "../lib/deadline";
import { DependencyError } from "../lib/errors";
import { subjectHash } from "../store/subject";
import type { DecisionAsk, DecisionState } from "./shapes";
import type { VisitorState } from "./state";

/**
 * The typed way to a visitor's Durable Object (./state.ts). An object is named by the subject
 * hash of the visitor's signed id, the same hash D1's revocation records keep, so that a
 * tombstone can be written for a subject whose id was already erased (the migration does).
 * With a jurisdiction (`VISITOR_JURISDICTION`), every object is created and kept inside it;
 * changing the setting later addresses other objects, so it is chosen before launch.
 */
export type VisitorStore = {
  namespace: DurableObjectNamespace<VisitorState>;
  jurisdiction: DurableObjectJurisdiction | null;
  /** How long a decision waits for the object before serving without it. */
  timeoutMs: number;
};

export function visitorStore(
  env: Pick<Env, "VISITORS">,
  config: Pick<Config, "visitorJurisdiction" | "visitorStateTimeoutMs">,
): VisitorStore {
  return { namespace: env.VISITORS, jurisdiction: config.visitorJurisdiction, timeoutMs: config.visitorStateTimeoutMs };
}

export function subjectStub(store: VisitorStore, hash: string): DurableObjectStub<VisitorState> {
  const namespace = store.jurisdiction ? store.namespace.jurisdiction(store.jurisdiction) : store.namespace;
  return namespace.get(namespace.idFromName(hash));
}

export async function visitorStub(store: VisitorStore, visitorId: string): Promise<DurableObjectStub<VisitorState>> {
  return subjectStub(store, await subjectHash(visitorId));
}

/**
 * A decision's one remote call (two for a device linked to a customer): the tombstone, and the
 * profile and caps as asked. A failure or an answer slower than the store's timeout is
 * `visitor_state_unavailable`, which the decision serves around (contextual content, consent
 * treated as unknown), never an error page.
 */
export async function readForDecision(store: VisitorStore, visitorId: string, ask: DecisionAsk): Promise<DecisionState> {
  try {
    const stub = await visitorStub(store, visitorId);
    const state = await withDeadline(stub.forDecision(ask), store.timeoutMs);
    if (state.revoked || !state.linkedTo) return state;
    // A device linked to a customer: a second call, to the customer's object, which holds the
    // profile and caps of every device and channel (and its own tombstone).
    const customer = await visitorStub(store, state.linkedTo);
    return { ...(await withDeadline(customer.forDecision(ask), store.timeoutMs)), linkedTo: state.linkedTo };
  } catch (cause) {
    throw new DependencyError("visitor_state_unavailable", { cause });
  }
}
