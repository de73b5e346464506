/**
 * The key type every trace reader returns, and the rule that picks it.
 *
 * A key that is an integer within `Number.MAX_SAFE_INTEGER` is a `number`; anything else (a
 * 64-bit id beyond 2^53, a URI) is a `string`, for integers their decimal text. The rule depends
 * only on the key's value, so a key has the same representation wherever it occurs in a trace,
 * and every cache under test is fed the very same array.
 */
export type TraceKey = number | string;

/** The key for the decimal integer text `text` (a number when it is a safe integer, else the text). */
export function integerKey(text: string): TraceKey {
  const n = Number(text);
  return Number.isSafeInteger(n) && String(n) === text ? n : text;
}

/** The key for a 64-bit integer read as a bigint. */
export function bigintKey(value: bigint): TraceKey {
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value.toString();
}

/** Splits gunzipped text into lines, dropping a trailing `\r` and empty lines. */
export function textLines(text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > 0) out.push(line);
  }
  return out;
}
