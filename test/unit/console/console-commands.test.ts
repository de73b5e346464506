import { describe, expect, it } from 'vitest';
import { BUILTIN_COMMANDS, commandNames, findBuiltinCommand, helpText, type ConsoleExtension } from '../../../src/console/console-commands.js';

const demo: ConsoleExtension = {
  commands: [
    { name: 'kill', usage: 'kill PEER', help: 'kill a peer', run: async () => ({ ok: true, text: '', json: {} }) },
    { name: 'get', usage: 'get SHADOW', help: 'shadows a built-in', run: async () => ({ ok: true, text: '', json: {} }) },
  ],
};

describe('the command table', () => {
  it('has every command of the console, each usage starting with its name', () => {
    expect(BUILTIN_COMMANDS.map((spec) => spec.name)).toEqual(['get', 'set', 'del', 'expire', 'ttl', 'incr', 'mget', 'mset', 'ring', 'members', 'stats', 'watch', 'connect', 'help', 'quit']);
    for (const spec of BUILTIN_COMMANDS) {
      expect(spec.usage.split(' ')[0]).toBe(spec.name);
      expect(spec.help).not.toBe('');
      expect(spec.minArgs).toBeLessThanOrEqual(spec.maxArgs);
    }
  });

  it.each<[string, number, number]>([
    ['get', 1, 1],
    ['set', 2, 4],
    ['del', 1, Infinity],
    ['expire', 2, 2],
    ['ttl', 1, 1],
    ['incr', 1, 2],
    ['mget', 1, Infinity],
    ['mset', 2, Infinity],
    ['ring', 0, 0],
    ['members', 0, 0],
    ['stats', 0, 1],
    ['watch', 0, 1],
    ['connect', 1, 1],
    ['help', 0, 1],
    ['quit', 0, 0],
  ])('%s takes %d to %d arguments', (name, min, max) => {
    expect(findBuiltinCommand(name)).toMatchObject({ minArgs: min, maxArgs: max });
  });

  it('finds aliases; knows which arguments are keys', () => {
    expect(findBuiltinCommand('exit')?.name).toBe('quit');
    expect(findBuiltinCommand('nope')).toBeUndefined();
    const mset = findBuiltinCommand('mset')!;
    expect([0, 1, 2, 3].map((i) => mset.argumentKind(i))).toEqual(['key', undefined, 'key', undefined]);
    expect(findBuiltinCommand('set')!.argumentKind(2)).toEqual({ words: ['ttl'] });
  });

  it('lists names with aliases and extensions, sorted and unique', () => {
    const names = commandNames([demo]);
    expect(names).toContain('exit');
    expect(names).toContain('kill');
    expect(names).toEqual([...new Set(names)].sort());
  });

  it('help: aligned usage and help, built-ins first, a shadowing extension left out', () => {
    const lines = helpText([demo]).split('\n');
    expect(lines).toHaveLength(BUILTIN_COMMANDS.length + 1);
    expect(lines.at(-1)).toMatch(/^kill PEER +kill a peer$/);
    const column = lines[0]!.indexOf('read a key');
    expect(lines.every((line) => /^\S.*?\s{2,}\S/.test(line))).toBe(true);
    expect(lines[1]!.indexOf('write a key')).toBe(column);
    expect(helpText([demo])).not.toContain('SHADOW');
  });
});
