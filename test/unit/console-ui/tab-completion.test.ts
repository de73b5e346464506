import { describe, expect, it } from 'vitest';
import { applyCompletion, commonPrefix } from '../../../src/console/ui/tab-completion.js';
import { lineAt } from '../../../src/console/ui/line-editor.js';

describe('applyCompletion', () => {
  it('completes a single candidate and adds a space', () => {
    expect(applyCompletion(lineAt('ge'), ['get'])).toEqual({ line: { text: 'get ', cursor: 4 }, candidates: [] });
  });

  it('accepts whole-line candidates (as ConsoleSession.complete returns them)', () => {
    expect(applyCompletion(lineAt('get us'), ['get user:1']).line).toEqual(lineAt('get user:1 '));
  });

  it('extends to the common prefix and lists several candidates', () => {
    const outcome = applyCompletion(lineAt('get us'), ['get user:2', 'get user:1']);
    expect(outcome.line).toEqual(lineAt('get user:'));
    expect(outcome.candidates).toEqual(['user:1', 'user:2']);
  });

  it('accepts word candidates too', () => {
    expect(applyCompletion(lineAt('get us'), ['user:1']).line).toEqual(lineAt('get user:1 '));
  });

  it('leaves the line alone without candidates', () => {
    expect(applyCompletion(lineAt('zz'), [])).toEqual({ line: lineAt('zz'), candidates: [] });
  });

  it('completes the word before the cursor and keeps the rest', () => {
    const outcome = applyCompletion({ text: 'ge user:1', cursor: 2 }, ['get']);
    expect(outcome.line).toEqual({ text: 'get user:1', cursor: 3 });
  });

  it('commonPrefix', () => {
    expect(commonPrefix(['user:1', 'user:2', 'users'])).toBe('user');
    expect(commonPrefix([])).toBe('');
  });
});
