/**
 * Linux /proc readings: per-process CPU time (all threads: libuv pool, GC helpers and all), memory
 * high-water marks, and whole-machine busy time. Every reader returns undefined rather than throwing,
 * so a missing /proc (or a process that just exited) costs a column, not the run.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: 100 on every mainstream Linux build; Node exposes no sysconf to read it. */
const CLOCK_TICKS_PER_SEC = 100;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** user + system CPU seconds of a process, all its threads included. */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is index 0, so utime (14) and stime (15) are indexes 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / CLOCK_TICKS_PER_SEC;
}

export interface MemoryKb {
  /** VmHWM: peak resident set size since the process started. */
  peakRssKb: number;
  rssKb: number;
}

export function processMemory(pid: number): MemoryKb | undefined {
  const status = read(`/proc/${pid}/status`);
  if (status === undefined) return undefined;
  const field = (name: string): number | undefined => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  };
  const peak = field('VmHWM');
  const rss = field('VmRSS');
  if (peak === undefined || rss === undefined) return undefined;
  return { peakRssKb: peak, rssKb: rss };
}

/** First process whose command name is one of `names` (e.g. the MariaDB server), or undefined. */
export function findPidByName(names: readonly string[]): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = read(`/proc/${entry}/comm`)?.trim();
    if (comm !== undefined && names.includes(comm)) return Number(entry);
  }
  return undefined;
}

/** Busy CPU seconds of the whole machine, summed over cores (idle and iowait excluded). */
export function machineBusySeconds(): number | undefined {
  const line = read('/proc/stat')?.split('\n')[0];
  if (line === undefined || !line.startsWith('cpu ')) return undefined;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest times are already inside user/nice).
  const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + (Number.isFinite(t) ? t : 0)), 0);
  return busy / CLOCK_TICKS_PER_SEC;
}

/** Cores the machine keeps busy over `ms`, this process excluded (it sleeps meanwhile anyway). */
export async function machineBusyCores(ms: number): Promise<number | undefined> {
  const a = machineBusySeconds();
  const selfA = processCpuSeconds(process.pid);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = machineBusySeconds();
  const selfB = processCpuSeconds(process.pid);
  if (a === undefined || b === undefined) return undefined;
  return Math.max(0, b - a - ((selfB ?? 0) - (selfA ?? 0))) / (ms / 1000);
}
