import { describe, expect, it } from "vitest";
import { parseEdgeHosts } from "../../worker/http/mount";
import { escapeHtml, safeUrl } from "../../worker/rewrite/render";

describe("rendering", () => {
  it("escapes text and keeps only http(s) or site-relative URLs", () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    expect(safeUrl("javascript:alert(1)")).toBeNull();
    expect(safeUrl("data:text/html,<b>")).toBeNull();
    expect(safeUrl("//evil.example/x")).toBeNull();
    expect(safeUrl("/products/men-3")).toBe("/products/men-3");
    expect(safeUrl("https://cdn.example/a.png")).toBe("https://cdn.example/a.png");
  });
});

describe("host mapping (EDGE_HOSTS)", () => {
  it("refuses a mapping that is not JSON, names a host wrongly, or has no PATH_PREFIX", () => {
    expect(parseEdgeHosts("", "")).toEqual(new Map());
    expect(parseEdgeHosts('{"shop.example":"demo","www.shop.example":"demo"}', "/p13n")).toEqual(
      new Map([
        ["shop.example", "demo"],
        ["www.shop.example", "demo"],
      ]),
    );
    expect(() => parseEdgeHosts("{shop.example: demo}", "/p13n")).toThrow(/not JSON/);
    expect(() => parseEdgeHosts('{"Shop.example:8080":"demo"}', "/p13n")).toThrow(/"Shop.example:8080" is not a host name/);
    expect(() => parseEdgeHosts('{"shop.example":"no spaces"}', "/p13n")).toThrow(/site ids/);
    expect(() => parseEdgeHosts('{"shop.example":"demo"}', "")).toThrow(/PATH_PREFIX/);
  });
});
