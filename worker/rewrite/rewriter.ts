import type { DecideResponse } from "../wire/decide";
import { renderItem } from "./render";

/**
 * Fills `[data-slot]` elements while the page streams through HTMLRewriter, from one decision
 * made before the body flows. Every handler catches its own errors and leaves the element as the
 * origin sent it: an exception inside HTMLRewriter would truncate the page. Without a decision
 * the page passes through untouched.
 */
export function slotRewriter(answer: DecideResponse | null, tagScript: string): HTMLRewriter {
  const rewriter = new HTMLRewriter();
  if (!answer) return rewriter;
  return rewriter
    .on("head", {
      element(head) {
        // The tag reports impressions and clicks for the slots filled here (it does not decide again).
        head.append(tagScript, { html: true });
      },
    })
    .on("[data-slot]", {
      element(element) {
        try {
          const slot = answer.slots.find((s) => s.slot === element.getAttribute("data-slot"));
          if (!slot || slot.items.length === 0) return;
          const wanted = Number(element.getAttribute("data-count") ?? slot.items.length);
          const items = slot.items.slice(0, Number.isInteger(wanted) && wanted > 0 ? wanted : slot.items.length);
          // The origin's own content stays, inert in a <template>, so that the tag can put it back
          // (a consent withdrawal, a new view in a single-page app) without a reload. Appended
          // first: if the element cannot take content, nothing is left half-wrapped.
          element.append(`</template>${items.map((item) => renderItem(item, answer.syntheticLabel)).join("")}`, { html: true });
          element.prepend("<template data-ep-default>", { html: true });
          element.setAttribute("data-decision-id", answer.decisionId);
          element.setAttribute("data-event-token", answer.eventToken);
          element.setAttribute("data-filled", "edge");
          element.setAttribute("data-ep-done", "");
        } catch {
          // Leave the origin's default content in place.
        }
      },
    });
}
