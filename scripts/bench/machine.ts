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
function processTreeJiffies(root: number): number {
  const stats = new Map<number, { ppid: number; jiffies: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const text = readText(`/proc/${entry}/stat`);
    if (!text) continue;
    // The command name (field 2) may contain spaces: fields are counted after its closing parenthesis.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    stats.set(Number(entry), {
      ppid: Number(fields[1]),
      jiffies: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
    });
  }
  let total = 0;
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    total += stats.get(pid)?.jiffies ?? 0;
    for (const [child, stat] of stats) if (stat.ppid === pid) pending.push(child);
  }
  return total;
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
