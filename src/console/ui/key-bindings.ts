/**
 * Maps a key press, as ink's `useInput` reports it, to what the prompt does: an edit of the line
 * ({@link EditAction}) or a console action (submit, history, completion, quit...). Pure, so the
 * bindings are tested without a terminal.
 *
 * Ink reports the Backspace key of most terminals (DEL, 0x7f) as `key.delete`, and the forward
 * Delete key (ESC [3~) the same way, so both erase backwards here, as ink-text-input does;
 * ctrl-d deletes forwards (and quits on an empty line).
 *
 * Ink hands over a chunk of plain text with its control characters in one piece (a paste, keys
 * typed faster than a frame, `tmux send-keys 'get k' Enter`), so {@link keyToActions} splits such
 * a chunk: `get k\r` is an insert and a submit, and a pasted block of lines runs line by line.
 */
import type { EditAction } from './line-editor.js';

/** The subset of ink's `Key` the bindings read. */
export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  meta?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

/** What a key press asks the console to do. */
export type KeyAction =
  | { type: 'edit'; edit: EditAction }
  | { type: 'submit' }
  | { type: 'history-previous' }
  | { type: 'history-next' }
  | { type: 'complete' }
  /** ctrl-c: clears a non-empty line, quits on an empty one. */
  | { type: 'interrupt' }
  /** ctrl-d: deletes forwards, quits on an empty line. */
  | { type: 'eof' }
  /** ctrl-l: clears the command output. */
  | { type: 'clear-output' }
  | { type: 'scroll-up' }
  | { type: 'scroll-down' };

const edit = (action: EditAction): KeyAction => ({ type: 'edit', edit: action });

/** Ctrl-letter bindings (`input` is the letter when ctrl is held). */
const CTRL_BINDINGS: Record<string, KeyAction> = {
  a: edit({ type: 'home' }),
  e: edit({ type: 'end' }),
  b: edit({ type: 'left' }),
  f: edit({ type: 'right' }),
  u: edit({ type: 'kill-to-start' }),
  k: edit({ type: 'kill-to-end' }),
  w: edit({ type: 'kill-word-back' }),
  h: edit({ type: 'backspace' }),
  p: { type: 'history-previous' },
  n: { type: 'history-next' },
  c: { type: 'interrupt' },
  d: { type: 'eof' },
  l: { type: 'clear-output' },
};

/**
 * The action of one key press, or undefined for keys the prompt ignores.
 * @param input the text ink passes (the letter for ctrl combinations, the pasted text for pastes)
 */
export function keyToAction(input: string, key: KeyInfo): KeyAction | undefined {
  if (key.return) return { type: 'submit' };
  if (key.tab) return { type: 'complete' };
  if (key.upArrow) return { type: 'history-previous' };
  if (key.downArrow) return { type: 'history-next' };
  if (key.pageUp) return { type: 'scroll-up' };
  if (key.pageDown) return { type: 'scroll-down' };
  if (key.leftArrow) return edit({ type: key.ctrl || key.meta ? 'word-left' : 'left' });
  if (key.rightArrow) return edit({ type: key.ctrl || key.meta ? 'word-right' : 'right' });
  if (key.home) return edit({ type: 'home' });
  if (key.end) return edit({ type: 'end' });
  if (key.backspace || key.delete) return edit({ type: key.meta ? 'kill-word-back' : 'backspace' });
  if (key.ctrl) return CTRL_BINDINGS[input.toLowerCase()];
  if (key.meta) {
    // alt-b / alt-f arrive as ESC b / ESC f; ink strips the ESC and sets meta.
    if (input === 'b') return edit({ type: 'word-left' });
    if (input === 'f') return edit({ type: 'word-right' });
    return undefined;
  }
  if (key.escape || input === '') return undefined;
  return edit({ type: 'insert', text: input });
}

/** Control characters inside a chunk of text, as the key each one is. */
function controlAction(char: string): KeyAction | undefined {
  if (char === '\r' || char === '\n') return { type: 'submit' };
  if (char === '\t') return { type: 'complete' };
  if (char === '\x7f' || char === '\b') return edit({ type: 'backspace' });
  const code = char.charCodeAt(0);
  if (code >= 1 && code <= 26) return CTRL_BINDINGS[String.fromCharCode(code + 96)];
  return undefined;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * The actions of one `useInput` call: one for a key, several for a chunk of text with control
 * characters in it (see the module header).
 */
export function keyToActions(input: string, key: KeyInfo): KeyAction[] {
  if (input.length <= 1 || !CONTROL.test(input)) {
    const action = keyToAction(input, key);
    return action ? [action] : [];
  }
  const actions: KeyAction[] = [];
  let text = '';
  const flush = (): void => {
    if (text !== '') actions.push(edit({ type: 'insert', text }));
    text = '';
  };
  for (let i = 0; i < input.length; i++) {
    const char = input[i]!;
    if (!CONTROL.test(char)) {
      text += char;
      continue;
    }
    flush();
    if (char === '\r' && input[i + 1] === '\n') i++;
    const action = controlAction(char);
    if (action) actions.push(action);
  }
  flush();
  return actions;
}
