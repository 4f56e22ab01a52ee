import type { Context } from "hono";
import { customerSubject } from "../channels/customers";
import type { RecipientGrant } from "../channels/email";
import { ApiError } from "../lib/errors";
import { verify } from "../lib/signing";
import type { ServerDecideRequest } from "../wire/channels";
import { VISITOR_ID } from "../wire/consent";
import type { AppEnv } from "./app-env";
import type { Identify } from "./decision";
import { type ConsentWithoutRevocation, readVisitor } from "./visitor";

/**
 * The subject a server's call names: a signed visitor id (the `ep_vid` cookie's value, which the
 * site's server reads from its own first-party request) or a customer id, hashed with the site's
 * key into the customer's subject. A signature that does not verify is a 400 naming the field.
 */
export async function namedSubject(c: Context<AppEnv>, site: string, caller: ServerDecideRequest["visitor"]): Promise<string> {
  if ("customerId" in caller) return customerSubject(c.var.db, site, caller.customerId);
  return verifiedVisitorId(c, caller.visitorToken, "visitor.visitorToken");
}

export async function verifiedVisitorId(c: Context<AppEnv>, token: string, field: string): Promise<string> {
  const id = await verify(token, [c.env.ID_SIGNING_KEY, c.env.ID_SIGNING_KEY_PREVIOUS]);
  if (!id || !VISITOR_ID.test(id)) throw new ApiError(400, "invalid_visitor", `${field}: not a signed visitor id`, field);
  return id;
}

/**
 * A server's call speaks for the person: consent is the one the call states the site holds (none
 * stated: none assumed, as on an opt-in site without a choice), then the subject's tombstone
 * applies as for any visitor. No cookie is read or set.
 */
export const byServerCall =
  (call: Pick<ServerDecideRequest, "visitor" | "consent">): Identify =>
  async (c, site, ask) => {
    const subject = await namedSubject(c, site.id, call.visitor);
    const signals: ConsentWithoutRevocation = {
      consentModel: "opt-in",
      honorGpc: false,
      banner: call.consent ?? null,
      tcf: null,
      gpc: false,
    };
    return { ...(await readVisitor(c, site, subject, signals, ask)), mayGiveId: false };
  };

/** An e-mail's recipient: the customer its token names, with the consent the site held when sending. */
export const byRecipient =
  (grant: Pick<RecipientGrant, "c" | "p" | "m">): Identify =>
  async (c, site, ask) => {
    const signals: ConsentWithoutRevocation = {
      consentModel: "opt-in",
      honorGpc: false,
      banner: { personalization: grant.p, measurement: grant.m },
      tcf: null,
      gpc: false,
    };
    return { ...(await readVisitor(c, site, grant.c, signals, ask)), mayGiveId: false };
  };
