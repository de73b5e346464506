import { describe, expect, it } from 'vitest';
import { keyToAction, keyToActions, type KeyInfo, type KeyAction } from '../../../src/console/ui/key-bindings.js';

describe('keyToAction', () => {
  const cases: Array<[string, string, KeyInfo, KeyAction | undefined]> = [
    ['a letter', 'g', {}, { type: 'edit', edit: { type: 'insert', text: 'g' } }],
    ['a paste', 'set k 1', {}, { type: 'edit', edit: { type: 'insert', text: 'set k 1' } }],
    ['enter', '', { return: true }, { type: 'submit' }],
    ['tab', '', { tab: true }, { type: 'complete' }],
    ['up', '', { upArrow: true }, { type: 'history-previous' }],
    ['down', '', { downArrow: true }, { type: 'history-next' }],
    ['ctrl-p', 'p', { ctrl: true }, { type: 'history-previous' }],
    ['ctrl-n', 'n', { ctrl: true }, { type: 'history-next' }],
    ['left', '', { leftArrow: true }, { type: 'edit', edit: { type: 'left' } }],
    ['right', '', { rightArrow: true }, { type: 'edit', edit: { type: 'right' } }],
    ['ctrl-left', '', { leftArrow: true, ctrl: true }, { type: 'edit', edit: { type: 'word-left' } }],
    ['alt-f', 'f', { meta: true }, { type: 'edit', edit: { type: 'word-right' } }],
    ['home', '', { home: true }, { type: 'edit', edit: { type: 'home' } }],
    ['end', '', { end: true }, { type: 'edit', edit: { type: 'end' } }],
    ['ctrl-a', 'a', { ctrl: true }, { type: 'edit', edit: { type: 'home' } }],
    ['ctrl-e', 'e', { ctrl: true }, { type: 'edit', edit: { type: 'end' } }],
    ['ctrl-u', 'u', { ctrl: true }, { type: 'edit', edit: { type: 'kill-to-start' } }],
    ['ctrl-k', 'k', { ctrl: true }, { type: 'edit', edit: { type: 'kill-to-end' } }],
    ['ctrl-w', 'w', { ctrl: true }, { type: 'edit', edit: { type: 'kill-word-back' } }],
    ['backspace (BS)', '', { backspace: true }, { type: 'edit', edit: { type: 'backspace' } }],
    // ink reports DEL (0x7f), the Backspace key of most terminals, as `delete`
    ['backspace (DEL)', '', { delete: true }, { type: 'edit', edit: { type: 'backspace' } }],
    ['alt-backspace', '', { delete: true, meta: true }, { type: 'edit', edit: { type: 'kill-word-back' } }],
    ['ctrl-c', 'c', { ctrl: true }, { type: 'interrupt' }],
    ['ctrl-d', 'd', { ctrl: true }, { type: 'eof' }],
    ['ctrl-l', 'l', { ctrl: true }, { type: 'clear-output' }],
    ['page up', '', { pageUp: true }, { type: 'scroll-up' }],
    ['page down', '', { pageDown: true }, { type: 'scroll-down' }],
    ['escape', '', { escape: true, meta: true }, undefined],
    ['an unbound ctrl key', 'g', { ctrl: true }, undefined],
  ];
  it.each(cases)('%s', (_name, input, key, action) => {
    expect(keyToAction(input, key)).toEqual(action);
  });
});

describe('keyToActions', () => {
  const insert = (text: string): KeyAction => ({ type: 'edit', edit: { type: 'insert', text } });

  it('passes a single key through', () => {
    expect(keyToActions('', { return: true })).toEqual([{ type: 'submit' }]);
    expect(keyToActions('x', {})).toEqual([insert('x')]);
    expect(keyToActions('', { escape: true, meta: true })).toEqual([]);
  });

  it('splits text typed with Enter in one chunk (tmux send-keys)', () => {
    expect(keyToActions('get k\r', {})).toEqual([insert('get k'), { type: 'submit' }]);
  });

  it('runs a pasted block line by line', () => {
    expect(keyToActions('set a 1\r\nget a\n', {})).toEqual([insert('set a 1'), { type: 'submit' }, insert('get a'), { type: 'submit' }]);
  });

  it('maps DEL, tab and ctrl characters inside a chunk', () => {
    expect(keyToActions('ab\x7fc\tx\x15', {})).toEqual([
      insert('ab'),
      { type: 'edit', edit: { type: 'backspace' } },
      insert('c'),
      { type: 'complete' },
      insert('x'),
      { type: 'edit', edit: { type: 'kill-to-start' } },
    ]);
  });
});
