import { describe, expect, it } from 'vitest';
import { parseCommandLine, parseValue, tokenize } from '../../../src/console/command-line.js';
import { CacheError } from '../../../src/errors.js';

describe('tokenize', () => {
  it.each<[string, string[]]>([
    ['', []],
    ['   \t ', []],
    ['get k', ['get', 'k']],
    ['  get   k  ', ['get', 'k']],
    ['set k hello', ['set', 'k', 'hello']],
    ['set k "hello world"', ['set', 'k', 'hello world']],
    ["set k 'hello world'", ['set', 'k', 'hello world']],
    ['set k "a\\"b"', ['set', 'k', 'a"b']],
    ['set k "a\\nb\\tc\\\\d"', ['set', 'k', 'a\nb\tc\\d']],
    ['set k "\\x41\\u00e9"', ['set', 'k', 'Aé']],
    ['set k "\\q"', ['set', 'k', 'q']],
    ["set k 'it\\'s'", ['set', 'k', "it's"]],
    ["set k 'a\\nb'", ['set', 'k', 'a\\nb']],
    ["set k '\"42\"'", ['set', 'k', '"42"']],
    ['set k ""', ['set', 'k', '']],
    ['set k a"b c"d', ['set', 'k', 'ab cd']],
    ['set k {"a": 1, "b": [1, 2]}', ['set', 'k', '{"a": 1, "b": [1, 2]}']],
    ['set k [1, 2, {"x": [3]}] ttl 500', ['set', 'k', '[1, 2, {"x": [3]}]', 'ttl', '500']],
    ['set k {"s": "a } b ] c"}', ['set', 'k', '{"s": "a } b ] c"}']],
    ['set k {"s": "q\\" }"}', ['set', 'k', '{"s": "q\\" }"}']],
    ["set k {\"s\": 'x y'}", ['set', 'k', "{\"s\": 'x y'}"]],
    ['set k {oops', ['set', 'k', '{oops']],
    ['set k {a b', ['set', 'k', '{a', 'b']],
    ['set k {}x y', ['set', 'k', '{}x', 'y']],
    ['set k x{a b}', ['set', 'k', 'x{a', 'b}']],
    ['mset a 1 b {"c": 2}', ['mset', 'a', '1', 'b', '{"c": 2}']],
  ])('%j -> %j', (line, tokens) => {
    expect(tokenize(line)).toEqual(tokens);
  });

  it.each([
    ['set k "hello', '"', 7],
    ["set k 'hello", "'", 7],
    ["set k it's", "'", 9],
    ['set k "a\\"', '"', 7],
  ])('an unclosed quote in %j is BAD_REQUEST naming it', (line, quote, column) => {
    let error: unknown;
    try {
      tokenize(line);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CacheError);
    expect((error as CacheError).code).toBe('BAD_REQUEST');
    expect((error as CacheError).message).toBe(`unbalanced quotes: the ${quote} at column ${column} is never closed`);
  });
});

describe('parseCommandLine', () => {
  it('returns undefined for an empty or blank line', () => {
    expect(parseCommandLine('')).toBeUndefined();
    expect(parseCommandLine('  \t')).toBeUndefined();
  });

  it('lower-cases the name, keeps the arguments and the line', () => {
    expect(parseCommandLine('SET Key {"a": 1}')).toEqual({ name: 'set', args: ['Key', '{"a": 1}'], line: 'SET Key {"a": 1}' });
    expect(parseCommandLine('ring')).toEqual({ name: 'ring', args: [], line: 'ring' });
  });

  it('throws BAD_REQUEST for an unclosed quote', () => {
    expect(() => parseCommandLine('get "k')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});

describe('parseValue', () => {
  it.each<[string, unknown]>([
    ['hello', 'hello'],
    ['42', 42],
    ['-1.5', -1.5],
    ['"42"', '42'],
    ['true', true],
    ['null', null],
    ['{"a": 1, "b": [1, 2]}', { a: 1, b: [1, 2] }],
    ['[1,"x"]', [1, 'x']],
    ['{oops', '{oops'],
    ['007', '007'],
    ['1e400', '1e400'],
    ['12345678901234567890', '12345678901234567890'],
    ['9007199254740991', 9007199254740991],
    ['1.5e3', 1500],
    ['', ''],
  ])('%j -> %j', (text, value) => {
    expect(parseValue(text)).toEqual(value);
  });
});
