import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { pipelineStreamSchema, SCHEMA_FILES } from "../../scripts/log/schema-files";
import { toLogRow } from "../../worker/log/rows";
import { logRowSchema } from "../../worker/wire/log";

/** The checked-in schemas of the log are what the zod schema generates today (`npm run log:schema` rewrites them). */
describe("the log's row schema files", () => {
  it("are the zod schema's JSON Schema and the stream fields derived from it", () => {
    expect(readFileSync(SCHEMA_FILES.jsonSchema.path, "utf8")).toBe(SCHEMA_FILES.jsonSchema.text());
    expect(JSON.parse(readFileSync(SCHEMA_FILES.stream.path, "utf8"))).toEqual(pipelineStreamSchema());
  });

  it("name every column of a row, and require exactly the columns a row always has", () => {
    const row = toLogRow({
      type: "interaction",
      siteId: "s",
      visitorId: null,
      measurement: true,
      personalization: false,
      bot: false,
      eventId: "e1",
      kind: "click",
      decisionId: "d1",
      slot: "hero",
      contentId: "c1",
      policy: "model",
      modelVersion: "m1",
      ts: Date.UTC(2026, 10, 20),
    });
    logRowSchema.parse(row);
    const { fields } = pipelineStreamSchema();
    expect(fields.map((f) => f.name).sort()).toEqual(Object.keys(row).sort());
    for (const field of fields) if (field.required) expect(row[field.name as keyof typeof row]).not.toBeNull();
  });
});
