import { describe, expect, it } from 'vitest';
import { InputHistory } from '../../../src/console/ui/input-history.js';

describe('InputHistory', () => {
  it('walks back from the newest entry and forward to the draft', () => {
    const history = new InputHistory(['get a', 'set b 1']);
    expect(history.previous('draft')).toBe('set b 1');
    expect(history.previous('set b 1')).toBe('get a');
    expect(history.previous('get a')).toBeUndefined();
    expect(history.next()).toBe('set b 1');
    expect(history.next()).toBe('draft');
    expect(history.next()).toBeUndefined();
  });

  it('skips blank lines and a repeat of the newest entry', () => {
    const history = new InputHistory();
    expect(history.push('get a')).toBe(true);
    expect(history.push('get a')).toBe(false);
    expect(history.push('   ')).toBe(false);
    expect(history.push('get b')).toBe(true);
    expect(history.push('get a')).toBe(true);
    expect(history.lines).toEqual(['get a', 'get b', 'get a']);
  });

  it('starts a new walk after a push', () => {
    const history = new InputHistory(['one', 'two']);
    history.previous('');
    history.previous('');
    history.push('three');
    expect(history.previous('')).toBe('three');
  });

  it('keeps the newest maxSize lines', () => {
    const history = new InputHistory(['a', 'b', 'c'], 3);
    history.push('d');
    expect(history.lines).toEqual(['b', 'c', 'd']);
    expect(new InputHistory(['a', '', 'b', 'c'], 2).lines).toEqual(['b', 'c']);
  });

  it('reset ends a walk and forgets the draft', () => {
    const history = new InputHistory(['a']);
    expect(history.previous('typed')).toBe('a');
    history.reset();
    expect(history.next()).toBeUndefined();
    expect(history.previous('')).toBe('a');
  });
});
