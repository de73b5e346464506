/**
 * CPU time of another process, read from Linux's /proc/<pid>/stat (proc(5)): `utime` and `stime`
 * (fields 14 and 15, in clock ticks of `getconf CLK_TCK`, usually 100 per second, so the
 * resolution is 10 ms). The benchmark reads it right before and after a measured phase:
 * (after - before) / operations = the server's CPU time per operation.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * User + system CPU time of process `pid` so far, in ms (resolution one clock tick).
 * @throws Error when /proc/<pid>/stat cannot be read or parsed (no such process, not Linux)
 */
export function processCpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`cannot parse /proc/${pid}/stat`);
  return ((utime + stime) * 1000) / clockTicks();
}

/** The summed CPU ms of several processes (a cluster's peers, a forwarder and its back server). */
export function totalCpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
}
