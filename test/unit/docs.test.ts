/**
 * Keeps the docs true to the code (the fastify habit): the `## Error codes` table of
 * docs/protocol.md lists exactly the codes of ERROR_CODES, its close-code table every
 * LINK_CLOSE_CODES entry, its peer-ops table exactly PEER_OPS, and its `stats` example the
 * counters the components report; docs/operations.md documents every PEER_OPTIONS flag with its
 * environment variable and default, and its memory sizing numbers follow `entryBytes()`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultPeerConfig, PEER_OPTIONS } from '../../src/config.js';
import { ERROR_CODES } from '../../src/errors.js';
import { PEER_OPS } from '../../src/protocol/peer-frames.js';
import { Coordinator } from '../../src/replication/coordinator.js';
import { HintedHandoff } from '../../src/replication/hinted-handoff.js';
import { Rebalancer } from '../../src/replication/rebalancer.js';
import { ENTRY_OVERHEAD_BYTES, entryBytes } from '../../src/store/entry.js';
import { LocalStore } from '../../src/store/local-store.js';
import { LINK_CLOSE_CODES } from '../../src/transport/link-manager.js';

function readDoc(name: string): string {
  return readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
}

/**
 * The lines of the `## <title>` section, up to the next heading of level 1 or 2. Lines inside
 * fenced code blocks are never headings (a shell comment starts with `# `).
 */
function section(markdown: string, title: string): string[] {
  const lines = markdown.split(/\r?\n/);
  let inFence = false;
  const isHeading = lines.map((line) => {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    return !inFence && /^#{1,2}\s/.test(line);
  });
  const start = lines.findIndex((line, i) => isHeading[i] && line.trim() === `## ${title}`);
  if (start < 0) return [];
  const end = isHeading.findIndex((heading, i) => i > start && heading);
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** The cells of the body rows of the first markdown table in `lines` (header and separator skipped). */
function tableRows(lines: string[]): string[][] {
  const first = lines.findIndex((line) => line.trim().startsWith('|'));
  if (first < 0) return [];
  const rows: string[][] = [];
  for (const line of lines.slice(first)) {
    const text = line.trim();
    if (!text.startsWith('|')) break;
    // Split on pipes that are not escaped (`\|` appears inside cells).
    rows.push(text.slice(1, text.endsWith('|') ? -1 : undefined).split(/(?<!\\)\|/).map((cell) => cell.trim()));
  }
  const [, separator, ...body] = rows;
  // Without a separator row this is not a markdown table: report no rows, which the tests reject.
  if (!separator?.every((cell) => /^:?-+:?$/.test(cell))) return [];
  return body;
}

/** The lines of `lines` from the first heading `### <title>` on. */
function fromSubsection(lines: string[], title: string): string[] {
  const start = lines.findIndex((line) => line.trim() === `### ${title}`);
  return start < 0 ? [] : lines.slice(start + 1);
}

/** The lines of `lines` from the first table row whose first cell is `firstHeader` on. */
function fromTable(lines: string[], firstHeader: string): string[] {
  const start = lines.findIndex((line) => line.trim().startsWith('|') && line.split('|')[1]?.trim() === firstHeader);
  return start < 0 ? [] : lines.slice(start);
}

/** The keys of an object, sorted. */
function keysOf(value: unknown): string[] {
  return Object.keys(value as object).sort();
}

describe('docs/protocol.md', () => {
  const rows = tableRows(section(readDoc('protocol.md'), 'Error codes'));
  const documented = rows.map((cells) => /^`([A-Z][A-Z0-9_]*)`$/.exec(cells[0] ?? '')?.[1]);

  it('has an "## Error codes" table whose first column is one code in backticks per row', () => {
    expect(rows.length).toBeGreaterThan(0);
    expect(documented.filter((code) => code === undefined)).toEqual([]);
  });

  it('lists exactly the codes of ERROR_CODES, each once', () => {
    const codes = documented as string[];
    expect(codes.filter((code, index) => codes.indexOf(code) !== index), 'duplicate rows').toEqual([]);
    expect([...codes].sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('gives every code a meaning and a cause', () => {
    for (const cells of rows) {
      expect(cells.length, `row ${cells[0]}`).toBeGreaterThanOrEqual(3);
      expect(cells[1], `meaning of ${cells[0]}`).not.toBe('');
      expect(cells[2], `cause of ${cells[0]}`).not.toBe('');
    }
  });
});

describe('docs/protocol.md, peer protocol', () => {
  const protocol = readDoc('protocol.md');
  const peerProtocol = section(protocol, 'Peer protocol (`ws://HOST:PORT/peer`)');

  it('documents every LINK_CLOSE_CODES entry in the close-code table, with its number and name', () => {
    const rows = tableRows(fromSubsection(peerProtocol, 'Close codes'));
    expect(rows.length).toBeGreaterThan(0);
    for (const [name, code] of Object.entries(LINK_CLOSE_CODES)) {
      const row = rows.find((cells) => cells[0] === String(code));
      expect(row, `a close-code row for ${code}`).toBeDefined();
      expect(row![1], `name of close code ${code}`).toBe(`\`${name}\``);
      expect(row![2], `cause of close code ${code}`).not.toBe('');
    }
  });

  it('lists exactly the ops of PEER_OPS in the peer-ops table', () => {
    const rows = tableRows(fromTable(fromSubsection(peerProtocol, 'Peer ops'), 'Op'));
    const ops = rows.map((cells) => /^`([a-z-]+)`$/.exec(cells[0] ?? '')?.[1]);
    expect([...ops].sort()).toEqual([...PEER_OPS].sort());
  });

  it('shows in the `stats` example exactly the counters the components report', () => {
    const stats = section(protocol, 'Client protocol (`ws://HOST:PORT/`)');
    const start = stats.findIndex((line) => line.trim() === '#### `stats`');
    const open = stats.findIndex((line, i) => i > start && line.trim() === '```json');
    const close = stats.findIndex((line, i) => i > open && line.trim() === '```');
    expect(start >= 0 && open > start && close > open, 'a json example under #### `stats`').toBe(true);
    const example = (JSON.parse(stats.slice(open + 1, close).join('\n')) as { stats: Record<string, unknown> }).stats;
    const config = defaultPeerConfig();
    const none = {} as never;
    expect(keysOf(example.store), 'store').toEqual(keysOf(new LocalStore({ maxBytes: config.maxMemory, tombstoneTtlMs: config.tombstoneTtlMs }).stats()));
    expect(keysOf(example.coordinator), 'coordinator').toEqual(keysOf(new Coordinator(none, config).stats));
    expect(keysOf(example.rebalance), 'rebalance').toEqual(keysOf({ ...new Rebalancer(none, config).totals, running: false }));
    expect(keysOf(example.hints), 'hints').toEqual(keysOf({ ...new HintedHandoff(none, config).totals, pending: 0 }));
  });
});

describe('docs/architecture.md', () => {
  it('states the default number of virtual nodes of src/config.ts', () => {
    expect(readDoc('architecture.md')).toContain(`With the default ${defaultPeerConfig().vnodes} vnodes`);
  });
});

describe('docs/operations.md', () => {
  const operations = readDoc('operations.md');
  const rows = tableRows(fromSubsection(section(operations, 'Running a peer'), 'Flags and environment variables'));
  const rowFor = (flag: string): string[] | undefined => rows.find((cells) => cells[0] === `\`--${flag}\``);

  it.each(PEER_OPTIONS.map((spec) => [spec.flag, spec.env] as const))('documents --%s and %s', (flag, env) => {
    expect(operations).toContain(`--${flag}`);
    expect(operations).toContain(env);
    const row = rowFor(flag);
    expect(row, `a row of the flags table for --${flag}`).toBeDefined();
    expect(row![1]).toBe(`\`${env}\``);
  });

  it('has one flags-table row per option and no others', () => {
    expect(rows.map((cells) => cells[0]).sort()).toEqual(PEER_OPTIONS.map((spec) => `\`--${spec.flag}\``).sort());
  });

  it('states the defaults of src/config.ts', () => {
    const defaults = defaultPeerConfig();
    for (const spec of PEER_OPTIONS) {
      const value = defaults[spec.key];
      // id (random), advertise (derived) and bootstrap (empty) have no literal default.
      if (typeof value !== 'number' && typeof value !== 'string') continue;
      if (spec.key === 'id') continue;
      expect(rowFor(spec.flag)?.[2], `default of --${spec.flag}`).toContain(`\`${value}\``);
    }
  });

  it('sizes memory with the entry overhead and entryBytes() of src/store/entry.ts', () => {
    const sizing = section(operations, 'Sizing memory');
    expect(sizing.join('\n')).toContain(`\`ENTRY_OVERHEAD_BYTES\` = ${ENTRY_OVERHEAD_BYTES}`);
    const examples = tableRows(sizing);
    expect(examples.length).toBeGreaterThan(0);
    const budget = defaultPeerConfig().maxMemory;
    const count = (text: string | undefined): number => Number(/^([\d,]+)/.exec(text ?? '')?.[1]?.replace(/,/g, '') ?? NaN);
    for (const [key, value, charged, perPeer] of examples) {
      const bytes = entryBytes('k'.repeat(count(key)), 'v'.repeat(count(value)));
      expect(count(charged), `charged for ${key} / ${value}`).toBe(bytes);
      // "about N": the entries a default budget holds, rounded down to thousands.
      expect(perPeer, `entries per peer for ${key} / ${value}`).toBe(`about ${(Math.floor(budget / bytes / 1000) * 1000).toLocaleString('en-US')}`);
    }
  });
});
