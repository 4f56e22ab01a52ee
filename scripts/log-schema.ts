/**
 * Writes the log's row schema for the outside world, generated from the zod schema
 * (worker/wire/log.ts) so that the two cannot drift: `npm run log:schema` (CI checks the files,
 * test/node/log-schema.node.ts).
 * - schemas/log-row.v<N>.schema.json: JSON Schema (draft 2020-12), by zod's own `z.toJSONSchema`;
 * - schemas/log-stream.v<N>.json: the Pipelines stream's field list (`wrangler pipelines streams
 *   create --schema-file`), derived from that JSON Schema: strings, int64, float64, bool, and json
 *   for nested values; a field that may be null is not required.
 */
import { writeFileSync } from "node:fs";
import { pipelineStreamSchema, SCHEMA_FILES } from "./log/schema-files";

const [jsonSchema, stream] = [SCHEMA_FILES.jsonSchema, SCHEMA_FILES.stream];
writeFileSync(jsonSchema.path, jsonSchema.text());
writeFileSync(stream.path, `${JSON.stringify(pipelineStreamSchema(), null, 2)}\n`);
console.log(`wrote ${jsonSchema.path} and ${stream.path}`);
