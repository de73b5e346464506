import { describe, expect, it } from 'vitest';
import { PeerPalette } from '../../../src/console/ui/peer-palette.js';
import { resampleStrip, stripRuns } from '../../../src/console/ui/ring-strip.js';

describe('resampleStrip', () => {
  it('stretches and shrinks the buckets to the width', () => {
    expect(resampleStrip(['a', 'b'], 4)).toEqual(['a', 'a', 'b', 'b']);
    expect(resampleStrip(['a', 'b', 'c', 'd'], 2)).toEqual(['a', 'c']);
    expect(resampleStrip([], 3)).toEqual([null, null, null]);
  });
});

describe('stripRuns', () => {
  it('marks every cell with its owner', () => {
    const palette = new PeerPalette();
    const runs = stripRuns(['p1', 'p1', 'p2', 'p3', 'p3', 'p3', 'p1', 'p1'], 16, palette);
    expect(runs.map((r) => r.text).join('')).toBe('1111223333331111');
    expect(runs.map((r) => r.owner)).toEqual(['p1', 'p2', 'p3', 'p1']);
  });

  it('draws an empty ring as empty cells', () => {
    expect(stripRuns([null, null], 5, new PeerPalette())).toEqual([{ owner: null, text: '░░░░░' }]);
  });

  it('is exactly width cells wide', () => {
    const strip = Array.from({ length: 64 }, (_, i) => `p${i % 3}`);
    const text = stripRuns(strip, 150, new PeerPalette()).map((r) => r.text).join('');
    expect(Array.from(text)).toHaveLength(150);
  });
});
