/**
 * The model lifecycle from a terminal:
 *
 *   npm run model -- list|push|canary|promote|rollback|retire|kill … [--url URL] [--token TOKEN]
 *   npm run model -- register-bundled|move-to-r2 [--local [--persist-to DIR]] [--env NAME]
 *
 * The everyday commands ask a running worker's admin API (local by default, `npm start`; or
 * `--url`/`EP_URL` with `--token`/`EP_ADMIN_TOKEN`) and answer in about a second; the worker applies
 * its own rules (worker/models/lifecycle.ts), so the API, the console and this script cannot
 * disagree. The two install steps run through wrangler, where no worker may be serving yet.
 */
import { parseArgs } from "node:util";
import { adminTarget, CliError } from "./admin-client";
import { killSwitch, lifecycle, list, push } from "./model/admin-commands";
import { moveToR2, registerBundled } from "./model/install";
import type { Target } from "./wrangler";

const USAGE = `usage: npm run model -- <command> [--url URL] [--token TOKEN]
  list                                   versions, their status and what serves
  push DIR [--status shadow|canary] [--share S]
                                         upload DIR/manifest.json + model (+ DIR/segments.json); the worker validates and registers it (default shadow)
  canary VERSION --share S               serve VERSION to a sticky share S (0 < S <= 1) of visitors
  promote VERSION                        make VERSION live (the version it replaces stays the rollback target)
  rollback                               return to the version that was live before
  retire VERSION                         stop a shadow or canary
  kill on|off                            serve editor defaults at once / serve models again
These ask the worker at --url (EP_URL, default http://127.0.0.1:8787: npm start) with --token
(EP_ADMIN_TOKEN; for a local worker, .dev.vars).

Install steps, through wrangler (no worker needed): [--local [--persist-to DIR]] [--env staging|production]
  register-bundled                       register the bundled default model (live when none is)
  move-to-r2                             copy versions pushed to KV by older releases to R2
Without --local, wrangler acts on the real account.`;

function required(value: string | undefined, what: string): string {
  if (!value) throw new CliError(`${what} is required\n${USAGE}`);
  return value;
}

function shareOf(value: string | undefined, fallback?: number): number {
  const share = value === undefined ? fallback : Number(value);
  if (share === undefined || !Number.isFinite(share)) throw new CliError(`--share takes a number in (0, 1]\n${USAGE}`);
  return share;
}

async function main(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      local: { type: "boolean", default: false },
      env: { type: "string" },
      "persist-to": { type: "string" },
      status: { type: "string", default: "shadow" },
      share: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return;
  }
  const install: Target = { remote: !values.local, env: values.env, persistTo: values["persist-to"] };
  if (command === "register-bundled") return registerBundled(install);
  if (command === "move-to-r2") return moveToR2(install);

  const target = adminTarget(values);
  switch (command) {
    case "list":
      return list(target);
    case "push": {
      if (values.status !== "shadow" && values.status !== "canary") throw new CliError(`--status is shadow or canary\n${USAGE}`);
      return push(target, required(arg, "the model directory"), values.status, shareOf(values.share, 0.05));
    }
    case "canary":
      return lifecycle(target, { kind: "canary", version: required(arg, "VERSION"), share: shareOf(values.share) });
    case "promote":
    case "retire":
      return lifecycle(target, { kind: command, version: required(arg, "VERSION") });
    case "rollback":
      return lifecycle(target, { kind: "rollback" });
    case "kill": {
      if (arg !== "on" && arg !== "off") throw new CliError(`kill takes on or off\n${USAGE}`);
      return killSwitch(target, arg === "on");
    }
    default:
      throw new CliError(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? `model: ${err.message}` : err);
  process.exit(1);
});
