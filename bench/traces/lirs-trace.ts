/**
 * Reader of the LIRS traces (Jiang & Zhang, SIGMETRICS'02; `gli` is their glimpse trace): gzipped
 * text, one integer key per line; a line `*` is a marker and is skipped.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { integerKey, textLines, type TraceKey } from './trace-key.js';

/**
 * @param path a gzipped `.trace` file
 * @returns the keys in order (numbers, or the text of an integer beyond 2^53)
 * @throws Error on a line that is neither `*` nor an integer
 */
export function readLirsTrace(path: string): TraceKey[] {
  const keys: TraceKey[] = [];
  const lines = textLines(gunzipSync(readFileSync(path)).toString('latin1'));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '*') continue;
    if (!/^-?\d+$/.test(line)) throw new Error(`${path}:${i + 1}: expected an integer or "*", got ${JSON.stringify(line)}`);
    keys.push(integerKey(line));
  }
  return keys;
}
