import { describe, expect, it } from "vitest";
import { wilsonInterval } from "../../worker/events/report";

describe("Wilson interval", () => {
  it("matches known values and stays inside [0, 1]", () => {
    expect(wilsonInterval(5, 10)?.low).toBeCloseTo(0.2366, 4);
    expect(wilsonInterval(5, 10)?.high).toBeCloseTo(0.7634, 4);
    expect(wilsonInterval(0, 10)?.low).toBe(0);
    expect(wilsonInterval(0, 10)?.high).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(0, 0)).toBeNull();
  });
});
