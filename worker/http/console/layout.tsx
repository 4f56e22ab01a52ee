import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import type { TokenRole } from "../../store/schema";

/** The console's pages and the role each needs: least privilege, so neither role sees the other's. */
export const PAGES = [
  { path: "performance", title: "Performance", role: "admin" },
  { path: "content", title: "Content & variants", role: "admin" },
  { path: "models", title: "Models", role: "admin" },
  { path: "segments", title: "Segments", role: "admin" },
  { path: "experiments", title: "Experiments & fairness", role: "admin" },
  { path: "sites", title: "Sites", role: "admin" },
  { path: "privacy", title: "Privacy", role: "privacy" },
] as const satisfies readonly { path: string; title: string; role: TokenRole }[];
export type PagePath = (typeof PAGES)[number]["path"];

export const homeOf = (role: TokenRole): PagePath => (role === "privacy" ? "privacy" : "performance");

/** Fixed messages after an action: a link cannot make the console say anything else. */
export const FLASHES = {
  approved: "Variant approved: it serves from the next decision.",
  rejected: "Variant rejected: it will not be served.",
  blocklist: "Blocklist saved.",
  promoted: "Model version promoted to live.",
  "rolled-back": "Rolled back to the version that was live before.",
  retired: "Model version retired: it no longer serves, shadows or takes canary traffic.",
  "kill-on": "Kill switch on: everyone gets editor defaults.",
  "kill-off": "Kill switch off: the model serves again.",
  revoked: "Revocation recorded; the erasure is running.",
  "signed-out": "Signed out.",
  "site-created": "Site created: add its slots, then import its catalogue.",
  "site-saved": "Site settings saved.",
  "site-archived": "Site archived: it answers as unknown from now on.",
  "slot-added": "Slot added.",
  "slot-archived": "Slot archived.",
  "import-applied":
    "Import applied: the catalogue changed in one transaction (see Recent imports); decisions serve it within CONFIG_TTL_MS.",
} as const;
export type Flash = keyof typeof FLASHES;

export type LayoutProps = {
  title: string;
  role?: TokenRole;
  csrf?: string;
  active?: PagePath;
  site?: string;
  sites?: { id: string; name: string }[];
  flash?: { message: string; ref?: string | undefined } | null;
  children: Child;
};

/** Links are relative to /admin/, so that the console works under a PATH_PREFIX mount unchanged. */
export function Layout(props: LayoutProps) {
  const query = props.site ? `?site=${encodeURIComponent(props.site)}` : "";
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          {/* same-origin, not no-referrer: with no-referrer a form post's Origin is "null", which the CSRF check refuses. */}
          <meta name="referrer" content="same-origin" />
          <link rel="icon" href="data:," />
          <title>{props.title} · edge-personalizer console</title>
          <link rel="stylesheet" href="assets/uPlot.min.css" />
          <link rel="stylesheet" href="assets/console.client.css" />
          <script src="assets/uPlot.iife.min.js" defer />
          <script src="assets/console.client.js" defer />
        </head>
        <body>
          <a class="skip" href="#main">
            Skip to content
          </a>
          <header class="top">
            <span class="brand">edge-personalizer</span>
            {props.role ? (
              <nav aria-label="Console pages">
                <ul>
                  {PAGES.filter((p) => p.role === props.role).map((p) => (
                    <li>
                      <a href={`${p.path}${p.role === "admin" ? query : ""}`} aria-current={props.active === p.path ? "page" : undefined}>
                        {p.title}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
            ) : null}
            {props.role && props.sites && props.active && props.active !== "privacy" ? (
              <form class="site-picker" method="get" action={props.active}>
                <label for="site-picker">Site</label>
                <select id="site-picker" name="site">
                  {props.sites.map((s) => (
                    <option value={s.id} selected={s.id === props.site}>
                      {s.name} ({s.id})
                    </option>
                  ))}
                </select>
                <button type="submit">Show</button>
              </form>
            ) : null}
            {props.role && props.csrf ? (
              <form method="post" action="sign-out" class="sign-out">
                <input type="hidden" name="csrf" value={props.csrf} />
                <span class="role">Signed in: {props.role}</span>
                <button type="submit">Sign out</button>
              </form>
            ) : null}
          </header>
          <main id="main">
            <h1>{props.title}</h1>
            {props.flash ? (
              <p class="flash" role="status">
                {props.flash.message}
                {props.flash.ref ? (
                  <>
                    {" "}
                    <code>{props.flash.ref}</code>
                  </>
                ) : null}
              </p>
            ) : null}
            {props.children}
          </main>
        </body>
      </html>
    </>
  );
}

/** A page in the console's frame. */
export const screen = (props: Omit<LayoutProps, "children">, body: Child) => <Layout {...props}>{body}</Layout>;

/** What to do next, where a page has nothing to show yet. */
export function Empty(props: { children: Child }) {
  return <p class="empty">{props.children}</p>;
}

/** A form post with the session's CSRF token. */
export function ActionForm(props: { action: string; csrf: string; children: Child; class?: string }) {
  return (
    <form method="post" action={props.action} class={props.class ?? "inline"}>
      <input type="hidden" name="csrf" value={props.csrf} />
      {props.children}
    </form>
  );
}
