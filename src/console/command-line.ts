/**
 * Reading one console command line: the tokenizer, and the decoding of a VALUE argument.
 *
 * Tokens are separated by whitespace, as in redis-cli (`sdssplitargs`), with three ways to keep
 * spaces inside one argument:
 *
 * | form                | example                    | token                    |
 * |---------------------|----------------------------|--------------------------|
 * | double quotes       | `"a b\n\"c\""`             | `a b` newline `"c"`      |
 * | single quotes       | `'a "b" c'`                | `a "b" c`                |
 * | balanced JSON       | `{"a": 1, "b": [1, 2]}`    | `{"a": 1, "b": [1, 2]}`  |
 *
 * - Inside double quotes a backslash escapes: `\n \r \t \b \f \0 \\ \" \' \xHH \uHHHH`; any other
 *   `\c` is `c`. Inside single quotes only `\'` is an escape; everything else is literal.
 * - Quoted parts and bare text next to each other form one token, as in a shell: `a"b c"` is `ab c`.
 * - A token that STARTS with `{` or `[` runs to its matching bracket, whitespace included, so a
 *   JSON object or array needs no quoting. Brackets inside JSON strings (`"..."`, backslash
 *   escapes) do not count. Inside, quotes are kept verbatim (it is JSON text, decoded later). When
 *   the brackets never balance, the token is an ordinary word ending at whitespace (so `{oops`
 *   is the word `{oops`).
 * - A quote that is never closed is an error (`BAD_REQUEST`).
 */
import { CacheError } from '../errors.js';
import type { ParsedCommand } from './console-types.js';

/** Characters that separate tokens. */
const WHITESPACE = /\s/;

/**
 * Parses one command line into its lower-cased command name and raw arguments.
 * @returns undefined for an empty or blank line
 * @throws CacheError BAD_REQUEST when a quote is never closed (the message names it and its column)
 * @example parseCommandLine('SET k {"a": 1}') // {name: 'set', args: ['k', '{"a": 1}'], line: 'SET k {"a": 1}'}
 */
export function parseCommandLine(line: string): ParsedCommand | undefined {
  const tokens = tokenize(line);
  if (tokens.length === 0) return undefined;
  return { name: tokens[0]!.toLowerCase(), args: tokens.slice(1), line };
}

/**
 * Splits a line into tokens by the rules of this module's header.
 * @returns the tokens, quotes removed and escapes decoded; [] for a blank line
 * @throws CacheError BAD_REQUEST for an unclosed quote
 */
export function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && WHITESPACE.test(line[i]!)) i++;
    if (i >= n) break;
    let token = '';
    const first = line[i]!;
    if (first === '{' || first === '[') {
      const end = balancedEnd(line, i);
      if (end !== undefined) {
        token = line.slice(i, end);
        i = end;
      }
    }
    while (i < n && !WHITESPACE.test(line[i]!)) {
      const c = line[i]!;
      if (c === '"') {
        const [text, next] = readDoubleQuoted(line, i);
        token += text;
        i = next;
      } else if (c === "'") {
        const [text, next] = readSingleQuoted(line, i);
        token += text;
        i = next;
      } else {
        token += c;
        i++;
      }
    }
    tokens.push(token);
  }
  return tokens;
}

/**
 * Decodes a VALUE argument: the JSON value when the text is JSON (`42`, `true`, `null`,
 * `"42"`, `{"a":1}`), else the text itself as a string (`hello`, `{oops`). A number JSON cannot
 * carry exactly stays text: one that overflows to Infinity (`1e400`), and an integer beyond
 * 2^53 (`12345678901234567890`, an id more likely than a count).
 * @example parseValue('42') // 42
 * @example parseValue('"42"') // '42'
 * @example parseValue('hello') // 'hello'
 */
export function parseValue(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return text;
    if (/^\s*-?\d+\s*$/.test(text) && !Number.isSafeInteger(value)) return text;
  }
  return value;
}

/**
 * Index just past the bracket closing the one at `start`, or undefined when the line ends first.
 * Counts `{`/`[` up and `}`/`]` down outside JSON strings; which kind closes which is JSON.parse's
 * business later.
 */
function balancedEnd(line: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < line.length; i++) {
    const c = line[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '0': '\0' };

/** Reads `"..."` starting at the quote at `start`. @returns [decoded text, index past the closing quote] */
function readDoubleQuoted(line: string, start: number): [string, number] {
  let text = '';
  let i = start + 1;
  while (i < line.length) {
    const c = line[i]!;
    if (c === '"') return [text, i + 1];
    if (c !== '\\' || i + 1 >= line.length) {
      text += c;
      i++;
      continue;
    }
    const e = line[i + 1]!;
    const hex = e === 'x' ? line.slice(i + 2, i + 4) : e === 'u' ? line.slice(i + 2, i + 6) : '';
    if ((e === 'x' && /^[0-9a-fA-F]{2}$/.test(hex)) || (e === 'u' && /^[0-9a-fA-F]{4}$/.test(hex))) {
      text += String.fromCharCode(parseInt(hex, 16));
      i += 2 + hex.length;
    } else {
      text += SIMPLE_ESCAPES[e] ?? e;
      i += 2;
    }
  }
  throw unclosed('"', start);
}

/** Reads `'...'` starting at the quote at `start`; `\'` is the only escape. */
function readSingleQuoted(line: string, start: number): [string, number] {
  let text = '';
  let i = start + 1;
  while (i < line.length) {
    const c = line[i]!;
    if (c === "'") return [text, i + 1];
    if (c === '\\' && line[i + 1] === "'") {
      text += "'";
      i += 2;
    } else {
      text += c;
      i++;
    }
  }
  throw unclosed("'", start);
}

function unclosed(quote: string, index: number): CacheError {
  return new CacheError('BAD_REQUEST', `unbalanced quotes: the ${quote} at column ${index + 1} is never closed`);
}
