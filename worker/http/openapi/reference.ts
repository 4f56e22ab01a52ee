import type { OpenApiDocument } from "./document";

/**
 * The document as one self-contained HTML page: every operation under its tag, with its
 * parameters and its request and response schemas. No script and no CDN, so that it works offline
 * and under the strictest content security policy; /openapi.json is the machine-readable twin.
 */

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const schemaBlock = (label: string, schema: unknown) =>
  `<details><summary>${escapeHtml(label)}</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`;

type Op = OpenApiDocument["paths"][string][string];

function operationHtml(method: string, path: string, op: Op): string {
  const params = op.parameters.length
    ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>${op.parameters
        .map(
          (p) =>
            `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${p.in}</td><td>${p.required ? "yes" : ""}</td><td><code>${escapeHtml(JSON.stringify(p.schema))}</code></td></tr>`,
        )
        .join("")}</table>`
    : "";
  const body =
    "requestBody" in op && op.requestBody
      ? Object.entries(op.requestBody.content)
          .map(([type, { schema }]) => schemaBlock(`request body (${type})`, schema))
          .join("")
      : "";
  const responses = Object.entries(op.responses)
    .map(([status, response]) => {
      const content = "content" in response && response.content ? Object.entries(response.content) : [];
      const typed = content.map(([type, media]) =>
        "schema" in media ? schemaBlock(`${status} ${type}`, media.schema) : `<p>${status} ${escapeHtml(type)}</p>`,
      );
      return typed.length ? typed.join("") : `<p>${status}: ${escapeHtml(response.description)}</p>`;
    })
    .join("");
  const auth = op.security.length ? ` <small>(${op.security.flatMap((s) => Object.keys(s)).join(", ")})</small>` : "";
  return `<section id="${escapeHtml(op.operationId)}"><h3><span class="m">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code>${auth}</h3><p>${escapeHtml(op.summary)}</p>${
    "description" in op && op.description ? `<p>${escapeHtml(op.description)}</p>` : ""
  }${params}${body}${responses}</section>`;
}

export function referencePage(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags[0] ?? "other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), operationHtml(method, path, op)]);
    }
  const toc = [...byTag.keys()]
    .map((tag) => `<li><a href="#tag-${escapeHtml(tag.replace(/\W+/g, "-"))}">${escapeHtml(tag)}</a></li>`)
    .join("");
  const sections = [...byTag]
    .map(([tag, ops]) => `<h2 id="tag-${escapeHtml(tag.replace(/\W+/g, "-"))}">${escapeHtml(tag)}</h2>${ops.join("")}`)
    .join("");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(doc.info.title)} API reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}section{border-top:1px solid #ddd;padding:.5rem 0}
.m{font-family:monospace;background:#eef;padding:0 .3rem}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:13px}</style></head><body>
<h1>${escapeHtml(doc.info.title)} API reference</h1><p>${escapeHtml(doc.info.description)}</p>
<p>OpenAPI ${doc.openapi}: <a href="openapi.json">openapi.json</a>. Errors are always <code>{ "error": { "code", "message", "field"? } }</code>.</p>
<ul>${toc}</ul>${sections}</body></html>`;
}
