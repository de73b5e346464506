import { describe, expect, it } from 'vitest';
import { PEER_COLORS, PeerPalette } from '../../../src/console/ui/peer-palette.js';

describe('PeerPalette', () => {
  it('gives each peer its own colour and keeps it', () => {
    const palette = new PeerPalette();
    palette.assign(['p3', 'p1', 'p2']);
    const colors = ['p1', 'p2', 'p3'].map((id) => palette.styleOf(id).color);
    expect(colors).toEqual(PEER_COLORS.slice(0, 3));
    palette.assign(['p2', 'p3', 'p4', 'p0']);
    expect(['p1', 'p2', 'p3'].map((id) => palette.styleOf(id).color)).toEqual(colors);
    expect(new Set(['p0', 'p1', 'p2', 'p3', 'p4'].map((id) => palette.styleOf(id).color)).size).toBe(5);
  });

  it('never uses red (it means dead)', () => {
    expect(PEER_COLORS.some((c) => c.startsWith('red'))).toBe(false);
  });

  it('marks a peer with the last letter or digit of its id, else a free one', () => {
    const palette = new PeerPalette();
    palette.assign(['p1', 'p2', 'p11', 'node-a']);
    expect(palette.styleOf('p1').mark).toBe('1');
    expect(palette.styleOf('p11').mark).toBe('p');
    expect(palette.styleOf('p2').mark).toBe('2');
    expect(palette.styleOf('node-a').mark).toBe('a');
    expect(palette.styleOf('x-a').mark).toBe('x');
    expect(palette.styleOf('zz-a').mark).toBe('z');
    const marks = ['p1', 'p2', 'p11', 'node-a', 'x-a', 'zz-a'].map((id) => palette.styleOf(id).mark);
    expect(new Set(marks).size).toBe(marks.length);
  });
});
