/*! edge-personalizer tag */
(() => {
  const script = document.currentScript;
  if (!script || window.edgePersonalizer) return;
  const attr = (node, name) => node.getAttribute(name);
  const base = script.src.replace(/\/v1\/tag\.js.*$/, "");
  const site = attr(script, "data-site");
  const timeout = Number(attr(script, "data-timeout")) || 300;
  const SLOT = "[data-slot]";
  const DONE = "data-ep-done";
  const DECISION = "data-decision-id";
  const defaults = new WeakMap();
  const known = new WeakSet();
  const visible = new WeakMap();
  const tokens = {};
  const seen = {};
  const queue = [];
  let batch = new Set();
  let flushTimer = 0;
  // Bumped by a new page or a withdrawal: answers still in flight then fill nothing.
  let epoch = 0;
  let measure = true;
  let page = location.href.split("#")[0];
  let referrer = document.referrer;
  // The CMP's TC string, passed on as gdpr_consent: not every CMP keeps it in a cookie.
  let tcf = "";

  // Anti-flicker per slot: hidden (keeping its size) until filled or the timeout; the animation
  // reveals it even if this script never runs.
  const style = document.createElement("style");
  style.textContent = `@keyframes ep-reveal{to{visibility:visible}}${SLOT}:not([${DONE}]){visibility:hidden;animation:ep-reveal 0s ${timeout}ms forwards}`;
  document.head.appendChild(style);

  const all = () => [...document.querySelectorAll(SLOT)];
  const done = (slot) => slot.setAttribute(DONE, "");

  function safeUrl(url) {
    if (/^\/(?!\/)/.test(url)) return url;
    try {
      const u = new URL(url);
      return /^https?:$/.test(u.protocol) ? u.href : null;
    } catch {
      return null;
    }
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  // Text nodes only: content can never inject markup. Synthetic variants are marked, and labelled
  // when the site asks for a visible label.
  function render(item, label) {
    const box = el("div", "ep-item");
    const variant = item.variant;
    box.setAttribute("data-content-id", item.contentId);
    if (variant) box.setAttribute("data-variant-id", variant.id);
    if (variant?.synthetic) box.setAttribute("data-synthetic", "true");
    const href = item.href && safeUrl(item.href);
    const inner = href ? box.appendChild(el("a", "ep-link")) : box;
    if (href) inner.href = href;
    const src = item.imageUrl && safeUrl(item.imageUrl);
    if (src) {
      const img = inner.appendChild(el("img", "ep-image"));
      img.src = src;
      img.alt = item.title;
      img.loading = "lazy";
      img.width = 320;
      img.height = 240;
    }
    inner.appendChild(el("span", "ep-title", item.title));
    if (item.body) inner.appendChild(el("span", "ep-body", item.body));
    if (item.cta) inner.appendChild(el("span", "ep-cta", item.cta));
    if (variant?.synthetic && label) box.appendChild(el("span", "ep-synthetic-label", label));
    return box;
  }

  const eachItem = (slot, fn) => slot.querySelectorAll(".ep-item").forEach(fn);

  // Replaced items stop counting towards impressions.
  function fill(slot, nodes) {
    eachItem(slot, (item) => {
      io.unobserve(item);
      clearTimeout(visible.get(item));
    });
    slot.replaceChildren(...nodes);
    eachItem(slot, (item) => io.observe(item));
  }

  function restore(slot) {
    const own = defaults.get(slot);
    if (own) fill(slot, own);
    slot.removeAttribute(DECISION);
  }

  // Slots wanted within one task (a route change and the slots it renders) share one request.
  function want(slots) {
    if (slots.length && !batch.size)
      setTimeout(() => {
        const wanted = [...batch].filter((s) => s.isConnected);
        batch = new Set();
        decide(wanted);
      });
    for (const slot of slots) {
      known.add(slot);
      slot.removeAttribute(DONE);
      batch.add(slot);
    }
  }

  function decide(slots) {
    if (!site || !slots.length) return;
    const mine = epoch;
    const deadline = Date.now() + timeout;
    const reveal = () => mine === epoch && slots.forEach(done);
    const timer = setTimeout(reveal, timeout);
    const ids = slots.map((s) => attr(s, "data-slot") + (attr(s, "data-count") > 0 ? `:${attr(s, "data-count")}` : ""));
    const params = new URLSearchParams({ site, slots: ids.join(","), url: page });
    if (referrer) params.set("ref", referrer);
    // The page's language leads the content variants' language chain; a malformed one is left out.
    const lang = document.documentElement.lang.toLowerCase();
    if (/^[a-z]{2,3}(-[a-z0-9]{2,8})*$/.test(lang)) params.set("lang", lang);
    if (tcf) params.set("gdpr_consent", tcf);
    fetch(`${base}/v1/decide?${params}`, { credentials: "include" })
      .then((res) => res.ok && res.json())
      .then((answer) => {
        // Too late (the page's own content shows by now and stays) or overtaken.
        if (!answer || Date.now() > deadline || mine !== epoch) return;
        tokens[answer.decisionId] = answer.eventToken;
        for (const slot of slots) {
          const items = answer.slots.find((s) => s.slot === attr(slot, "data-slot"))?.items;
          if (!items?.length) restore(slot);
          else {
            if (!defaults.has(slot)) defaults.set(slot, [...slot.childNodes]);
            fill(
              slot,
              items.map((item) => render(item, answer.syntheticLabel)),
            );
            slot.setAttribute(DECISION, answer.decisionId);
          }
        }
      })
      .catch(() => {})
      .then(() => {
        clearTimeout(timer);
        reveal();
      });
  }

  function track(type, item) {
    const slot = item.closest(SLOT);
    const decisionId = slot && attr(slot, DECISION);
    const contentId = attr(item, "data-content-id");
    const key = type + decisionId + contentId;
    if (!measure || !decisionId || (type === "impression" && seen[key])) return;
    seen[key] = 1;
    queue.push({
      eventId: crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2) + Date.now(),
      type,
      decisionId,
      slot: attr(slot, "data-slot"),
      contentId,
      ts: Date.now(),
      eventToken: tokens[decisionId] || attr(slot, "data-event-token"),
    });
    if (type === "click" || queue.length >= 20) flush();
    else flushTimer ||= setTimeout(flush, 2000);
  }

  function flush() {
    clearTimeout(flushTimer);
    flushTimer = 0;
    while (queue.length) {
      const body = JSON.stringify({ events: queue.splice(0, 100) });
      // Batched with the isolate's other beacons: sendBeacon never reads the answer (docs/operator.md).
      const url = `${base}/v1/events?delivery=batched`;
      if (!navigator.sendBeacon?.(url, new Blob([body], { type: "text/plain" })))
        fetch(url, { method: "POST", body, keepalive: true, credentials: "include" }).catch(() => {});
    }
  }

  // An impression: at least half of the item visible for one second.
  const io = new IntersectionObserver(
    (entries) => {
      for (const { target, intersectionRatio } of entries) {
        if (intersectionRatio < 0.5) {
          clearTimeout(visible.get(target));
          visible.delete(target);
        } else if (!visible.has(target)) visible.set(target, setTimeout(track, 1000, "impression", target));
      }
    },
    { threshold: [0, 0.5] },
  );

  document.addEventListener(
    "click",
    (e) => {
      const item = e.target.closest?.(`${SLOT} .ep-item`);
      if (item) track("click", item);
    },
    true,
  );
  addEventListener("pagehide", flush);
  document.addEventListener("visibilitychange", () => document.hidden && flush());

  function refresh() {
    epoch++;
    want(all());
  }

  // What the visitor allows, applied in the page: a withdrawal puts the page's own content back.
  function follow(purposes) {
    measure = !!purposes.measurement;
    if (!measure) queue.length = 0;
    if (purposes.personalization) return refresh();
    epoch++;
    batch.clear();
    for (const slot of all()) {
      restore(slot);
      done(slot);
    }
  }

  function setConsent(purposes) {
    if (!purposes.personalization) follow(purposes);
    const { personalization, measurement } = purposes;
    return fetch(`${base}/v1/consent`, {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ site, purposes: { personalization: !!personalization, measurement: !!measurement } }),
    }).then(() => {
      // Decided again only once the server holds the grant.
      if (personalization) follow(purposes);
    });
  }

  // Single-page apps: a new URL (not just a new hash or history state) is a new page.
  function navigated() {
    const url = location.href.split("#")[0];
    if (url === page) return;
    referrer = page;
    page = url;
    refresh();
  }
  for (const name of ["pushState", "replaceState"]) {
    const original = history[name];
    history[name] = function (...args) {
      try {
        return original.apply(this, args);
      } finally {
        navigated();
      }
    };
  }
  addEventListener("popstate", navigated);

  window.edgePersonalizer = { refresh, setConsent, flush };

  function start() {
    for (const slot of all()) {
      // Filled at the edge: tracked here, not decided again; the edge kept its own content aside.
      if (slot.hasAttribute(DONE)) {
        known.add(slot);
        const own = slot.querySelector(":scope>template[data-ep-default]");
        defaults.set(slot, own && [...own.content.childNodes]);
        eachItem(slot, (item) => io.observe(item));
      }
    }
    const unknown = () => all().filter((s) => !known.has(s));
    want(unknown());
    new MutationObserver(() => want(unknown())).observe(document.body, { childList: true, subtree: true });
    // IAB TCF: the CMP's user choice (the server reads the same TC string from gdpr_consent or its cookie).
    // Looked up here rather than at load, so that a CMP stub defined after this async script counts.
    window.__tcfapi?.("addEventListener", 2, (tc, ok) => {
      if (ok && tc.gdprApplies) tcf = tc.tcString || "";
      if (!ok || tc.eventStatus !== "useractioncomplete") return;
      const c = tc.publisher?.consents || {};
      const free = tc.gdprApplies === false;
      follow({ personalization: free || (c[1] && c[5] && c[6]), measurement: free || (c[1] && c[8]) });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
