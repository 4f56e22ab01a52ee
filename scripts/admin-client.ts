/**
 * The CLIs' way to the worker: its admin API, local (`npm start` on http://127.0.0.1:8787) or
 * remote, with the admin token. One HTTP request per command answers in well under a second,
 * where a wrangler call starts a runtime each time; requests are typed by the contract (./api-client.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import type { OperationKey } from "../worker/http/openapi/operations";
import type { ErrorBody } from "../worker/lib/errors";
import { type Answer, ApiCallError, type CallInput, callApi } from "./api-client";

export type AdminTarget = { url: string; token: string };

/** `.dev.vars` (what `npm start` serves with), for a local worker's token when none is given. */
function localToken(): string | undefined {
  for (const file of [".dev.vars", ".dev.vars.example"]) {
    if (!existsSync(file)) continue;
    const match = readFileSync(file, "utf8").match(/^ADMIN_TOKEN="?([^"\n]+)"?/m);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** A worker on this machine (`npm start`): one isolate, so a change it makes serves at once. */
export const isLocalUrl = (url: string) => /^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?$/.test(url);

/** `--url`/`EP_URL` (default the local worker) and `--token`/`EP_ADMIN_TOKEN` (default `.dev.vars` for a local URL). */
export function adminTarget(flags: { url?: string | undefined; token?: string | undefined }): AdminTarget {
  const url = flags.url ?? process.env.EP_URL ?? "http://127.0.0.1:8787";
  const local = isLocalUrl(url.replace(/\/$/, ""));
  const token = flags.token ?? process.env.EP_ADMIN_TOKEN ?? (local ? localToken() : undefined);
  if (!token) throw new CliError(`no admin token for ${url}: pass --token or set EP_ADMIN_TOKEN`);
  return { url: url.replace(/\/$/, ""), token };
}

/** A failure to show the person at the terminal, without a stack trace. */
export class CliError extends Error {}

/** One admin operation through the typed client, its failures as messages for the terminal. */
export async function adminCall<K extends OperationKey>(target: AdminTarget, operation: K, ...input: CallInput<K>): Promise<Answer<K>> {
  try {
    return await callApi(target, operation, ...input);
  } catch (err) {
    if (err instanceof ApiCallError) throw new CliError(err.message);
    throw new CliError(
      `${target.url} cannot be reached (${err instanceof Error ? err.message : "no answer"}): is the worker running (npm start)?`,
    );
  }
}

/**
 * An admin request outside the typed client: a model push is a multipart form (the model's bytes),
 * which the contract's client does not send, and the model routes' answers have no output schemas
 * yet; the model commands (scripts/model/admin-commands.ts) use this.
 */
export async function adminRequest<T>(
  target: AdminTarget,
  method: string,
  path: string,
  body?: { json: unknown } | { form: FormData },
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${target.url}/v1/admin${path}`, {
      method,
      // A form's type carries its multipart boundary: fetch sets it.
      headers: { authorization: `Bearer ${target.token}`, ...(body && "json" in body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: "json" in body ? JSON.stringify(body.json) : body.form } : {}),
    });
  } catch (err) {
    throw new CliError(
      `${target.url} cannot be reached (${err instanceof Error ? err.message : "no answer"}): is the worker running (npm start)?`,
    );
  }
  const answer = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) throw new CliError(new ApiCallError(res.status, answer as ErrorBody | null).message);
  return answer as T;
}

/** When a change reaches every location: this isolate at once, the others at their next config read. */
export const TAKES_EFFECT =
  "takes effect at once on the isolate that served the request, and everywhere else within CONFIG_TTL_MS (30 s by default; at most twice that on an idle isolate)";
