import { LOG_SCHEMA_VERSION, logRowJsonSchema } from "../../worker/wire/log";

type JsonSchema = { type?: string | string[]; anyOf?: JsonSchema[]; const?: unknown; enum?: unknown[] };
type RootSchema = { properties: Record<string, JsonSchema>; required?: string[] };

export const SCHEMA_FILES = {
  jsonSchema: {
    path: `schemas/log-row.v${LOG_SCHEMA_VERSION}.schema.json`,
    text: () => `${JSON.stringify(logRowJsonSchema(), null, 2)}\n`,
  },
  stream: { path: `schemas/log-stream.v${LOG_SCHEMA_VERSION}.json` },
} as const;

/** The JSON types a property may take, nullable unions unfolded. */
function typesOf(schema: JsonSchema): string[] {
  if (schema.anyOf) return schema.anyOf.flatMap(typesOf);
  if (Number.isInteger(schema.const)) return ["integer"];
  if (Array.isArray(schema.type)) return schema.type;
  if (schema.type) return [schema.type];
  return [];
}

const STREAM_TYPE: Record<string, string> = {
  string: "string",
  integer: "int64",
  number: "float64",
  boolean: "bool",
  object: "json",
  array: "json",
};

/** The Pipelines stream schema (`{ fields: [{ name, type, required }] }`) of the row's JSON Schema. */
export function pipelineStreamSchema() {
  const root = logRowJsonSchema() as unknown as RootSchema;
  const required = new Set(root.required ?? []);
  return {
    fields: Object.entries(root.properties).map(([name, schema]) => {
      const types = typesOf(schema);
      const nonNull = types.filter((t) => t !== "null");
      const [type] = nonNull;
      if (!type || nonNull.some((t) => STREAM_TYPE[t] !== STREAM_TYPE[type]))
        throw new Error(`log row field ${name}: no single stream type for ${types.join(" | ")}`);
      return { name, type: STREAM_TYPE[type], required: required.has(name) && !types.includes("null") };
    }),
  };
}
