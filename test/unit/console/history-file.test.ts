import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addToHistory, defaultHistoryPath, loadHistory, MAX_HISTORY_LINES, saveHistory } from '../../../src/console/history-file.js';

describe('history file', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ringcache-history-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips, newest last, in a new directory, with mode 0600', async () => {
    const path = join(dir, 'nested', 'history');
    expect(await saveHistory(['get a', 'set k {"a": 1}', 'ring'], path)).toBe(true);
    expect(await readFile(path, 'utf8')).toBe('get a\nset k {"a": 1}\nring\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await loadHistory(path)).toEqual(['get a', 'set k {"a": 1}', 'ring']);
  });

  it('drops blanks and repeats of the previous line, keeps the newest 1,000', async () => {
    const path = join(dir, 'history');
    const lines = Array.from({ length: 1200 }, (_, i) => `get k${i}`);
    await writeFile(path, ['ring', 'ring', '', 'get a', 'get a', 'ring', ...lines].join('\r\n'));
    const loaded = await loadHistory(path);
    expect(loaded).toHaveLength(MAX_HISTORY_LINES);
    expect(loaded[0]).toBe('get k200');
    expect(loaded.at(-1)).toBe('get k1199');
    expect(await loadHistory(join(dir, 'short'))).toEqual([]);
    await writeFile(join(dir, 'short'), 'ring\nring\n\nget a\nget a\nring\n');
    expect(await loadHistory(join(dir, 'short'))).toEqual(['ring', 'get a', 'ring']);
    await saveHistory([...lines, 'x', 'x'], path);
    const saved = await loadHistory(path);
    expect(saved).toHaveLength(MAX_HISTORY_LINES);
    expect(saved.at(-1)).toBe('x');
    expect(saved.at(-2)).toBe('get k1199');
  });

  it('never throws on an unreadable or unwritable file', async () => {
    expect(await loadHistory(join(dir, 'missing'))).toEqual([]);
    expect(await loadHistory(dir)).toEqual([]); // a directory
    expect(await saveHistory(['ring'], dir)).toBe(false);
    const blocker = join(dir, 'file');
    await writeFile(blocker, '');
    expect(await saveHistory(['ring'], join(blocker, 'history'))).toBe(false); // parent is a file
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o500);
      expect(await saveHistory(['ring'], join(locked, 'history'))).toBe(false);
    }
  });

  it('addToHistory skips blanks and repeats, folds newlines, caps the length', () => {
    expect(addToHistory([], '  ring  ')).toEqual(['ring']);
    expect(addToHistory(['ring'], 'ring')).toEqual(['ring']);
    expect(addToHistory(['ring'], '   ')).toEqual(['ring']);
    expect(addToHistory(['ring'], 'get a')).toEqual(['ring', 'get a']);
    expect(addToHistory(['a', 'b', 'c'], 'd', 3)).toEqual(['b', 'c', 'd']);
    expect(addToHistory([], 'set k\nv')).toEqual(['set k v']);
    const history = ['a'];
    addToHistory(history, 'b');
    expect(history).toEqual(['a']);
  });

  it('the default path: RINGCACHE_HISTORY, else ~/.ringcache_history', () => {
    expect(defaultHistoryPath({ RINGCACHE_HISTORY: '/tmp/h' }, '/home/u')).toBe('/tmp/h');
    expect(defaultHistoryPath({ RINGCACHE_HISTORY: '  ' }, '/home/u')).toBe(join('/home/u', '.ringcache_history'));
    expect(defaultHistoryPath({}, '/home/u')).toBe(join('/home/u', '.ringcache_history'));
  });
});
