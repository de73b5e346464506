/**
 * Reader of the ARC traces (Megiddo & Modha, "ARC: A Self-Tuning, Low Overhead Replacement
 * Cache", FAST'03): gzipped text, one request per line `start n _ _`, which stands for the n
 * consecutive block numbers `start .. start+n-1`. The other two fields are ignored.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { integerKey, textLines, type TraceKey } from './trace-key.js';

/**
 * @param path a gzipped `.lis` file
 * @returns the requested keys in order (numbers: block numbers are below 2^53)
 * @throws Error on a line whose first two fields are not integers
 */
export function readArcTrace(path: string): TraceKey[] {
  const keys: TraceKey[] = [];
  const lines = textLines(gunzipSync(readFileSync(path)).toString('latin1'));
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i]!.trim().split(/\s+/);
    const start = integerKey(fields[0] ?? '');
    const count = Number(fields[1]);
    if (!Number.isSafeInteger(count) || count < 1 || (typeof start !== 'number' && count !== 1)) {
      throw new Error(`${path}:${i + 1}: expected "start n _ _", got ${JSON.stringify(lines[i])}`);
    }
    if (typeof start === 'string') {
      // Not an integer below 2^53: only n = 1 has a meaning we can keep exactly.
      if (!/^-?\d+$/.test(start)) throw new Error(`${path}:${i + 1}: start is not an integer: ${JSON.stringify(start)}`);
      keys.push(start);
      continue;
    }
    for (let k = 0; k < count; k++) keys.push(start + k);
  }
  return keys;
}
