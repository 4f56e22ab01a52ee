import type { Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { addDemoSite, chromiumAvailable, DESKTOP_UA, type Stack, sharedStack, visitorCookie } from "../../scripts/harness/stack";
import { waitFor } from "../../scripts/harness/wait";
import { demoItems, demoVisitors } from "../../scripts/seed/demo-data";
import type { DecideResponse } from "../../worker/wire/decide";

/**
 * The demo as a person meets it: the shop page with the tag and its consent banner, an opt-in
 * site like the demo. Its policy holds nobody out: a new visitor gets a random id, and the walk
 * must not depend on which side of a 5% holdout that id falls (the seeded demo visitors are
 * outside any holdout by construction, test/node/demo-visitors.node.ts).
 */
const SITE = "walk";

/** Content ids per slot, in page order, once every slot carries a decision other than `previous`. */
const FILLED_AFTER = (previous: string | null) => `(() => {
  const slots = [...document.querySelectorAll("[data-slot]")];
  const ids = new Set(slots.map((el) => el.getAttribute("data-decision-id")));
  const [id] = ids;
  if (ids.size !== 1 || id === null || id === ${JSON.stringify(previous)}) return false;
  return { decisionId: id, slots: Object.fromEntries(slots.map((el) => [el.getAttribute("data-slot"),
    [...el.querySelectorAll(".ep-item")].map((item) => item.getAttribute("data-content-id"))])) };
})()`;

type Filled = { decisionId: string; slots: Record<string, string[]> };
const titleOf = new Map(demoItems().map((item) => [item.id, item.render.title]));
/** The products at the top of the page: the hero, then the recommendations. */
const topOf = (filled: Filled) => [...(filled.slots.hero ?? []), ...(filled.slots.recommendations ?? [])];

describe.skipIf(!chromiumAvailable)("the demo, walked in Chromium", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await sharedStack();
    await addDemoSite(stack, SITE, "opt-in", { holdout: { share: 0 } });
  }, 180_000);

  async function open(cookie?: { name: string; value: string; url: string }) {
    const context = await stack.browser.newContext({ userAgent: DESKTOP_UA, viewport: { width: 1280, height: 2000 } });
    if (cookie) await context.addCookies([cookie]);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    const answers: Promise<DecideResponse>[] = [];
    page.on("response", (res) => {
      if (new URL(res.url()).pathname === "/v1/decide") answers.push(res.json());
    });
    await page.goto(new URL(`/demo/tag?site=${SITE}&timeout=5000`, stack.url).href);
    return { context, page, errors, answers, first: await filledAfter(page, null) };
  }

  async function filledAfter(page: Page, previous: string | null): Promise<Filled> {
    return (await (await page.waitForFunction(FILLED_AFTER(previous), null, { timeout: 15_000 })).jsonValue()) as Filled;
  }

  async function accept(page: Page): Promise<void> {
    await page.getByRole("button", { name: "Accept personalization" }).click();
    await page.waitForFunction(`document.getElementById("consent").dataset.state === "granted"`);
  }

  async function withdrawAndExpectOwnContent(page: Page): Promise<void> {
    await page.getByRole("button", { name: "Withdraw" }).click();
    await page.waitForFunction(`document.querySelectorAll("[data-slot] .default").length === 5`, null, { timeout: 5_000 });
    expect(await page.locator("[data-slot] .ep-item").count()).toBe(0);
    expect(await page.locator("[data-slot][data-decision-id]").count()).toBe(0);
    expect(await page.locator("#consent-status").textContent()).toContain("Personalization is off");
  }

  it("a new visitor accepts on the banner, clicks a product and sees the ranking respond, then withdraws", async () => {
    // Before consent: the page an anonymous visitor gets, and a banner that says so.
    const { context, page, answers, first: anonymous, errors } = await open();
    expect(await answers[0]).toMatchObject({ mode: "contextual", modeReason: "no_visitor_id" });
    await page.waitForFunction(`document.getElementById("consent").dataset.state === "denied"`);
    expect(await page.getByRole("button", { name: "Withdraw" }).isDisabled()).toBe(true);

    await accept(page);
    const granted = await filledAfter(page, anonymous.decisionId);
    // A new visitor has an id now, but no history yet: the model ranks for them as for anyone, and says so.
    expect(await answers[1]).toMatchObject({ mode: "contextual", modeReason: "no_profile" });
    expect(granted.slots).toEqual(anonymous.slots);

    // The last recommendation: the product the page ranks lowest among those it shows there.
    const clicked = granted.slots.recommendations?.at(-1) ?? "";
    const rankBefore = topOf(granted).indexOf(clicked);
    await page.locator(`[data-slot="recommendations"] .ep-item[data-content-id="${clicked}"] a`).click();
    await page.waitForURL(`**/demo/products/${clicked}`);
    // Back on the shop: the click has reached the visitor's profile through the queue once the
    // ranking moves; it lands within seconds, so each try is a fresh page view.
    let after: Filled | undefined;
    await waitFor(async () => {
      await page.goto(new URL(`/demo/tag?site=${SITE}&timeout=5000`, stack.url).href);
      after = await filledAfter(page, null);
      return topOf(after).indexOf(clicked) < rankBefore;
    }, 20_000);
    if (!after) throw new Error("no decision after the click");
    expect(topOf(after), "the clicked product moves up").not.toEqual(topOf(anonymous));
    expect(await answers.at(-1)).toMatchObject({ mode: "personalized" });

    await withdrawAndExpectOwnContent(page);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("a demo shopper who accepts sees what they like first, which the anonymous page does not lead with", async () => {
    const shopper = demoVisitors().find((v) => v.id === stack.visitor.id);
    if (!shopper) throw new Error("the stack's visitor is not a demo visitor");
    // Before consent the shopper's profile is not read: they get the anonymous page.
    const { context, page, answers, first: anonymous, errors } = await open(visitorCookie(stack));
    expect(await answers[0]).toMatchObject({ mode: "contextual" });
    await accept(page);
    const granted = await filledAfter(page, anonymous.decisionId);
    expect(await answers[1]).toMatchObject({ mode: "personalized", modeReason: "banner_granted" });
    const titles = topOf(granted).map((id) => titleOf.get(id) ?? id);
    expect(titles[0], shopper.theme).toMatch(shopper.likes);
    expect(titles.filter((t) => shopper.likes.test(t)).length, shopper.theme).toBeGreaterThanOrEqual(2);
    expect(topOf(granted)).not.toEqual(topOf(anonymous));
    expect(titleOf.get(topOf(anonymous)[0] ?? ""), "the anonymous page's first product").not.toMatch(shopper.likes);
    expect(await page.locator('[data-slot="hero"] .ep-title').textContent()).toMatch(shopper.likes);

    await withdrawAndExpectOwnContent(page);
    expect(errors).toEqual([]);
    await context.close();
  });
});
