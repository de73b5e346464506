/**
 * The prompt's line editing, as a pure state machine: a {@link LineState} (text and cursor) and
 * {@link editLine}, which applies one {@link EditAction}. The bindings follow readline/emacs:
 * ctrl-a/e home/end, ctrl-b/f left/right, ctrl-u kills to the start, ctrl-k to the end, ctrl-w
 * the word before the cursor, alt-b/f move by words.
 *
 * The cursor counts UTF-16 code units but never stops inside a surrogate pair, so an emoji is
 * one step of the arrow keys and one backspace.
 */

/** The line being typed and the cursor position in it (0..text.length). */
export interface LineState {
  text: string;
  cursor: number;
}

/** One editing operation on a {@link LineState}. */
export type EditAction =
  | { type: 'insert'; text: string }
  | { type: 'left' }
  | { type: 'right' }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'word-left' }
  | { type: 'word-right' }
  | { type: 'backspace' }
  | { type: 'delete' }
  | { type: 'kill-to-start' }
  | { type: 'kill-to-end' }
  | { type: 'kill-word-back' };

/** The empty line. */
export const EMPTY_LINE: LineState = Object.freeze({ text: '', cursor: 0 });

/** A line with the cursor at its end (a history entry, a completion). */
export function lineAt(text: string): LineState {
  return { text, cursor: text.length };
}

/**
 * Text pasted or typed, made safe for a one-line prompt: newlines and tabs become spaces, other
 * control characters are dropped.
 */
export function sanitizeInput(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n|[\r\n\t]/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** The position one character before `index` (a surrogate pair counts as one character). */
function stepBack(text: string, index: number): number {
  if (index <= 0) return 0;
  const before = index - 1;
  return before > 0 && isLowSurrogate(text.charCodeAt(before)) && isHighSurrogate(text.charCodeAt(before - 1)) ? before - 1 : before;
}

/** The position one character after `index`. */
function stepForward(text: string, index: number): number {
  if (index >= text.length) return text.length;
  return isHighSurrogate(text.charCodeAt(index)) && isLowSurrogate(text.charCodeAt(index + 1)) ? index + 2 : index + 1;
}

/** Start of the word before `index`: skip spaces back, then non-spaces (as readline's ctrl-w). */
function wordStartBefore(text: string, index: number): number {
  let i = index;
  while (i > 0 && text[i - 1] === ' ') i--;
  while (i > 0 && text[i - 1] !== ' ') i--;
  return i;
}

/** End of the word after `index`: skip spaces, then non-spaces. */
function wordEndAfter(text: string, index: number): number {
  let i = index;
  while (i < text.length && text[i] === ' ') i++;
  while (i < text.length && text[i] !== ' ') i++;
  return i;
}

/** Applies one editing action; returns a new state (the input is not modified). */
export function editLine(state: LineState, action: EditAction): LineState {
  const { text } = state;
  const cursor = Math.max(0, Math.min(state.cursor, text.length));
  switch (action.type) {
    case 'insert': {
      const inserted = sanitizeInput(action.text);
      return { text: text.slice(0, cursor) + inserted + text.slice(cursor), cursor: cursor + inserted.length };
    }
    case 'left':
      return { text, cursor: stepBack(text, cursor) };
    case 'right':
      return { text, cursor: stepForward(text, cursor) };
    case 'home':
      return { text, cursor: 0 };
    case 'end':
      return { text, cursor: text.length };
    case 'word-left':
      return { text, cursor: wordStartBefore(text, cursor) };
    case 'word-right':
      return { text, cursor: wordEndAfter(text, cursor) };
    case 'backspace': {
      const from = stepBack(text, cursor);
      return { text: text.slice(0, from) + text.slice(cursor), cursor: from };
    }
    case 'delete':
      return { text: text.slice(0, cursor) + text.slice(stepForward(text, cursor)), cursor };
    case 'kill-to-start':
      return { text: text.slice(cursor), cursor: 0 };
    case 'kill-to-end':
      return { text: text.slice(0, cursor), cursor };
    case 'kill-word-back': {
      const from = wordStartBefore(text, cursor);
      return { text: text.slice(0, from) + text.slice(cursor), cursor: from };
    }
  }
}

/** The part of a line shown on a prompt `width` cells wide: the text around the cursor. */
export interface PromptWindow {
  before: string;
  /** The character under the cursor (a space at the end of the line). */
  at: string;
  after: string;
}

/**
 * Cuts the line to `width` cells (the cursor cell included), scrolling horizontally so the cursor
 * stays visible; counts characters, not UTF-16 units.
 */
export function promptWindow(state: LineState, width: number): PromptWindow {
  const before = Array.from(state.text.slice(0, state.cursor));
  const rest = Array.from(state.text.slice(state.cursor));
  const at = rest[0] ?? ' ';
  const afterChars = rest.slice(1);
  const w = Math.max(1, Math.floor(width));
  const beforeShown = before.slice(Math.max(0, before.length - (w - 1)));
  const afterShown = afterChars.slice(0, Math.max(0, w - 1 - beforeShown.length));
  return { before: beforeShown.join(''), at, after: afterShown.join('') };
}
