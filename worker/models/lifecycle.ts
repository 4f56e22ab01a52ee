import { ApiError } from "../lib/errors";
import type { ModelStatus, ModelStorage } from "../store/schema";
import { MAX_SHADOWS, type ServedVersion, type ServingConfig } from "./config";

/**
 * The model lifecycle as pure planning over the registry's rows. What it allows:
 *
 *   push → shadow or canary;  shadow ⇄ canary (share);  shadow or canary → live (promote) or retired;
 *   live → retired when another version is promoted (it becomes the rollback target) or rolled back.
 *
 * A retired version never serves again by promotion: the one that was live just before the current
 * one comes back only through Rollback, and any other old version is pushed again under a new
 * version name (versions are immutable). The admin endpoints, `npm run model` and the console's
 * buttons all plan with these functions, so the rules are written once.
 */

export type RegistryRow = {
  version: string;
  sha256: string;
  status: ModelStatus;
  trafficShare: number;
  storage: ModelStorage;
  promotedAt: number | null;
};

/** The new values of one row. */
export type RowChange = Pick<RegistryRow, "version" | "status" | "trafficShare" | "promotedAt">;

export type PushRequest = { version: string; sha256: string; storage: ModelStorage; status: "shadow" | "canary"; share: number };

const conflict = (message: string) => new ApiError(409, "lifecycle_conflict", message);

function find(rows: readonly RegistryRow[], version: string): RegistryRow {
  const row = rows.find((r) => r.version === version);
  if (!row) throw new ApiError(404, "unknown_model_version", `no model version "${version}"`, "version");
  return row;
}

const live = (rows: readonly RegistryRow[]) => rows.find((r) => r.status === "live") ?? null;

/** The version that was live before the current one: the rollback target. */
export function previousLive(rows: readonly RegistryRow[]): RegistryRow | null {
  const current = live(rows);
  const candidates = rows.filter(
    (r) => r.status === "retired" && r.promotedAt !== null && (current?.promotedAt == null || r.promotedAt < current.promotedAt),
  );
  return candidates.reduce<RegistryRow | null>((best, r) => (best && (best.promotedAt ?? 0) >= (r.promotedAt ?? 0) ? best : r), null);
}

export function validShare(share: number): number {
  if (!Number.isFinite(share) || share <= 0 || share > 1) {
    throw new ApiError(400, "invalid_share", `a canary share is in (0, 1], got ${share}`, "share");
  }
  return share;
}

/** The row a push inserts, after checking that it fits beside the versions already there. */
export function planPush(rows: readonly RegistryRow[], push: PushRequest): RegistryRow {
  if (rows.some((r) => r.version === push.version)) throw conflict(`model version "${push.version}" exists; versions are immutable`);
  if (push.status === "canary") {
    validShare(push.share);
    const canary = rows.find((r) => r.status === "canary");
    if (canary) throw conflict(`"${canary.version}" is already the canary: promote or retire it first`);
  }
  if (push.status === "shadow" && rows.filter((r) => r.status === "shadow").length >= MAX_SHADOWS) {
    throw conflict(`at most ${MAX_SHADOWS} shadow versions: retire one first`);
  }
  return {
    version: push.version,
    sha256: push.sha256,
    storage: push.storage,
    status: push.status,
    trafficShare: push.status === "canary" ? push.share : 0,
    promotedAt: null,
  };
}

/** What a person may do with a version now; the console shows exactly these buttons. */
export type VersionAction = "promote" | "retire";

export function allowedActions(row: Pick<RegistryRow, "status">): VersionAction[] {
  return row.status === "shadow" || row.status === "canary" ? ["promote", "retire"] : [];
}

/** The stage to show: a retired version that Rollback would bring back is the rollback target. */
export function stageOf(row: RegistryRow, rows: readonly RegistryRow[]): ModelStatus | "rollback target" {
  return row.status === "retired" && previousLive(rows)?.version === row.version ? "rollback target" : row.status;
}

/** Makes a candidate (shadow or canary) live; the version it replaces becomes the rollback target. */
export function planPromote(rows: readonly RegistryRow[], version: string, now: number): RowChange[] {
  const target = find(rows, version);
  if (target.status === "live") throw conflict(`"${version}" is already live`);
  if (!allowedActions(target).includes("promote")) {
    throw conflict(`"${version}" is retired: it serves again only as the rollback target (Roll back), or pushed again under a new version`);
  }
  const current = live(rows);
  return [
    ...(current
      ? [{ version: current.version, status: "retired" as const, trafficShare: 0, promotedAt: current.promotedAt ?? now - 1 }]
      : []),
    { version, status: "live", trafficShare: 0, promotedAt: now },
  ];
}

/** Returns to the version that was live before; the rolled-back one is never a target again. */
export function planRollback(rows: readonly RegistryRow[]): RowChange[] {
  const current = live(rows);
  if (!current) throw conflict("no live version to roll back");
  const previous = previousLive(rows);
  if (!previous) throw conflict(`no version was live before "${current.version}"`);
  return [
    { version: current.version, status: "retired", trafficShare: 0, promotedAt: null },
    { version: previous.version, status: "live", trafficShare: 0, promotedAt: previous.promotedAt },
  ];
}

export function planRetire(rows: readonly RegistryRow[], version: string): RowChange[] {
  const target = find(rows, version);
  if (target.status === "live") throw conflict(`"${version}" is live: promote another version or roll back first`);
  if (target.status === "retired") throw conflict(`"${version}" is already retired`);
  return [{ version, status: "retired", trafficShare: 0, promotedAt: target.promotedAt }];
}

/** Turns a shadow into the canary, or changes the canary's share. */
export function planCanary(rows: readonly RegistryRow[], version: string, share: number): RowChange[] {
  const target = find(rows, version);
  validShare(share);
  if (target.status !== "shadow" && target.status !== "canary") throw conflict(`"${version}" is ${target.status}, not a candidate`);
  const other = rows.find((r) => r.status === "canary" && r.version !== version);
  if (other) throw conflict(`"${other.version}" is already the canary: promote or retire it first`);
  return [{ version, status: "canary", trafficShare: share, promotedAt: target.promotedAt }];
}

export function withChanges(rows: readonly RegistryRow[], changes: readonly RowChange[]): RegistryRow[] {
  return rows.map((row) => {
    const change = changes.find((c) => c.version === row.version);
    return change ? { ...row, ...change } : row;
  });
}

const served = (row: RegistryRow): ServedVersion => ({ version: row.version, sha256: row.sha256, storage: row.storage });

/** The serving config (KV) that the registry's rows describe. */
export function servingConfigOf(rows: readonly RegistryRow[], killSwitch: boolean, now: number): ServingConfig {
  const current = live(rows);
  const previous = previousLive(rows);
  const canary = rows.find((r) => r.status === "canary");
  return {
    live: current ? served(current) : null,
    previous: previous ? served(previous) : null,
    canary: canary ? { ...served(canary), share: canary.trafficShare } : null,
    shadows: rows.filter((r) => r.status === "shadow").map(served),
    killSwitch,
    updatedAt: now,
  };
}
