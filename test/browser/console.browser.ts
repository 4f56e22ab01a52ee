import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { addDemoSite, chromiumAvailable, DESKTOP_UA, type Stack, sharedStack } from "../../scripts/harness/stack";
import { adminApi, simulateConsoleTraffic, type Traffic } from "../../scripts/harness/traffic";
import { waitFor } from "../../scripts/harness/wait";
import { localLogRows, runScheduled } from "../../scripts/log/local";
import type { DecideResponse } from "../../worker/wire/decide";
import { CONSOLE_ACTIONS } from "../support/console";
import { lineOf, merchantFeed } from "../support/feeds";

/**
 * The console at /admin in Chromium, on the production bundle with simulated traffic: each role
 * signs in with the keyboard, every page draws its charts (daily series as uPlot canvases from
 * the JSON data blocks, bars as server-drawn SVG) without CSP violations or page errors, and the actions reach the same code as the API:
 * an approved variant is served by /v1/decide, a rollback shows in /health, a revocation completes.
 */

const BUNDLED_VERSION = (JSON.parse(readFileSync("models/default/manifest.json", "utf8")) as { version: string }).version;

type Console = { context: BrowserContext; page: Page; problems: string[] };
const SITE = "console";

describe.skipIf(!chromiumAvailable)("the console in Chromium", () => {
  let stack: Stack;
  let traffic: Traffic;
  const admin = (path: string, init: RequestInit = {}) => adminApi(stack)(path, init);
  const consoleUrl = (path: string) => new URL(`/admin/${path}`, stack.consoleUrl).href;

  beforeAll(async () => {
    stack = await sharedStack();
    // A site of this file's own on the shared stack: the scenario changes its policy and variants.
    await addDemoSite(stack, SITE, "opt-out");
    traffic = await simulateConsoleTraffic(stack, SITE, { visitors: 240 });
  }, 240_000);

  /** A fresh browser context, signed in through the form with the keyboard only. */
  async function signIn(
    token: string,
    viewport = { width: 1280, height: 900 },
    where: { locale?: string; timezoneId?: string } = {},
  ): Promise<Console> {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, viewport, ...where });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") problems.push(msg.text());
    });
    await page.goto(new URL("/admin", stack.consoleUrl).href);
    expect(new URL(page.url()).pathname).toBe("/admin/sign-in");
    // The token field has focus on load (autofocus, which the browser applies once the page has
    // rendered: typing before that goes nowhere); Enter submits.
    await page.waitForFunction("document.activeElement?.id === 'token'");
    await page.keyboard.type(token);
    await Promise.all([page.waitForURL((url) => url.pathname !== "/admin/sign-in"), page.keyboard.press("Enter")]);
    return { context, page, problems };
  }

  /** Every chart on the page drawn: a uPlot canvas or a server-drawn SVG inside each figure that has data. */
  async function chartsDrawn(page: Page): Promise<number> {
    // In-page code is a string: it runs in the browser, not in this Node process.
    await page.waitForFunction('document.querySelectorAll("figure[data-chart][data-drawn] :is(canvas, svg.bars)").length > 0', null, {
      timeout: 10_000,
    });
    return page.locator("figure[data-chart][data-drawn='true'] :is(canvas, svg.bars)").count();
  }

  it("signs the admin in and draws the performance page from the reports", async () => {
    const { context, page, problems } = await signIn(stack.secrets.ADMIN_TOKEN ?? "");
    expect(new URL(page.url()).pathname).toBe("/admin/performance");
    await page.selectOption("#site-picker", SITE);
    await page.click(".site-picker button");
    await page.waitForURL(new RegExp(`site=${SITE}`));
    expect(await chartsDrawn(page)).toBeGreaterThanOrEqual(4);
    // One CTR chart per slot, each with its band series.
    for (const slot of ["hero", "recommendations", "promo"])
      expect(await page.locator(`figure[data-chart="ctr-${slot}"] :is(canvas, svg.bars)`).count()).toBe(1);
    // The page's totals are the performance endpoint's.
    const report = (await (await admin(`/reports/performance?site=${SITE}`)).json()) as { rows: { impressions: number }[] };
    const impressions = report.rows.reduce((n, r) => n + r.impressions, 0);
    expect(impressions).toBeGreaterThan(0);
    expect(await page.locator(".stat", { hasText: "Impressions" }).locator("strong").textContent()).toBe(impressions.toLocaleString("en"));
    // The holdout makes an uplift interval, drawn as SVG.
    expect(await page.locator(".uplift").textContent()).toMatch(/pp \[/);
    expect(await page.locator("svg.interval circle").count()).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("draws the models and experiments pages, with the SRM check and fairness flags", async () => {
    const { context, page, problems } = await signIn(stack.secrets.ADMIN_TOKEN ?? "");
    await page.goto(consoleUrl(`models?site=${SITE}`));
    expect(await chartsDrawn(page)).toBe(2);
    expect(await page.locator(`tr[data-version="${BUNDLED_VERSION}"] .status`).textContent()).toBe("live");

    await page.goto(consoleUrl(`experiments?site=${SITE}`));
    expect(await chartsDrawn(page)).toBe(3);
    const experiment = page.locator('[data-experiment="hero-order"]');
    expect(await experiment.textContent()).toContain("Sample-ratio check: χ² =");
    for (const segment of ["country", "device"])
      expect(await page.locator(`[data-segment="${segment}"] :is(canvas, svg.bars)`).count()).toBe(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("draws charts that tell the truth: bars from zero with their intervals, axis labels inside the chart", async () => {
    const { context, page, problems } = await signIn(stack.secrets.ADMIN_TOKEN ?? "");
    await page.goto(consoleUrl(`models?site=${SITE}`));
    await chartsDrawn(page);
    // In-page code is a string: it runs in the browser, not in this Node process.
    const bars = (await page.evaluate(`(() => {
      const svg = document.querySelector('figure[data-chart="version-ctr"] svg.bars');
      const view = svg.viewBox.baseVal;
      const baseline = svg.querySelector(".baseline").y1.baseVal.value;
      const rects = [...svg.querySelectorAll(".bar rect")];
      const texts = [...svg.querySelectorAll("text")].map((t) => t.getBoundingClientRect());
      const box = svg.getBoundingClientRect();
      return {
        yMin: svg.dataset.yMin,
        bars: rects.length,
        bottoms: rects.map((r) => Math.abs(r.y.baseVal.value + r.height.baseVal.value - baseline) < 0.2),
        whiskers: svg.querySelectorAll(".whisker").length,
        inside: texts.every((t) => t.left >= box.left - 0.5 && t.right <= box.right + 0.5 && t.top >= box.top - 0.5 && t.bottom <= box.bottom + 0.5),
        width: view.width,
      };
    })()`)) as { yMin: string; bars: number; bottoms: boolean[]; whiskers: number; inside: boolean };
    expect(bars.yMin).toBe("0");
    expect(bars.bars).toBeGreaterThan(0);
    expect(bars.bottoms.every(Boolean)).toBe(true);
    expect(bars.whiskers).toBe(bars.bars);
    expect(bars.inside).toBe(true);

    await page.goto(consoleUrl(`performance?site=${SITE}`));
    await chartsDrawn(page);
    const axes = (await page.evaluate(`(() => [...document.querySelectorAll('figure[data-kind="time"]')].map((figure) => {
      const u = figure.uplot;
      const axis = u.axes[1];
      u.ctx.font = axis.font[0];
      const widest = Math.max(...axis._values.map((v) => u.ctx.measureText(v).width)) / devicePixelRatio;
      return { chart: figure.dataset.chart, size: axis._size, widest, yMin: u.scales.y.min };
    }))()`)) as { chart: string; size: number; widest: number; yMin: number }[];
    expect(axes.length).toBeGreaterThanOrEqual(4);
    for (const axis of axes) {
      expect(axis.size, axis.chart).toBeGreaterThan(axis.widest);
      expect(axis.yMin, axis.chart).toBe(0);
    }
    expect(problems).toEqual([]);
    await context.close();
  });

  it("onboards a site through the console alone: settings, slots, a 10,000-item feed previewed then applied", async () => {
    const id = `console-shop-${crypto.randomUUID().slice(0, 6)}`;
    const feedFile = join(mkdtempSync(join(tmpdir(), "feed-")), "feed.xml");
    writeFileSync(feedFile, merchantFeed(10_000, { bad: [17, 4242], outOfStock: [3] }));
    const { context, page, problems } = await signIn(stack.secrets.ADMIN_TOKEN ?? "");
    await page.goto(consoleUrl("sites"));
    await page.locator("details summary", { hasText: "Create a site" }).click();
    await page.fill("#site-id", id);
    await page.fill("#site-name", "Console knitwear");
    await page.fill("#site-origins", "https://console-knit.example");
    await page.selectOption("#site-consent", "opt-out");
    await page.fill("#site-timezone", "Europe/Paris");
    await Promise.all([page.waitForURL(/flash=site-created/), page.getByRole("button", { name: "Create site" }).click()]);
    for (const [slot, name, max] of [
      ["hero", "Hero", "1"],
      ["recommendations", "Recommended", "8"],
    ] as const) {
      await page.fill("#slot-id", slot);
      await page.fill("#slot-name", name);
      await page.fill("#slot-max", max);
      await Promise.all([page.waitForURL(/flash=slot-added/), page.getByRole("button", { name: "Add slot" }).click()]);
    }
    expect(await page.locator("tr[data-slot-id]").count()).toBe(2);

    await page.setInputFiles("#import-file", feedFile);
    await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: "Preview import" }).click()]);
    const preview = page.locator('[data-import="preview"]');
    expect(await preview.locator('[data-count="added"]').textContent()).toBe("9,998 added");
    expect(await preview.locator("#refused tbody tr").count()).toBe(2);
    expect(await preview.locator("#refused tbody tr").first().textContent()).toContain(`${lineOf(17)}`);
    await Promise.all([page.waitForURL(/flash=import-applied/), page.getByRole("button", { name: "Apply this import" }).click()]);
    const latest = page.locator("section[aria-labelledby='imports-h'] tbody tr").first();
    expect(await latest.locator('[data-label="added / changed / archived / refused"]').textContent()).toBe("9998 / 0 / 0 / 2");

    const decided = (await (
      await fetch(new URL("/v1/decide", stack.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ site: id, page: { url: "https://console-knit.example/" }, slots: [{ id: "recommendations", count: 8 }] }),
      })
    ).json()) as DecideResponse;
    const shown = decided.slots[0]?.items.map((i) => i.contentId) ?? [];
    expect(shown).toHaveLength(8);
    expect(shown.every((item) => /^P-\d+$/.test(item) && item !== "P-3")).toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("fits every page on a 390 px phone without sideways scrolling", async () => {
    for (const [token, pages] of [
      [stack.secrets.ADMIN_TOKEN ?? "", ["performance", "content", "models", "segments", "experiments", "sites"]],
      [stack.secrets.PRIVACY_TOKEN ?? "", ["privacy"]],
    ] as const) {
      const { context, page, problems } = await signIn(token, { width: 390, height: 844 });
      for (const path of pages) {
        await page.goto(consoleUrl(`${path}?site=${SITE}`));
        await page.waitForLoadState("load");
        const overflow = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth");
        expect(overflow, path).toBeLessThanOrEqual(0);
        // Nor does any table scroll sideways inside its wrapper: rows become stacked "header: value" lines.
        const wideTables = await page.evaluate(
          '[...document.querySelectorAll(".scroll")].filter((el) => el.scrollWidth > el.clientWidth + 1).length',
        );
        expect(wideTables, path).toBe(0);
      }
      expect(problems).toEqual([]);
      await context.close();
    }
  });

  it("approves a draft variant in the review queue, and /v1/decide then serves it", async () => {
    const { results } = await stack.d1
      .prepare(
        "SELECT c.id FROM content_items c WHERE c.site_id = ? AND c.slot_ids LIKE '%recommendations%' AND NOT EXISTS (SELECT 1 FROM content_variants v WHERE v.site_id = c.site_id AND v.content_id = c.id) ORDER BY c.id",
      )
      .bind(SITE)
      .all<{ id: string }>();
    const contentId = results[0]?.id ?? "";
    expect(contentId).not.toBe("");
    const imported = await admin(`/sites/${SITE}/variants`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        variants: [
          {
            contentId,
            id: "console-v1",
            language: "en",
            components: { title: "<b>Console</b> headline", cta: "Shop now" },
            provenance: { origin: "generated", tool: "test-writer", license: "CC0-1.0" },
            synthetic: true,
          },
        ],
      }),
    });
    expect(imported.status).toBe(200);

    const { context, page, problems } = await signIn(stack.secrets.ADMIN_TOKEN ?? "");
    await page.goto(consoleUrl(`content?site=${SITE}`));
    expect(await chartsDrawn(page)).toBeGreaterThanOrEqual(1);
    expect(await page.locator('figure[data-chart="items"][data-drawn="true"] :is(canvas, svg.bars)').count()).toBe(1);
    // The demo catalogue's approved variants were served to the simulated visitors: the variant report's chart.
    expect(await page.locator('figure[data-chart="variants"][data-drawn="true"] :is(canvas, svg.bars)').count()).toBe(1);
    const card = page.locator('li.variant[data-variant-id="console-v1"]');
    // The preview renders content as text: the markup in the title is shown, not parsed.
    expect(await card.locator(".ep-title").textContent()).toBe("<b>Console</b> headline");
    expect(await card.locator(".ep-title b").count()).toBe(0);
    expect(await card.locator(".ep-synthetic-label").textContent()).toBe("AI-generated");
    expect(await card.locator(".provenance").textContent()).toContain("test-writer");
    await card.getByRole("button", { name: `Approve ${contentId} / console-v1` }).click();
    await page.waitForURL(/flash=approved/);
    expect(await page.locator(".flash").textContent()).toContain("Variant approved");

    const audit = await stack.d1
      .prepare("SELECT role FROM audit_log WHERE action = 'admin.variant.approve' AND target LIKE '%console-v1'")
      .first<{ role: string }>();
    expect(audit?.role).toBe("admin");

    // Served: the item, whenever it is shown, now carries the approved variant.
    const served = await waitFor(async () => {
      for (const { cookie } of traffic.visitors.slice(0, 40)) {
        const res = await fetch(new URL("/v1/decide", stack.url), {
          method: "POST",
          headers: { "content-type": "application/json", cookie, "user-agent": DESKTOP_UA },
          body: JSON.stringify({ site: SITE, page: { url: "https://shop.example/" }, slots: [{ id: "recommendations", count: 6 }] }),
        });
        const d = (await res.json()) as DecideResponse;
        const item = d.slots.flatMap((s) => s.items).find((i) => i.contentId === contentId);
        if (item) return item;
      }
      return null;
    }, 60_000);
    expect(served.variant?.id).toBe("console-v1");
    expect(served.title).toBe("<b>Console</b> headline");
    expect(problems).toEqual([]);
    await context.close();
  });

  it("promotes a pushed version and rolls it back from the models page; /health follows", async () => {
    const manifest = JSON.parse(readFileSync("models/default/manifest.json", "utf8")) as Record<string, unknown>;
    const form = new FormData();
    form.set("manifest", JSON.stringify({ ...manifest, version: "console-cand" }));
    form.set("model", new File([readFileSync("models/default/model.onnx")], "model.onnx"));
    form.set("status", "shadow");
    expect((await admin("/models/console-cand", { method: "PUT", body: form })).status).toBe(201);
    const health = async () =>
      ((await (await fetch(new URL("/health", stack.url))).json()) as { model: { version: string | null } }).model.version;

    const { context, page, problems } = await signIn(stack.secrets.ADMIN_TOKEN ?? "");
    await page.goto(consoleUrl(`models?site=${SITE}`));
    await page.getByRole("button", { name: "Promote console-cand to live" }).click();
    await page.waitForURL(/flash=promoted/);
    expect(await health()).toBe("console-cand");
    expect(await page.locator('tr[data-version="console-cand"] .status').textContent()).toBe("live");
    // The version it replaced is the rollback target, which only Rollback brings back: no Promote on it.
    expect(await page.locator(`tr[data-version="${BUNDLED_VERSION}"] .status`).textContent()).toBe("rollback target");
    expect(await page.locator(`tr[data-version="${BUNDLED_VERSION}"] button`).count()).toBe(0);

    await page.getByRole("button", { name: "Roll back to the previous live version" }).click();
    await page.waitForURL(/flash=rolled-back/);
    expect(await health()).toBe(BUNDLED_VERSION);
    expect(await page.locator(`tr[data-version="${BUNDLED_VERSION}"] .status`).textContent()).toBe("live");
    expect(await page.locator(".flash code").textContent()).toBe(BUNDLED_VERSION);
    // The rolled-back version is retired: the lifecycle offers nothing for it any more.
    expect(await page.locator('tr[data-version="console-cand"] .status').textContent()).toBe("retired");
    expect(await page.getByRole("button", { name: "Promote console-cand to live" }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("shows moments in the reader's locale and time zone, with UTC in the markup", async () => {
    const { context, page, problems } = await signIn(stack.secrets.PRIVACY_TOKEN ?? "", undefined, {
      locale: "en-GB",
      timezoneId: "Asia/Tokyo",
    });
    const first = page.locator("time[datetime]").first();
    await expect.poll(() => first.textContent()).not.toContain("UTC");
    const datetime = (await first.getAttribute("datetime")) ?? "";
    expect(datetime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const tokyo = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Tokyo" });
    expect(await first.textContent()).toBe(tokyo.format(new Date(datetime)));
    expect(await first.getAttribute("title")).toBe(`${datetime.slice(0, 16).replace("T", " ")} UTC`);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("lets the privacy role revoke a subject, watch the request complete, export and filter the logs; admin pages are 403", async () => {
    const { context, page, problems } = await signIn(stack.secrets.PRIVACY_TOKEN ?? "", { width: 390, height: 844 });
    expect(new URL(page.url()).pathname).toBe("/admin/privacy");
    // Consent records from the simulated banner answers.
    expect(await chartsDrawn(page)).toBe(1);
    // Phone width: nothing wider than the screen.
    expect(await page.evaluate<boolean>("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);

    const subject = traffic.visitors[1]?.id ?? "";
    const decisionsOf = async (visitor: string) =>
      (await localLogRows(stack.mf)).filter((row) => row.kind === "decision" && row.visitor_id === visitor).length;
    expect(await decisionsOf(subject)).toBe(1);
    await page.fill("#subjectId", subject);
    await page.fill("#reason", "console test");
    await page.getByRole("button", { name: "Revoke and erase" }).click();
    await page.waitForURL(/flash=revoked/);
    const requestId = (await page.locator(".flash code").textContent()) ?? "";
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const status = await waitFor(async () => {
      // The cron's run, two minutes on: the log's erasure pass covers the request, then it completes.
      await runScheduled(stack.mf, stack.url, Date.now() + 120_000);
      await page.reload();
      const text = await page.locator(`tr[data-request-id="${requestId}"] .status`).textContent();
      return text === "completed" ? text : null;
    }, 30_000);
    expect(status).toBe("completed");
    expect(await decisionsOf(subject)).toBe(0);

    // The export of another subject, as the download link fetches it (with the session cookie).
    const other = traffic.visitors[2]?.id ?? "";
    const exported = await page.request.get(consoleUrl(`privacy/export?subjectId=${other}`));
    expect(exported.status()).toBe(200);
    expect(exported.headers()["content-disposition"]).toContain("attachment");
    expect(((await exported.json()) as { subjectId: string; decisions: unknown[] }).decisions).toHaveLength(1);

    // The audit log, filtered to revocations.
    await page.selectOption("#a-role", "privacy");
    await page.fill("#a-action", "privacy.revoke");
    await page.locator("#audit-h ~ form button").click();
    await page.waitForURL(/action=privacy.revoke/);
    const actions = await page.locator("#audit tbody td:nth-child(3)").allTextContents();
    expect(actions.length).toBeGreaterThan(0);
    expect(new Set(actions)).toEqual(new Set(["privacy.revoke"]));

    // Admin pages and actions are not the privacy role's.
    expect((await page.request.get(consoleUrl(`performance?site=${SITE}`))).status()).toBe(403);
    const csrf = (await page.locator('input[name="csrf"]').first().getAttribute("value")) ?? "";
    const rollback = await page.request.post(consoleUrl("models/rollback"), {
      form: { csrf },
      headers: { origin: stack.consoleUrl.origin },
    });
    expect(rollback.status()).toBe(403);
    expect(problems).toEqual([]);
    await context.close();
  });

  it("without a session every page goes to the sign-in form and every action is a 401; a post without its CSRF token is refused", async () => {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA });
    const page = await context.newPage();
    for (const path of ["performance", "content", "models", "experiments", "privacy"]) {
      await page.goto(consoleUrl(`${path}?site=${SITE}`));
      expect(new URL(page.url()).pathname, path).toBe("/admin/sign-in");
      expect(await page.locator("label[for='token']").textContent()).toBe("Token");
    }
    for (const path of CONSOLE_ACTIONS) {
      const res = await page.request.post(consoleUrl(path), { form: { csrf: "x" }, headers: { origin: stack.consoleUrl.origin } });
      expect(res.status(), path).toBe(401);
    }
    await context.close();

    const { context: signedIn, page: adminPage } = await signIn(stack.secrets.ADMIN_TOKEN ?? "");
    const noCsrf = await adminPage.request.post(consoleUrl("models/kill-switch"), {
      form: { on: "true" },
      headers: { origin: stack.consoleUrl.origin },
    });
    expect(noCsrf.status()).toBe(403);
    expect(((await (await fetch(new URL("/health", stack.url))).json()) as { model: { killSwitch: boolean } }).model.killSwitch).toBe(
      false,
    );
    // Signing out ends the session: the pages go back to the sign-in form.
    await adminPage.getByRole("button", { name: "Sign out" }).click();
    await adminPage.waitForURL(/sign-in\?flash=signed-out/);
    await adminPage.goto(consoleUrl("models"));
    expect(new URL(adminPage.url()).pathname).toBe("/admin/sign-in");
    await signedIn.close();
  });
});
