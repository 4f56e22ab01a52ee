import { describe, expect, it } from "vitest";
import { sign, verify } from "../../worker/lib/signing";

describe("signed ids", () => {
  it("verifies with the current or the previous key, and nothing else", async () => {
    const token = await sign("visitor-1", "old-key");
    expect(await verify(token, ["new-key", "old-key"])).toBe("visitor-1");
    expect(await verify(token, ["new-key"])).toBeNull();
    expect(await verify(token, ["new-key", ""])).toBeNull();
  });

  it("rejects tampered values and signatures", async () => {
    const token = await sign("visitor-1", "key");
    expect(await verify(token.replace("visitor-1", "visitor-2"), ["key"])).toBeNull();
    expect(await verify(`${token.slice(0, -2)}AA`, ["key"])).toBeNull();
    expect(await verify("visitor-1", ["key"])).toBeNull();
    expect(await verify("visitor-1.%%%", ["key"])).toBeNull();
  });
});
