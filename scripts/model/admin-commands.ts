/**
 * The everyday model commands through a running worker's admin API (/v1/admin/models): one HTTP
 * request each, so they answer in about a second where a wrangler call starts a runtime. The worker
 * plans every step with its own rules (worker/models/lifecycle.ts), audits it, and serves it at once
 * on the isolate that answered (worker/models/registry-store.ts drops its cached serving config).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ServingConfig } from "../../worker/models/config";
import type { RegistryRow, RowChange } from "../../worker/models/lifecycle";
import { type AdminTarget, adminRequest, CliError, isLocalUrl, TAKES_EFFECT } from "../admin-client";

type Listed = RegistryRow & { sizeBytes: number | null; createdAt: number };

/** When the change serves: a local worker is one isolate, so at once; a deployed one has many. */
export function whenEffective(target: AdminTarget): string {
  return isLocalUrl(target.url) ? "effective now (a local worker is one isolate)" : `the change ${TAKES_EFFECT}`;
}

const describeServing = (serving: ServingConfig | null) =>
  serving === null
    ? "(none published: the bundled model serves)"
    : [
        `live ${serving.live?.version ?? "none"}`,
        ...(serving.canary ? [`canary ${serving.canary.version} (${serving.canary.share})`] : []),
        ...(serving.previous ? [`rollback target ${serving.previous.version}`] : []),
        ...(serving.shadows.length ? [`shadows ${serving.shadows.map((s) => s.version).join(", ")}`] : []),
        `kill switch ${serving.killSwitch ? "ON (editor defaults)" : "off"}`,
      ].join("; ");

function printChanges(target: AdminTarget, answer: { changes: RowChange[]; serving: ServingConfig }) {
  for (const c of answer.changes) console.log(`  ${c.version}: ${c.status}${c.status === "canary" ? ` (${c.trafficShare})` : ""}`);
  console.log(`serving: ${describeServing(answer.serving)}`);
  console.log(whenEffective(target));
}

export async function list(target: AdminTarget): Promise<void> {
  const { versions, serving } = await adminRequest<{ versions: Listed[]; serving: ServingConfig | null }>(target, "GET", "/models");
  for (const r of versions) {
    const share = r.status === "canary" ? ` share=${r.trafficShare}` : "";
    const promoted = r.promotedAt ? ` promoted=${new Date(r.promotedAt).toISOString()}` : "";
    console.log(`${r.version.padEnd(24)} ${r.status.padEnd(8)} ${r.storage.padEnd(7)}${share}${promoted}`);
  }
  console.log(`serving: ${describeServing(serving)}`);
  console.log(`serving config: ${JSON.stringify(serving)}`);
}

/** Uploads DIR's manifest and model; the worker validates them (sha256, a scoring run) before it stores anything. */
export async function push(target: AdminTarget, dir: string, status: "shadow" | "canary", share: number): Promise<void> {
  const manifestText = readFileSync(join(dir, "manifest.json"), "utf8");
  let manifest: { version?: unknown; file?: unknown };
  try {
    manifest = JSON.parse(manifestText) as typeof manifest;
  } catch {
    throw new CliError(`${join(dir, "manifest.json")} is not valid JSON`);
  }
  if (typeof manifest.version !== "string") throw new CliError(`${join(dir, "manifest.json")} names no version`);
  const file = typeof manifest.file === "string" ? manifest.file : "model.onnx";
  const bytes = readFileSync(join(dir, file));
  const form = new FormData();
  form.set("manifest", manifestText);
  form.set("model", new File([new Uint8Array(bytes)], file, { type: "application/octet-stream" }));
  form.set("status", status);
  form.set("share", String(share));
  // `npm run segments`' file for these bytes, when there is one: the worker checks it against the model.
  const segments = join(dir, "segments.json");
  if (existsSync(segments)) form.set("segments", readFileSync(segments, "utf8"));
  const answer = await adminRequest<{ version: RegistryRow; serving: ServingConfig }>(
    target,
    "PUT",
    `/models/${encodeURIComponent(manifest.version)}`,
    { form },
  );
  const row = answer.version;
  console.log(
    `pushed ${row.version} as ${row.status}${row.status === "canary" ? ` (${row.trafficShare})` : ""} (${bytes.byteLength} bytes)`,
  );
  console.log(`serving: ${describeServing(answer.serving)}`);
  console.log(whenEffective(target));
}

export async function lifecycle(
  target: AdminTarget,
  step: { kind: "promote" | "retire"; version: string } | { kind: "canary"; version: string; share: number } | { kind: "rollback" },
): Promise<void> {
  const path = step.kind === "rollback" ? "/models/rollback" : `/models/${encodeURIComponent(step.version)}/${step.kind}`;
  const body = step.kind === "canary" ? { json: { share: step.share } } : undefined;
  printChanges(target, await adminRequest(target, "POST", path, body));
}

export async function killSwitch(target: AdminTarget, on: boolean): Promise<void> {
  const { serving } = await adminRequest<{ serving: ServingConfig }>(target, "POST", "/models/kill-switch", { json: { on } });
  console.log(`kill switch ${on ? "on" : "off"}`);
  console.log(`serving: ${describeServing(serving)}`);
  console.log(whenEffective(target));
}
