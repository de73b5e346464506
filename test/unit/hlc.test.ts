import { describe, expect, it } from 'vitest';
import { compareVersions, HybridLogicalClock, isVersion, type Version } from '../../src/hlc.js';

describe('HybridLogicalClock (Kulkarni et al. 2014)', () => {
  it('issues strictly increasing versions even when physical time stands still or goes back', () => {
    let time = 1000;
    const clock = new HybridLogicalClock('p1', () => time);
    const a = clock.now();
    const b = clock.now();
    time = 900;
    const c = clock.now();
    time = 2000;
    const d = clock.now();
    expect(compareVersions(a, b)).toBeLessThan(0);
    expect(compareVersions(b, c)).toBeLessThan(0);
    expect(compareVersions(c, d)).toBeLessThan(0);
    expect(d).toEqual([2000, 0, 'p1']);
  });

  it('orders local events after observed remote ones', () => {
    const clock = new HybridLogicalClock('p1', () => 1000);
    clock.observe([1500, 7, 'p2']);
    const next = clock.now();
    expect(compareVersions(next, [1500, 7, 'p2'])).toBeGreaterThan(0);
    expect(next[0]).toBe(1500);
  });

  it('does not adopt a remote clock far in the future', () => {
    const clock = new HybridLogicalClock('p1', () => 1000, 60_000);
    clock.observe([10_000_000, 0, 'p2']);
    expect(clock.now()[0]).toBe(1000);
  });

  it('breaks ties by peer id, so LWW is a total order', () => {
    const a: Version = [5, 1, 'a'];
    const b: Version = [5, 1, 'b'];
    expect(compareVersions(a, b)).toBeLessThan(0);
    expect(compareVersions(b, a)).toBeGreaterThan(0);
    expect(compareVersions(a, [5, 1, 'a'])).toBe(0);
  });

  it('recognises the wire shape', () => {
    expect(isVersion([1, 0, 'p'])).toBe(true);
    expect(isVersion([1, -1, 'p'])).toBe(false);
    expect(isVersion([1, 0])).toBe(false);
    expect(isVersion('1:0:p')).toBe(false);
  });
});
