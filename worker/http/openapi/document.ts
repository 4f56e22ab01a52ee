import { z } from "zod";
import { type Auth, type Operation, operations } from "./operations";

/**
 * The OpenAPI 3.1 document, built from ./operations.ts with zod 4's own `z.toJSONSchema`: its
 * draft 2020-12 output is the schema dialect of OpenAPI 3.1, so the schemas the handlers validate
 * with are the schemas published, with no second library and no rewrite of the routes.
 */

type JsonSchema = Record<string, unknown>;
type Parameter = { name: string; in: "path" | "query"; required: boolean; schema: JsonSchema; description?: string };

/** What a client sends, as JSON Schema (a transform's input side; a File is a binary string). */
function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    unrepresentable: "any",
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === "custom")
        Object.assign(ctx.jsonSchema, { type: "string", contentMediaType: "application/octet-stream" });
    },
  });
  return rest;
}

function parameters(path: string, op: Operation): Parameter[] {
  const inPath = [...path.matchAll(/\{(\w+)\}/g)].map(([, name = ""]) => name);
  const pathParams = inPath.map((name) => ({
    name,
    in: "path" as const,
    required: true,
    schema: op.params?.[name] ? jsonSchema(op.params[name], "input") : { type: "string" },
  }));
  const query = op.query ? (jsonSchema(op.query, "input") as { properties?: Record<string, JsonSchema>; required?: string[] }) : {};
  const queryParams = Object.entries(query.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: "query" as const,
      required: query.required?.includes(name) ?? false,
      schema: rest,
      ...(typeof description === "string" ? { description } : {}),
    };
  });
  return [...pathParams, ...queryParams];
}

const SECURITY: Record<Auth, Array<Record<string, string[]>>> = {
  public: [],
  admin: [{ adminToken: [] }],
  privacy: [{ privacyToken: [] }],
  console: [{ consoleSession: [] }],
  apiKey: [{ siteApiKey: [] }],
};

const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }) });

function operationObject(key: string, path: string, op: Operation) {
  const body = op.body;
  const ok = op.ok;
  const okContent = ok.schema
    ? { "application/json": { schema: jsonSchema(ok.schema, "output") } }
    : ok.type
      ? { [ok.type]: {} }
      : undefined;
  return {
    operationId: key.replace(/[^A-Za-z0-9]+/g, "_").replace(/_$/, ""),
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security: SECURITY[op.auth],
    parameters: parameters(path, op),
    ...(body
      ? {
          requestBody: {
            required: true,
            content:
              "raw" in body
                ? { [body.type]: { schema: { type: "string", description: body.raw } } }
                : { [body.type ?? "application/json"]: { schema: jsonSchema(body.schema, "input") } },
          },
        }
      : {}),
    responses: {
      [String(ok.status)]: { description: ok.description ?? "success", ...(okContent ? { content: okContent } : {}) },
      "4XX": {
        description: "the request is refused: the error names the problem and the field",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      },
    },
  };
}

/** The document for a worker whose routes live under `prefix` ("" at the root of its host). */
export function openapiDocument(prefix = "") {
  const paths: Record<string, Record<string, ReturnType<typeof operationObject>>> = {};
  for (const [key, op] of Object.entries(operations) as Array<[string, Operation]>) {
    const [method = "", path = ""] = key.split(" ");
    paths[path] = { ...paths[path], [method.toLowerCase()]: operationObject(key, path, op) };
  }
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "edge-personalizer",
      version: "1",
      description:
        "Next-best-content decisions at the edge, the events that teach them, consent and privacy, and the admin API that onboards sites.",
    },
    servers: [{ url: prefix || "/" }],
    tags: [...new Set(Object.values(operations).map((op) => op.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema, "output") },
      securitySchemes: {
        adminToken: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN" },
        privacyToken: { type: "http", scheme: "bearer", description: "PRIVACY_TOKEN" },
        siteApiKey: { type: "http", scheme: "bearer", description: "a site's API key (epk_…), scoped to decide and/or events" },
        consoleSession: {
          type: "apiKey",
          in: "cookie",
          name: "ep_console",
          description: "the console's signed session, from /admin/sign-in",
        },
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openapiDocument>;
