/**
 * Reader of the Scarab Research recommendation trace (caffeine issue #106, as re-packed in
 * ../shared/traces): gzipped binary, big-endian signed 64-bit keys back to back.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { bigintKey, type TraceKey } from './trace-key.js';

/**
 * @param path a gzipped `.i64be` file
 * @returns the keys in order: a number when within +-(2^53 - 1), else the decimal string
 *   ({@link bigintKey}), so equal ids always map to equal keys
 * @throws Error when the length is not a multiple of 8
 */
export function readScarabTrace(path: string): TraceKey[] {
  const data = gunzipSync(readFileSync(path));
  if (data.length % 8 !== 0) throw new Error(`${path}: ${data.length} bytes is not a whole number of int64 keys`);
  const keys: TraceKey[] = new Array(data.length / 8);
  for (let i = 0, offset = 0; offset < data.length; i++, offset += 8) keys[i] = bigintKey(data.readBigInt64BE(offset));
  return keys;
}
