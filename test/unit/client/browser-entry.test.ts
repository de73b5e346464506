/**
 * The client entry (`ringcache/client`, the package's `browser` export) must load in a browser:
 * its static import graph reaches no Node built-in and no package but eventemitter3 (`ws` is
 * imported dynamically, only where no global WebSocket exists).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ENTRY = fileURLToPath(new URL('../../../src/client/index.ts', import.meta.url));

/** Static `import ... from '...'` and `export ... from '...'` specifiers of a TypeScript file, type-only ones excluded. */
function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const match of source.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?\sfrom\s+'([^']+)'/gms)) {
    if (match[2] === undefined) specifiers.push(match[3]!);
  }
  return specifiers;
}

/** Every file reachable from `entry` by static relative imports, and the bare specifiers they import. */
function importGraph(entry: string): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith('.')) queue.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else external.add(specifier);
    }
  }
  return { files, external };
}

describe('the client entry', () => {
  it('imports nothing Node-only', () => {
    const { files, external } = importGraph(ENTRY);
    expect([...external]).toEqual(['eventemitter3']);
    // The ring placement is part of the browser bundle (routing 'ring').
    expect([...files].some((file) => file.endsWith('/src/ring/hash-ring.ts'))).toBe(true);
  });
});
