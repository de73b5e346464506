/**
 * What every benchmark script shares: the run clock and progress lines on stderr, sections that
 * record their failure instead of ending the run, and the description of the machine and code
 * measured (so every result file says exactly what produced it).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

/** When this benchmark process started (performance.now() ms); every progress line is relative to it. */
export const benchStart = performance.now();

/** Writes `[  12.3 s] message` to stderr. */
export function progress(message: string): void {
  process.stderr.write(`[${((performance.now() - benchStart) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

/** `{commit, uncommitted}`: the short HEAD hash (undefined outside git) and changed src/cli paths. */
export function gitState(): { commit: string | undefined; uncommitted: string[] } {
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: fileURLToPath(new URL('../../', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', '--short', 'HEAD').trim();
    const uncommitted = git('status', '--porcelain', '--', 'src', 'cli')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.slice(3));
    return { commit, uncommitted };
  } catch {
    return { commit: undefined, uncommitted: [] };
  }
}

/** The run's mode, start, duration (s, so far), Node version, machine and code (git state). */
export function runMeta(quick: boolean, startedAt: Date) {
  return {
    mode: quick ? 'quick' : 'full',
    startedAt: startedAt.toISOString(),
    durationS: Math.round((performance.now() - benchStart) / 100) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    ...gitState(),
  };
}

/**
 * Runs one section of a benchmark: logs its start and duration, and on failure records the
 * message in `errors[name]` and resolves undefined, so the other sections still run.
 * @param label what the progress lines call it (default: `name`)
 * @param interrupted true once the run was interrupted (Ctrl-C): the section is skipped
 */
export async function runSection<T>(
  name: string,
  body: () => T | Promise<T>,
  errors: Record<string, string>,
  options: { label?: string; interrupted: () => boolean },
): Promise<T | undefined> {
  if (options.interrupted()) return undefined;
  const label = options.label ?? name;
  progress(`${label}...`);
  const started = performance.now();
  try {
    const result = await body();
    progress(`${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (error) {
    errors[name] = error instanceof Error ? error.message : String(error);
    progress(`${label}: FAILED: ${errors[name]}`);
    return undefined;
  }
}

/**
 * A number at `path` in a free-form stats object (a peer's `stats` reply, parsed JSON); NaN when
 * any step is missing or the value is not a number.
 */
export function statAt(stats: unknown, ...path: string[]): number {
  let node: unknown = stats;
  for (const key of path) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return typeof node === 'number' ? node : Number.NaN;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Rejects with `<what>: not done within <ms> ms` unless `promise` settles first.
 * @param ms deadline in ms
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Runs a benchmark's `main` and sets the exit code from what it resolves with; when it throws,
 * prints the stack, runs `cleanup` (stop the processes it started) and exits 1.
 */
export function runMain(main: () => Promise<number>, cleanup?: () => unknown): void {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    async (error: unknown) => {
      progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      await cleanup?.();
      process.exitCode = 1;
    },
  );
}
