/**
 * The commit a benchmark measured, and which files under src/ and cli/ were uncommitted then, so
 * every result file says exactly what code produced it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
