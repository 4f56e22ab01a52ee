import { describe, expect, it } from "vitest";
import { configOf } from "../../worker/lib/config";

const withVars = (vars: Record<string, string>) => configOf(vars as unknown as Parameters<typeof configOf>[0]);

describe("the worker's [vars]", () => {
  it("reads the ledger's window, 7 days when unset, and refuses one shorter than a decision's day and its events'", () => {
    expect(withVars({}).ledgerDays).toBe(7);
    expect(withVars({ LEDGER_DAYS: "3" }).ledgerDays).toBe(3);
    expect(() => withVars({ LEDGER_DAYS: "1" })).toThrow(/at least 2 days[\s\S]*LEDGER_DAYS/);
    expect(() => withVars({ LEDGER_DAYS: "two" })).toThrow(/LEDGER_DAYS/);
  });
});
