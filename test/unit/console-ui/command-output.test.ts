import { describe, expect, it } from 'vitest';
import { formatMs, outputLines, visibleLines, wrapText, type OutputEntry } from '../../../src/console/ui/command-output.js';

describe('outputLines', () => {
  const entries: OutputEntry[] = [
    { seq: 1, line: 'set greeting hello', startedAt: 0, result: { ok: true, text: 'OK', json: {}, servedBy: 'p2', ms: 1.84 } },
    { seq: 2, line: 'incr greeting', startedAt: 0, result: { ok: false, text: '(error) NOT_A_NUMBER: not an integer', json: {}, servedBy: 'p1', ms: 0.5 } },
    { seq: 3, line: 'help', startedAt: 0, result: { ok: true, text: 'get KEY\nset KEY VALUE', json: {} } },
    { seq: 4, line: 'get slow', startedAt: 1000 },
    { seq: 5, line: 'get later', startedAt: 1000, queued: true },
  ];

  it('gives each command a line with "served by", then its result lines', () => {
    const lines = outputLines(entries, 80, 2500);
    expect(lines.map((l) => [l.text, l.tone, l.aside])).toEqual([
      ['› set greeting hello', 'command', 'served by p2 in 1.8 ms'],
      ['OK', 'ok', undefined],
      ['› incr greeting', 'command', 'served by p1 in 0.5 ms'],
      ['(error) NOT_A_NUMBER: not an integer', 'error', undefined],
      ['› help', 'command', undefined],
      ['get KEY', 'ok', undefined],
      ['set KEY VALUE', 'ok', undefined],
      ['› get slow', 'command', 'running 1500 ms'],
      ['› get later', 'command', 'queued'],
    ]);
    expect(new Set(lines.map((l) => l.key)).size).toBe(lines.length);
  });

  it('wraps long results to the width', () => {
    const lines = outputLines([{ seq: 1, line: 'get k', startedAt: 0, result: { ok: true, text: 'x'.repeat(25), json: {} } }], 10, 0);
    expect(lines.slice(1).map((l) => l.text)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });
});

describe('visibleLines', () => {
  const lines = [1, 2, 3, 4, 5, 6];
  it('shows the newest lines', () => expect(visibleLines(lines, 3, 0)).toEqual([4, 5, 6]));
  it('scrolls up', () => expect(visibleLines(lines, 3, 2)).toEqual([2, 3, 4]));
  it('stops at the top', () => expect(visibleLines(lines, 3, 99)).toEqual([1, 2, 3]));
  it('shows everything when it fits', () => expect(visibleLines(lines, 10, 5)).toEqual(lines));
  it('shows nothing in no room', () => expect(visibleLines(lines, 0, 0)).toEqual([]));
});

describe('wrapText and formatMs', () => {
  it('keeps line breaks and empty lines', () => expect(wrapText('ab\n\ncd', 5)).toEqual(['ab', '', 'cd']));
  it('breaks at the last space that fits', () => expect(wrapText('get the key now', 9)).toEqual(['get the', 'key now']));
  it('cuts a word longer than the width', () => expect(wrapText('ab abcdefgh', 4)).toEqual(['ab', 'abcd', 'efgh']));
  it('counts characters, not UTF-16 units', () => expect(wrapText('😀😀😀', 2)).toEqual(['😀😀', '😀']));
  it.each([
    [0.123, '0.12 ms'],
    [1.84, '1.8 ms'],
    [250, '250 ms'],
    [12_345, '12.3 s'],
  ])('formatMs(%d) = %s', (ms, text) => expect(formatMs(ms)).toBe(text));
});
