import { describe, expect, it } from 'vitest';
import { formatPercent, renderBar } from '../../../src/console/ui/share-bar.js';

describe('renderBar', () => {
  const cases: Array<[number, number, string, string]> = [
    [0, 10, '', '··········'],
    [1, 10, '██████████', ''],
    [0.5, 10, '█████', '·····'],
    [1 / 3, 10, '███▍', '······'],
    [0.001, 10, '▏', '·········'],
    [1.5, 4, '████', ''],
    [-1, 4, '', '····'],
    [Number.NaN, 4, '', '····'],
  ];
  it.each(cases)('%d on %d cells', (fraction, width, filled, empty) => {
    const bar = renderBar(fraction, width);
    expect(bar).toEqual({ filled, empty });
    expect(Array.from(bar.filled + bar.empty)).toHaveLength(width);
  });
});

describe('formatPercent', () => {
  it.each([
    [0, '  0.0%'],
    [1 / 3, ' 33.3%'],
    [1, '100.0%'],
    [2, '100.0%'],
  ])('%d -> %s', (fraction, text) => expect(formatPercent(fraction)).toBe(text));
});
