/**
 * The traces of ../shared/traces (see its README), their readers and the cache sizes at which the
 * README gives reference hit ratios. Decoded key arrays are kept in memory for the run only.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readArcTrace } from './arc-trace.js';
import { readIbmDockerTrace } from './ibm-docker-trace.js';
import { readLirsTrace } from './lirs-trace.js';
import { readScarabTrace } from './scarab-trace.js';
import type { TraceKey } from './trace-key.js';

/** One cache size of a trace, with the README's `lru-cache` hit ratio (%) there. */
export interface TraceSize {
  /** Short label, e.g. `1868 (1%)`. */
  label: string;
  /** Cache capacity in entries; computed from the trace when given as a share of its unique keys. */
  entries: number;
  /** README's lru-cache hit ratio at this size, in %. */
  referenceLru: number;
  /** Part of `--quick`. */
  quick: boolean;
}

export interface TraceSpec {
  /** Name used in tables, e.g. `OLTP`. */
  name: string;
  file: string;
  read: (file: string) => TraceKey[];
  /** The sizes to replay at; `uniqueKeys` is counted from the decoded trace. */
  sizes: (uniqueKeys: number) => TraceSize[];
}

const fixed = (entries: number, referenceLru: number, quick: boolean, note = ''): TraceSize => ({
  label: note ? `${entries} (${note})` : String(entries),
  entries,
  referenceLru,
  quick,
});

/** Every trace, in the README's order. */
export const TRACES: readonly TraceSpec[] = [
  {
    name: 'OLTP',
    file: 'arc-OLTP.lis.gz',
    read: readArcTrace,
    sizes: () => [
      fixed(1000, 32.83, false),
      fixed(2000, 42.47, false),
      fixed(5000, 53.65, false),
      fixed(1868, 41.63, true, '1%'),
      fixed(5606, 54.98, false, '3%'),
      fixed(18688, 66.52, true, '10%'),
    ],
  },
  { name: 'scarab', file: 'scarab-recs.i64be.gz', read: readScarabTrace, sizes: () => [fixed(100_000, 75.91, false)] },
  {
    name: 'gli',
    file: 'lirs-gli.trace.gz',
    read: readLirsTrace,
    sizes: () => [fixed(250, 0.91, true), fixed(1000, 11.21, true), fixed(2000, 57.41, true)],
  },
  {
    name: 'ibm-docker',
    file: 'ibm-docker-725k.txt.gz',
    read: readIbmDockerTrace,
    sizes: (unique) => [
      fixed(Math.round(unique * 0.01), 75.62, false, '1%'),
      fixed(Math.round(unique * 0.05), 80.81, true, '5%'),
      fixed(Math.round(unique * 0.1), 82.09, false, '10%'),
    ],
  },
];

/**
 * The traces directory: `../shared/traces` relative to the repository root (this file is
 * compiled to dist/bench/traces/, three levels below the root).
 * @throws Error naming the path when it or one of the trace files is missing
 */
export function tracesDir(): string {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const dir = path.resolve(root, '..', 'shared', 'traces');
  const missing = TRACES.map((t) => t.file).filter((file) => !existsSync(path.join(dir, file)));
  if (!existsSync(dir) || missing.length > 0) {
    throw new Error(
      `trace files not found: expected ${missing.length > 0 ? missing.join(', ') : 'the directory'} in ${dir} ` +
        '(the traces live beside the repository as ../shared/traces; see the README there)',
    );
  }
  return dir;
}

/** A decoded trace and the number of distinct keys in it. */
export interface LoadedTrace {
  keys: TraceKey[];
  uniqueKeys: number;
  /** How many keys are strings (numbers otherwise). */
  stringKeys: number;
  decodeMs: number;
}

const loaded = new Map<string, LoadedTrace>();

/** Decodes `spec`'s file once per run; later calls return the same arrays. */
export function loadTrace(spec: TraceSpec, dir: string): LoadedTrace {
  const cached = loaded.get(spec.file);
  if (cached) return cached;
  const started = performance.now();
  const keys = spec.read(path.join(dir, spec.file));
  const decodeMs = performance.now() - started;
  let stringKeys = 0;
  for (let i = 0; i < keys.length; i++) if (typeof keys[i] === 'string') stringKeys++;
  const trace = { keys, uniqueKeys: new Set(keys).size, stringKeys, decodeMs };
  loaded.set(spec.file, trace);
  return trace;
}
