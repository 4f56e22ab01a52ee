import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { app } from "../worker/http/app";
import { openapiDocument } from "../worker/http/openapi/document";
import { type OperationKey, operations } from "../worker/http/openapi/operations";

/**
 * The contract cannot drift from the code: every route the Hono app registers is in /openapi.json
 * and every operation there is a route the app registers. (That the document is valid OpenAPI 3.1
 * is checked in Node, test/node/openapi.node.ts: the validator compiles schemas, which workerd forbids.)
 */

/** Hono's `:name`, `:name{regex}` and a trailing `*` as OpenAPI path templates. */
const templated = (path: string) => path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}").replace(/\/\*$/, "/{path}");

/**
 * The app's endpoints, "METHOD /path": a route's final handler takes the context alone, while
 * middleware (`use`, body limits, CORS) also takes `next`, so it is not an endpoint of its own.
 */
function registeredRoutes(): string[] {
  const routes = app.routes.filter((route) => route.handler.length < 2).map((route) => `${route.method} ${templated(route.path)}`);
  return [...new Set(routes)].sort();
}

function documentedRoutes(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

describe("the OpenAPI document", () => {
  it("is served at /openapi.json as OpenAPI 3.1, and is the document the code builds", async () => {
    const res = await SELF.fetch("https://edge.example/openapi.json");
    expect(res.status).toBe(200);
    const served = (await res.json()) as ReturnType<typeof openapiDocument>;
    expect(served.openapi).toBe("3.1.0");
    expect(served).toEqual(JSON.parse(JSON.stringify(openapiDocument())));
  });

  it("lists every route the app registers, and nothing else", async () => {
    const served = (await (await SELF.fetch("https://edge.example/openapi.json")).json()) as ReturnType<typeof openapiDocument>;
    const documented = documentedRoutes(served);
    const registered = registeredRoutes();
    // A route for any method (the edge route) is documented under at least one method.
    const anyMethod = registered.filter((route) => route.startsWith("ALL "));
    for (const route of anyMethod) expect(documented.some((doc) => doc.endsWith(route.slice(3)))).toBe(true);
    const specific = registered.filter((route) => !route.startsWith("ALL "));
    expect(
      specific.filter((route) => !documented.includes(route)),
      "routes missing from the document",
    ).toEqual([]);
    const known = new Set([...specific, ...anyMethod.map((route) => route.slice(4))]);
    const stale = documented.filter((doc) => !known.has(doc) && !known.has(doc.slice(doc.indexOf(" ") + 1)));
    expect(stale, "documented operations the app does not register").toEqual([]);
    // The public and admin API surfaces are all there (a sanity check on the walk itself).
    for (const route of [
      "POST /v1/decide",
      "POST /v1/events",
      "POST /v1/consent",
      "GET /v1/why",
      "GET /v1/tag.js",
      "POST /v1/admin/sites/{site}/items/import",
    ])
      expect(documented).toContain(route);
    expect(registered.length).toBeGreaterThan(50);
  });

  it("publishes the handlers' own schemas: what the document requires, the route refuses without", async () => {
    const doc = openapiDocument();
    const create = doc.paths["/v1/admin/sites"]?.post;
    const schema = (create && "requestBody" in create ? create.requestBody?.content["application/json"]?.schema : undefined) as
      | { required?: string[] }
      | undefined;
    expect(schema?.required).toContain("allowedOrigins");
    const res = await SELF.fetch("https://edge.example/v1/admin/sites", {
      method: "POST",
      headers: { authorization: "Bearer test-admin-token", "content-type": "application/json" },
      body: JSON.stringify({ id: "openapi-missing-origins", name: "No origins", consentModel: "opt-in", timezone: "UTC" }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field?: string } }).error.field).toBe("allowedOrigins");
  });

  it("describes what the admin routes answer: real answers parse with the documented schemas", async () => {
    const id = `openapi-${crypto.randomUUID().slice(0, 8)}`;
    const call = async (key: OperationKey, path: string, init: { body?: unknown; text?: string } = {}) => {
      const [method] = key.split(" ");
      const res = await SELF.fetch(`https://edge.example${path}`, {
        method,
        headers: { authorization: "Bearer test-admin-token", "content-type": init.text ? "text/csv" : "application/json" },
        ...(init.text ? { body: init.text } : init.body ? { body: JSON.stringify(init.body) } : {}),
      });
      expect(res.status, key).toBe(operations[key].ok.status);
      const schema = "schema" in operations[key].ok ? operations[key].ok.schema : undefined;
      const parsed = schema?.safeParse(await res.json());
      expect(parsed?.error, key).toBeUndefined();
    };
    const site = `/v1/admin/sites/${id}`;
    await call("POST /v1/admin/sites", "/v1/admin/sites", { body: { id, name: "Contract", allowedOrigins: ["https://contract.example"] } });
    await call("POST /v1/admin/sites/{site}/slots", `${site}/slots`, { body: { id: "hero", name: "Hero" } });
    await call("POST /v1/admin/sites/{site}/items/import", `${site}/items/import`, {
      text: "id,title,slots\na-1,First,hero\na-2,Second,hero\n",
    });
    await call("PUT /v1/admin/sites/{site}/items/{item}", `${site}/items/a-3`, { body: { title: "Third", slots: ["hero"] } });
    await call("GET /v1/admin/sites/{site}", site);
    await call("GET /v1/admin/sites", "/v1/admin/sites?limit=2");
    await call("GET /v1/admin/sites/{site}/slots", `${site}/slots`);
    await call("GET /v1/admin/sites/{site}/items", `${site}/items`);
    await call("GET /v1/admin/sites/{site}/items/{item}", `${site}/items/a-1`);
    await call("GET /v1/admin/sites/{site}/imports", `${site}/imports`);
    await call("POST /v1/admin/sites/{site}/items/{item}/archive", `${site}/items/a-2/archive`);
    await call("PATCH /v1/admin/sites/{site}/slots/{slot}", `${site}/slots/hero`, { body: { name: "Top" } });
    await call("PATCH /v1/admin/sites/{site}", site, { body: { name: "Contract, renamed" } });
    await call("POST /v1/admin/sites/{site}/archive", `${site}/archive`);
  });

  it("has a readable reference page with every path, that needs nothing from the internet", async () => {
    const res = await SELF.fetch("https://edge.example/openapi");
    expect(res.status).toBe(200);
    const page = await res.text();
    for (const path of Object.keys(openapiDocument().paths))
      expect(page).toContain(`<code>${path.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)}</code>`);
    expect(page).not.toMatch(/<script|<link|src=|href="https?:/);
  });
});
