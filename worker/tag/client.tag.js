/*! edge-personalizer tag: fills [data-slot] elements, reports impressions and clicks. */
(() => {
  const script = document.currentScript;
  if (!script || window.edgePersonalizer) return;
  const base = script.src.replace(/\/v1\/tag\.js.*$/, "");
  const site = script.getAttribute("data-site");
  const timeout = Number(script.getAttribute("data-timeout")) || 300;
  const defaults = new WeakMap();
  const tokens = {};
  const queue = [];
  const seen = {};
  let flushTimer = 0;

  // Per-slot anti-flicker: slots stay hidden (keeping their size) until filled or the timeout;
  // the CSS animation reveals them even if this script never runs.
  const style = document.createElement("style");
  style.textContent =
    "@keyframes ep-reveal{to{visibility:visible}}[data-slot]:not([data-ep-done]){visibility:hidden;animation:ep-reveal 0s " +
    timeout +
    "ms forwards}";
  document.head.appendChild(style);

  function safeUrl(url) {
    if (!url) return null;
    if (/^\/(?!\/)/.test(url)) return url;
    try {
      const u = new URL(url);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (_e) {
      return null;
    }
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function render(item) {
    const box = el("div", "ep-item");
    box.setAttribute("data-content-id", item.contentId);
    const href = safeUrl(item.href);
    const inner = href ? el("a", "ep-link") : box;
    if (href) {
      inner.href = href;
      box.appendChild(inner);
    }
    const src = safeUrl(item.imageUrl);
    if (src) {
      const img = el("img", "ep-image");
      img.src = src;
      img.alt = item.title;
      img.loading = "lazy";
      img.width = 320;
      img.height = 240;
      inner.appendChild(img);
    }
    inner.appendChild(el("span", "ep-title", item.title));
    if (item.body) inner.appendChild(el("span", "ep-body", item.body));
    if (item.cta) inner.appendChild(el("span", "ep-cta", item.cta));
    return box;
  }

  function done(slot) {
    slot.setAttribute("data-ep-done", "");
  }

  function slotsOnPage(root) {
    return [...(root || document).querySelectorAll("[data-slot]:not([data-ep-done])")];
  }

  function decide(slots) {
    if (!site || slots.length === 0) return;
    const deadline = Date.now() + timeout;
    const ids = slots.map((s) => {
      const count = Number(s.getAttribute("data-count"));
      return s.getAttribute("data-slot") + (count > 0 ? `:${count}` : "");
    });
    const url =
      base +
      "/v1/decide?site=" +
      encodeURIComponent(site) +
      "&slots=" +
      encodeURIComponent(ids.join(",")) +
      "&url=" +
      encodeURIComponent(location.href.split("#")[0]) +
      (document.referrer ? `&ref=${encodeURIComponent(document.referrer)}` : "");
    const timer = setTimeout(() => {
      slots.forEach(done);
    }, timeout);
    fetch(url, { credentials: "include" })
      .then((res) => (res.ok ? res.json() : null))
      .then((answer) => {
        clearTimeout(timer);
        // Too late: the page's own content is showing by now and stays.
        if (!answer || Date.now() > deadline) return;
        tokens[answer.decisionId] = answer.eventToken;
        slots.forEach((slot) => {
          const decided = answer.slots.filter((s) => s.slot === slot.getAttribute("data-slot"))[0];
          if (decided?.items.length) {
            if (!defaults.has(slot)) defaults.set(slot, [...slot.childNodes]);
            slot.replaceChildren.apply(slot, decided.items.map(render));
            slot.setAttribute("data-decision-id", answer.decisionId);
            observe(slot);
          }
        });
      })
      .catch(() => {})
      .then(() => {
        slots.forEach(done);
      });
  }

  function track(type, item, slot) {
    const decisionId = slot.getAttribute("data-decision-id");
    const contentId = item.getAttribute("data-content-id");
    const key = type + decisionId + contentId;
    if (!decisionId || (type === "impression" && seen[key])) return;
    seen[key] = 1;
    queue.push({
      eventId: crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now(),
      type: type,
      decisionId: decisionId,
      slot: slot.getAttribute("data-slot"),
      contentId: contentId,
      ts: Date.now(),
      eventToken: tokens[decisionId] || slot.getAttribute("data-event-token"),
    });
    if (type === "click" || queue.length >= 20) flush();
    else if (!flushTimer) flushTimer = setTimeout(flush, 2000);
  }

  function flush() {
    clearTimeout(flushTimer);
    flushTimer = 0;
    if (!queue.length) return;
    const body = JSON.stringify({ events: queue.splice(0, 100) });
    const url = `${base}/v1/events`;
    if (!navigator.sendBeacon?.(url, new Blob([body], { type: "text/plain" }))) {
      fetch(url, { method: "POST", body: body, keepalive: true, credentials: "include" }).catch(() => {});
    }
    if (queue.length) flush();
  }

  // An impression: at least half of the item visible for one second.
  const visible = new WeakMap();
  const io = new IntersectionObserver(
    (entries) => {
      entries.forEach((entry) => {
        const item = entry.target;
        if (entry.intersectionRatio >= 0.5) {
          if (!visible.has(item))
            visible.set(
              item,
              setTimeout(() => {
                track("impression", item, item.closest("[data-slot]"));
              }, 1000),
            );
        } else {
          clearTimeout(visible.get(item));
          visible.delete(item);
        }
      });
    },
    { threshold: [0, 0.5] },
  );

  function observe(slot) {
    slot.querySelectorAll(".ep-item").forEach((item) => {
      io.observe(item);
    });
  }

  document.addEventListener(
    "click",
    (e) => {
      const item = e.target.closest?.("[data-slot] .ep-item");
      if (item) track("click", item, item.closest("[data-slot]"));
    },
    true,
  );
  addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") flush();
  });

  function restoreDefaults() {
    document.querySelectorAll("[data-slot][data-decision-id]").forEach((slot) => {
      if (defaults.has(slot)) slot.replaceChildren.apply(slot, defaults.get(slot));
      slot.removeAttribute("data-decision-id");
    });
  }

  function refresh() {
    document.querySelectorAll("[data-slot]").forEach((slot) => {
      slot.removeAttribute("data-ep-done");
    });
    decide(slotsOnPage());
  }

  function setConsent(purposes) {
    if (!purposes.personalization) restoreDefaults();
    return fetch(`${base}/v1/consent`, {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ site: site, purposes: { personalization: !!purposes.personalization, measurement: !!purposes.measurement } }),
    }).then(() => {
      if (purposes.personalization) refresh();
    });
  }

  // Single-page apps: decide again on navigation.
  ["pushState", "replaceState"].forEach((name) => {
    const original = history[name];
    history[name] = function (...args) {
      const result = original.apply(this, args);
      setTimeout(refresh, 0);
      return result;
    };
  });
  addEventListener("popstate", refresh);

  // IAB TCF: a CMP's choice re-decides (consent given) or restores defaults (withdrawn).
  if (typeof window.__tcfapi === "function") {
    window.__tcfapi("addEventListener", 2, (tcData, ok) => {
      if (!ok || tcData.eventStatus !== "useractioncomplete") return;
      const c = tcData.publisher?.consents;
      if (c?.[1] && c[5] && c[6]) refresh();
      else restoreDefaults();
    });
  }

  window.edgePersonalizer = { refresh: refresh, setConsent: setConsent, flush: flush };

  // One decide request for the slots of the parsed page, then one per batch of slots added later.
  function start() {
    // Slots filled at the edge: only tracked here, never decided again.
    for (const slot of document.querySelectorAll("[data-slot][data-decision-id][data-ep-done]")) observe(slot);
    const initial = slotsOnPage();
    initial.forEach((s) => {
      s.setAttribute("data-ep-pending", "");
    });
    decide(initial);
    new MutationObserver(() => {
      const added = slotsOnPage().filter((s) => !s.hasAttribute("data-ep-pending"));
      added.forEach((s) => {
        s.setAttribute("data-ep-pending", "");
      });
      decide(added);
    }).observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
