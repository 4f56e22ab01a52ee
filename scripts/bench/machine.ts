import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/**
 * How busy the machine was with work other than this benchmark (its own process, workerd and the
 * load generator): the load generator and workerd share the same CPUs, so any other busy process
 * lowers every figure. Linux only (reads /proc); elsewhere the share is unknown.
 */
export type CpuSnapshot = { at: number; machineBusy: number; ours: number };

const readText = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
};

/** Busy jiffies of all CPUs: user + nice + system + irq + softirq + steal. */
function machineBusyJiffies(): number | undefined {
  const cpu = readText("/proc/stat")?.split("\n")[0]?.split(/\s+/).slice(1).map(Number);
  if (!cpu || cpu.length < 8) return undefined;
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
  return user + nice + system + irq + softirq + steal;
}

/**
 * utime + stime jiffies of this process and all its descendants (workerd, npx, wrangler, Chromium),
 * plus cutime + cstime: the time of descendants that have exited (Chromium's renderer of each page
 * load), which would otherwise count as another process's.
 */
function processStats(): Map<number, { ppid: number; command: string; jiffies: number }> {
  const stats = new Map<number, { ppid: number; command: string; jiffies: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const text = readText(`/proc/${entry}/stat`);
    if (!text) continue;
    // The command name (field 2) may contain spaces: fields are counted after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    stats.set(Number(entry), {
      ppid: Number(fields[1]),
      command: text.slice(text.indexOf("(") + 1, text.lastIndexOf(")")),
      jiffies: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
    });
  }
  return stats;
}

/** The process and its descendants, with their jiffies. */
function processTree(root: number): { pid: number; command: string; jiffies: number }[] {
  const stats = processStats();
  const tree: { pid: number; command: string; jiffies: number }[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    const stat = stats.get(pid);
    if (stat) tree.push({ pid, command: stat.command, jiffies: stat.jiffies });
    for (const [child, other] of stats) if (other.ppid === pid) pending.push(child);
  }
  return tree;
}

function processTreeJiffies(root: number): number {
  return processTree(root).reduce((sum, p) => sum + p.jiffies, 0);
}

const JIFFY_MS = 10; // USER_HZ is 100 on every Linux platform Node supports

/** CPU time (ms) used so far by this process's descendants named `command` (workerd), or undefined off Linux. */
export function descendantsCpuMs(command: string): number | undefined {
  if (!readText("/proc/stat")) return undefined;
  return processTree(process.pid)
    .filter((p) => p.pid !== process.pid && p.command === command)
    .reduce((sum, p) => sum + p.jiffies * JIFFY_MS, 0);
}

export function cpuSnapshot(): CpuSnapshot | undefined {
  const machineBusy = machineBusyJiffies();
  if (machineBusy === undefined) return undefined;
  return { at: performance.now(), machineBusy, ours: processTreeJiffies(process.pid) };
}

/** Share (0..1) of the machine's CPU capacity used by other processes between two snapshots. */
export function foreignCpuShare(before: CpuSnapshot | undefined, after: CpuSnapshot | undefined): number | undefined {
  if (!before || !after) return undefined;
  const JIFFIES_PER_S = 100; // USER_HZ, 100 on every Linux platform Node supports
  const capacity = ((after.at - before.at) / 1000) * JIFFIES_PER_S * availableParallelism();
  const foreign = after.machineBusy - before.machineBusy - (after.ours - before.ours);
  return capacity > 0 ? Math.max(0, foreign / capacity) : undefined;
}
