/**
 * The demo's consent banner, as a site would write its own: two buttons that call the tag's public
 * `window.edgePersonalizer.setConsent`, and a line that says what the worker holds now (read from
 * `GET /v1/consent`). It stays on the page, so that a person can withdraw what they gave; the tag
 * puts the page's own content back at once and decides again after a grant.
 */
const STYLE = `
  .consent { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center; padding: 12px clamp(12px, 4vw, 32px);
    background: #fff; border-bottom: 1px solid #ddd; font-size: 15px; }
  .consent p { margin: 0; flex: 1 1 280px; }
  .consent button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid #1f2a36; cursor: pointer; }
  .consent button[data-consent="grant"] { background: #1f2a36; color: #fff; }
  .consent button[data-consent="withdraw"] { background: #fff; color: #1f2a36; }
  .consent button:disabled { opacity: 0.45; cursor: default; }
`;

/** Reads the state the worker holds, then follows the buttons; `site` is safe in a string (checked by the route). */
const script = (site: string) => `(() => {
  const banner = document.getElementById("consent");
  const status = document.getElementById("consent-status");
  const show = (on) => {
    banner.dataset.state = on ? "granted" : "denied";
    status.textContent = on
      ? "Personalization is on: the slots below are chosen for you. Withdraw to see the shop's own content again."
      : "Personalization is off: you see the shop's own choice. Accept to let it learn what you like.";
    for (const button of banner.querySelectorAll("button")) button.disabled = (button.dataset.consent === "grant") === on;
  };
  fetch("/v1/consent?site=${site}", { credentials: "include" })
    .then((res) => (res.ok ? res.json() : { personalization: false }))
    .then((state) => show(!!state.personalization), () => show(false));
  banner.addEventListener("click", (e) => {
    const choice = e.target.closest("button")?.dataset.consent;
    if (!choice) return;
    const on = choice === "grant";
    show(on);
    // The tag loads async: a click before it has run is applied once it has.
    const apply = () => window.edgePersonalizer.setConsent({ personalization: on, measurement: on });
    if (window.edgePersonalizer) apply();
    else addEventListener("load", apply, { once: true });
  });
})();`;

export function consentBanner(site: string): string {
  return `<style>${STYLE}</style>
<div class="consent" id="consent" role="region" aria-label="Consent">
<p id="consent-status">Personalization is off: you see the shop's own choice.</p>
<button type="button" data-consent="grant">Accept personalization</button>
<button type="button" data-consent="withdraw">Withdraw</button>
</div>
<script>${script(site)}</script>`;
}
