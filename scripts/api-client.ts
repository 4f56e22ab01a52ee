/**
 * A typed client of the worker's HTTP API, typed by the contract itself: the operations table
 * that /openapi.json is built from (worker/http/openapi/operations.ts). An operation is named as
 * the document names it ("POST /v1/admin/sites"); its path parameters, query and body are the
 * input types of the zod schemas the handler validates with, and its answer the output type of
 * the response schema. A change to a schema that breaks a caller fails `npm run check`.
 */
import type { z } from "zod";
import { type OperationKey, operations } from "../worker/http/openapi/operations";
import type { ErrorBody } from "../worker/lib/errors";

type Ops = typeof operations;
/** No fields: the neutral element of the intersections below. */
type Empty = Record<never, never>;
type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | PathParams<Rest> : never;
type PathOf<K extends string> = K extends `${string} ${infer P}` ? P : never;

type Input<K extends OperationKey> = ([PathParams<PathOf<K>>] extends [never] ? Empty : { params: Record<PathParams<PathOf<K>>, string> }) &
  (Ops[K] extends { query: infer Q extends z.ZodType } ? { query?: z.input<Q> } : Empty) &
  (Ops[K] extends { body: { schema: infer S extends z.ZodType } }
    ? { body: z.input<S> }
    : Ops[K] extends { body: { raw: string } }
      ? { body: string; type: string }
      : Empty);
export type Answer<K extends OperationKey> = Ops[K] extends { ok: { schema: infer S extends z.ZodType } } ? z.output<S> : string;

/** Where the worker is, and the bearer token its routes need (none for the public ones). */
export type ApiTarget = { url: string; token?: string };

/** The API's own `{ error }` answer, with its status: callers show it or assert on it. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
  ) {
    super(`${status} ${body?.error.code ?? "error"}: ${body?.error.message ?? "no error body"}`);
  }
}

function urlOf(target: ApiTarget, path: string, input: { params?: Record<string, string>; query?: Record<string, unknown> }): string {
  const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(input.params?.[name] ?? ""));
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(input.query ?? {})) if (value !== undefined) query.set(name, String(value));
  return `${target.url.replace(/\/$/, "")}${filled}${query.size ? `?${query}` : ""}`;
}

/** Calls one operation; a 4xx or 5xx answer throws `ApiCallError`, a network failure throws as fetch does. */
export type CallInput<K extends OperationKey> = Empty extends Input<K> ? [Input<K>?] : [Input<K>];

export async function callApi<K extends OperationKey>(target: ApiTarget, operation: K, ...[input]: CallInput<K>): Promise<Answer<K>> {
  const [method, path = ""] = operation.split(" ");
  const given = (input ?? {}) as { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown; type?: string };
  // The token goes only where the contract asks for one: on a public route a bearer would be read
  // as a site's API key (and the admin token has no business leaving for a page's route).
  const needsToken = operations[operation].auth !== "public";
  const headers: Record<string, string> = target.token && needsToken ? { authorization: `Bearer ${target.token}` } : {};
  let body: string | undefined;
  if (given.body !== undefined) {
    headers["content-type"] = given.type ?? "application/json";
    body = typeof given.body === "string" && given.type ? given.body : JSON.stringify(given.body);
  }
  const res = await fetch(urlOf(target, path, given), { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  const parsed = (res.headers.get("content-type") ?? "").includes("json") ? (JSON.parse(text) as unknown) : text;
  if (!res.ok) throw new ApiCallError(res.status, typeof parsed === "object" ? (parsed as ErrorBody) : null);
  return parsed as Answer<K>;
}
