import { describe, expect, it } from 'vitest';
import { editLine, lineAt, promptWindow, sanitizeInput, type EditAction, type LineState } from '../../../src/console/ui/line-editor.js';

/** `|` marks the cursor in these tables. */
function parse(marked: string): LineState {
  const cursor = marked.indexOf('|');
  return { text: marked.replace('|', ''), cursor };
}
function show(state: LineState): string {
  return `${state.text.slice(0, state.cursor)}|${state.text.slice(state.cursor)}`;
}

describe('editLine', () => {
  const cases: Array<[string, EditAction, string]> = [
    ['|', { type: 'insert', text: 'get' }, 'get|'],
    ['gt|', { type: 'left' }, 'g|t'],
    ['g|t', { type: 'insert', text: 'e' }, 'ge|t'],
    ['|get', { type: 'left' }, '|get'],
    ['get|', { type: 'right' }, 'get|'],
    ['ge|t', { type: 'home' }, '|get'],
    ['|get', { type: 'end' }, 'get|'],
    ['get|', { type: 'backspace' }, 'ge|'],
    ['|get', { type: 'backspace' }, '|get'],
    ['g|et', { type: 'delete' }, 'g|t'],
    ['get|', { type: 'delete' }, 'get|'],
    ['get us|er', { type: 'kill-to-start' }, '|er'],
    ['get us|er', { type: 'kill-to-end' }, 'get us|'],
    ['set key value|', { type: 'kill-word-back' }, 'set key |'],
    ['set key   |', { type: 'kill-word-back' }, 'set |'],
    ['set ke|y', { type: 'kill-word-back' }, 'set |y'],
    ['set key value|', { type: 'word-left' }, 'set key |value'],
    ['|set key', { type: 'word-right' }, 'set| key'],
    ['set| key', { type: 'word-right' }, 'set key|'],
    // a surrogate pair is one character
    ['a😀|', { type: 'backspace' }, 'a|'],
    ['a😀|', { type: 'left' }, 'a|😀'],
    ['a|😀b', { type: 'right' }, 'a😀|b'],
    ['a|😀b', { type: 'delete' }, 'a|b'],
    // pasted text: newlines and tabs become spaces, other control characters go
    ['|', { type: 'insert', text: 'get a\nget\tb\u0007' }, 'get a get b|'],
  ];
  it.each(cases)('%s + %j -> %s', (before, action, after) => {
    expect(show(editLine(parse(before), action))).toBe(after);
  });

  it('does not modify its input', () => {
    const state = parse('ab|');
    editLine(state, { type: 'backspace' });
    expect(show(state)).toBe('ab|');
  });

  it('clamps a cursor out of range', () => {
    expect(show(editLine({ text: 'ab', cursor: 9 }, { type: 'insert', text: 'c' }))).toBe('abc|');
  });
});

describe('lineAt and sanitizeInput', () => {
  it('puts the cursor at the end', () => expect(show(lineAt('get k'))).toBe('get k|'));
  it('turns CRLF into one space', () => expect(sanitizeInput('a\r\nb')).toBe('a b'));
});

describe('promptWindow', () => {
  it('shows the whole line and a space cell at its end', () => {
    expect(promptWindow(parse('get k|'), 20)).toEqual({ before: 'get k', at: ' ', after: '' });
  });
  it('puts the character under the cursor in the cursor cell', () => {
    expect(promptWindow(parse('ge|t k'), 20)).toEqual({ before: 'ge', at: 't', after: ' k' });
  });
  it('scrolls so the cursor stays visible on a narrow prompt', () => {
    expect(promptWindow(parse('abcdefghij|'), 5)).toEqual({ before: 'ghij', at: ' ', after: '' });
    expect(promptWindow(parse('ab|cdefghij'), 5)).toEqual({ before: 'ab', at: 'c', after: 'de' });
  });
});
