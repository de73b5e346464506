/**
 * Tab completion at the prompt: applies the candidates of {@link CommandRunner.complete} to the
 * word before the cursor, as readline does: one candidate replaces the word (and adds a space),
 * several extend it to their longest common prefix and are listed.
 *
 * The runner may return candidates as words (`user:1`) or as whole lines (`get user:1`); both
 * are accepted.
 */
import type { LineState } from './line-editor.js';

/** The line after completion and the candidates to list (empty when one was applied). */
export interface CompletionOutcome {
  line: LineState;
  candidates: string[];
}

/** Index where the word ending at `cursor` starts. */
export function wordStart(text: string, cursor: number): number {
  const before = text.slice(0, cursor);
  return before.lastIndexOf(' ') + 1;
}

/** The longest common prefix of `words`. */
export function commonPrefix(words: readonly string[]): string {
  if (words.length === 0) return '';
  let prefix = words[0]!;
  for (const word of words) {
    let i = 0;
    while (i < prefix.length && i < word.length && prefix[i] === word[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

/** Applies `candidates` to `line`; see the module header. */
export function applyCompletion(line: LineState, candidates: readonly string[]): CompletionOutcome {
  const start = wordStart(line.text, line.cursor);
  const head = line.text.slice(0, start);
  const word = line.text.slice(start, line.cursor);
  const tail = line.text.slice(line.cursor);
  const asLines = start > 0 && candidates.length > 0 && candidates.every((c) => c.startsWith(head));
  const words = [...new Set(candidates.map((c) => (asLines ? c.slice(head.length) : c)))].filter((c) => c.startsWith(word) && c !== '');
  if (words.length === 0) return { line, candidates: [] };
  if (words.length === 1) {
    const completed = words[0]!;
    const space = tail.startsWith(' ') ? '' : ' ';
    const text = head + completed + space + tail;
    return { line: { text, cursor: head.length + completed.length + space.length }, candidates: [] };
  }
  const prefix = commonPrefix(words);
  const text = head + prefix + tail;
  return { line: { text, cursor: head.length + prefix.length }, candidates: words.sort() };
}
