import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { openapiDocument } from "../../worker/http/openapi/document";

/** /openapi.json is valid OpenAPI 3.1 (the validator checks it against the specification's own JSON Schema, offline). */
describe("the OpenAPI document", () => {
  it("validates as OpenAPI 3.1, at the root and under a path prefix", async () => {
    for (const prefix of ["", "/_ep"]) {
      const result = await new Validator().validate(openapiDocument(prefix) as never);
      expect(result.errors ?? []).toEqual([]);
      expect(result.valid).toBe(true);
    }
  });

  it("is refused by the same validator when it is broken (the check can fail)", async () => {
    // Swagger 2's body parameter does not exist in OpenAPI 3.
    const broken = openapiDocument();
    const parameter = broken.paths["/v1/decide"]?.get?.parameters[0];
    if (parameter) Object.assign(parameter, { in: "body" });
    expect((await new Validator().validate(broken as never)).valid).toBe(false);
  });
});
