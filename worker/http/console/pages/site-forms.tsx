import type { ImportResult } from "../../../site/feeds/import";
import type { SiteView, showSite } from "../../../site/sites";
import { num } from "../chart";
import { ActionForm, Empty } from "../layout";
import { DataTable } from "../table";

/** The sites page's forms: a site's fields, its slots, and a catalogue import with its preview. */

type Shown = Awaited<ReturnType<typeof showSite>>;
const CONSENT_MODELS = ["opt-in", "opt-out"] as const;

/** The fields of a site, empty for a new one; the same names as the admin API's JSON. */
export function SiteFields(props: { site?: SiteView }) {
  const s = props.site;
  return (
    <>
      {s ? null : (
        <>
          <label for="site-id">Id</label>
          <input id="site-id" name="id" required pattern="[A-Za-z0-9_\-]{1,64}" />
        </>
      )}
      <label for="site-name">Name</label>
      <input id="site-name" name="name" required value={s?.name ?? ""} />
      <label for="site-origins">Allowed origins (one per line, https)</label>
      <textarea id="site-origins" name="allowedOrigins" rows={2} required>
        {s?.allowedOrigins.join("\n") ?? ""}
      </textarea>
      <label for="site-consent">Consent model</label>
      <select id="site-consent" name="consentModel">
        {CONSENT_MODELS.map((m) => (
          <option value={m} selected={(s?.consentModel ?? "opt-in") === m}>
            {m}
          </option>
        ))}
      </select>
      <label for="site-timezone">Time zone (IANA)</label>
      <input id="site-timezone" name="timezone" value={s?.timezone ?? "UTC"} />
      <label for="site-origin-url">Edge origin (optional: the origin the edge route fetches pages from)</label>
      <input id="site-origin-url" name="originUrl" value={s?.originUrl ?? ""} placeholder="https://origin.shop.example" />
      <label for="site-feed-url">Product feed URL (optional, imported on a schedule)</label>
      <input id="site-feed-url" name="feedUrl" value={s?.feedUrl ?? ""} placeholder="https://shop.example/feed.xml" />
    </>
  );
}

export function SlotsSection(props: { site: Shown; csrf: string }) {
  const { site } = props;
  const q = `?site=${encodeURIComponent(site.id)}`;
  return (
    <section aria-labelledby="slots-h" class="card">
      <h2 id="slots-h">Slots</h2>
      <DataTable
        caption="Slots"
        rows={site.slots}
        empty="No slots yet: add the places on your pages that the engine fills (hero, recommendations…)."
        rowAttrs={(slot) => ({ "data-slot-id": slot.id })}
        columns={[
          { header: "slot", rowHeader: true, cell: (slot) => slot.id },
          { header: "name", cell: (slot) => slot.name },
          { header: "default / max items", cell: (slot) => `${slot.defaultCount} / ${slot.maxCount}` },
          { header: "status", cell: (slot) => slot.status },
          {
            header: "action",
            cell: (slot) =>
              slot.status === "active" ? (
                <ActionForm action={`sites/slots/archive${q}`} csrf={props.csrf}>
                  <input type="hidden" name="slot" value={slot.id} />
                  <button type="submit" class="secondary" aria-label={`Archive slot ${slot.id}`}>
                    Archive
                  </button>
                </ActionForm>
              ) : null,
          },
        ]}
      />
      <ActionForm action={`sites/slots${q}`} csrf={props.csrf} class="stack">
        <label for="slot-id">Slot id</label>
        <input id="slot-id" name="id" required pattern="[A-Za-z0-9_\-]{1,64}" />
        <label for="slot-name">Name</label>
        <input id="slot-name" name="name" required />
        <label for="slot-default">Items shown by default</label>
        <input id="slot-default" name="defaultCount" type="number" min="1" max="50" value="1" />
        <label for="slot-max">At most</label>
        <input id="slot-max" name="maxCount" type="number" min="1" max="50" value="10" />
        <button type="submit">Add slot</button>
      </ActionForm>
    </section>
  );
}

export function ImportSection(props: { site: Shown; csrf: string }) {
  const q = `?site=${encodeURIComponent(props.site.id)}`;
  return (
    <section aria-labelledby="import-h" class="card">
      <h2 id="import-h">Catalogue</h2>
      <p>
        {num(props.site.items.active)} active items of {num(props.site.items.total)}. Import a CSV or a Google Merchant Center feed (RSS or
        Atom): you see the changes and every refused line before anything is applied.
      </p>
      <form method="post" action={`sites/import${q}`} enctype="multipart/form-data" class="stack">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="import-file">Feed file</label>
        <input id="import-file" name="feed" type="file" accept=".csv,.xml,.rss,.atom,text/csv,application/xml" required />
        <label for="import-mode">Items the file does not list</label>
        <select id="import-mode" name="mode">
          <option value="partial">stay as they are</option>
          <option value="full">are archived (the file is the whole catalogue)</option>
        </select>
        <button type="submit">Preview import</button>
      </form>
    </section>
  );
}

/** An import's preview (or its result): the diff, the refused rows by line, and the button that applies it. */
export function ImportPreview(props: { site: string; result: ImportResult; stash?: string; csrf: string }) {
  const { result } = props;
  return (
    <section aria-labelledby="preview-h" class="card" data-import={result.dryRun ? "preview" : "applied"}>
      <h2 id="preview-h">{result.dryRun ? "Import preview: nothing is applied yet" : "Import applied"}</h2>
      <ul class="diff">
        <li data-count="added">{num(result.added.length)} added</li>
        <li data-count="changed">{num(result.changed.length)} changed</li>
        <li data-count="unchanged">{num(result.unchanged)} unchanged</li>
        <li data-count="archived">{num(result.archived.length)} archived</li>
        <li data-count="refused">{num(result.refused.length)} refused</li>
      </ul>
      {result.refused.length ? (
        <DataTable
          id="refused"
          caption="Refused rows"
          rows={result.refused.slice(0, 500)}
          columns={[
            { header: "line", rowHeader: true, cell: (r) => String(r.line) },
            { header: "id", cell: (r) => r.id ?? "–" },
            { header: "reason", cell: (r) => r.reason },
          ]}
        />
      ) : (
        <Empty>No refused rows.</Empty>
      )}
      {props.stash ? (
        <ActionForm action={`sites/import/apply?site=${encodeURIComponent(props.site)}`} csrf={props.csrf}>
          <input type="hidden" name="stash" value={props.stash} />
          <button type="submit">Apply this import</button>
        </ActionForm>
      ) : null}
    </section>
  );
}
