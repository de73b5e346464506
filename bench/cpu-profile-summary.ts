/**
 * The functions a V8 CPU profile (`node --cpu-prof`, the `.cpuprofile` JSON of the Chrome DevTools
 * protocol's `Profiler.Profile`: nodes with call frames, samples, time deltas in µs) spent the
 * most self time in, as a short list for a benchmark report. Idle time is left out of the shares.
 */
import { readFile } from 'node:fs/promises';

/** One line of the summary: self time of a function (all its nodes), share of the non-idle time. */
export interface ProfileHotspot {
  /** `name file:line` (file shortened to its last two path segments; `(anonymous)` for unnamed). */
  where: string;
  selfMs: number;
  share: number;
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Reads a `.cpuprofile` and returns its `top` functions by self time, plus the non-idle total.
 * @throws Error when the file cannot be read or is not a CPU profile
 */
export async function summarizeCpuProfile(path: string, top = 12): Promise<{ busyMs: number; hotspots: ProfileHotspot[] }> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples)) throw new Error(`${path} is not a V8 CPU profile`);
  const selfUsById = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUsById.set(id, (selfUsById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    const file = url ? url.split('/').slice(-2).join('/') : '';
    const where = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
    byFunction.set(where, (byFunction.get(where) ?? 0) + (selfUsById.get(node.id) ?? 0));
  }
  const busyUs = [...byFunction.values()].reduce((sum, us) => sum + us, 0);
  const hotspots = [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, us]) => ({ where, selfMs: Math.round(us / 100) / 10, share: busyUs > 0 ? Math.round((us / busyUs) * 1000) / 1000 : 0 }));
  return { busyMs: Math.round(busyUs / 1000), hotspots };
}
