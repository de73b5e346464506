/**
 * Reader of the IBM Docker registry trace (725k-request sample, from tstromberg/gocachemark):
 * gzipped text, one string key (a URI) per line.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { textLines, type TraceKey } from './trace-key.js';

/**
 * @param path a gzipped `.txt` file
 * @returns the keys in order, always strings (a URI is never read as a number, even when it
 *   looks like one, so the key space is the trace's own)
 */
export function readIbmDockerTrace(path: string): TraceKey[] {
  return textLines(gunzipSync(readFileSync(path)).toString('utf8'));
}
