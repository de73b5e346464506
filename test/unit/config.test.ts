import { describe, expect, it } from 'vitest';
import { defaultPeerConfig, parseByteSize, peerConfigFromEnv, PEER_OPTIONS, resolvePeerConfig, retransmitLimit, suspicionTimeoutMs, testPeerConfig } from '../../src/config.js';
import { CacheError } from '../../src/errors.js';

describe('peer config', () => {
  it('validates and freezes the defaults and the test preset', () => {
    const config = resolvePeerConfig();
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.replicas).toBe(2);
    expect(resolvePeerConfig({}, testPeerConfig()).probeIntervalMs).toBeLessThan(config.probeIntervalMs);
  });

  it('maps every config field to exactly one flag and environment variable', () => {
    const fields = Object.keys(defaultPeerConfig()).sort();
    expect(PEER_OPTIONS.map((o) => o.key).sort()).toEqual(fields);
    for (const option of PEER_OPTIONS) expect(option.env).toMatch(/^RINGCACHE_[A-Z_]+$/);
  });

  it.each([
    [{ replicas: 0 }, '--replicas'],
    [{ port: 70000 }, '--port'],
    [{ bootstrap: ['http://x'] }, '--bootstrap'],
    [{ probeTimeoutMs: 900, probeIntervalMs: 500 }, '--probe-timeout'],
    [{ writeAcks: 3, replicas: 2 }, '--write-acks'],
    [{ id: 'has space' }, '--id'],
  ])('rejects %o naming %s', (overrides, flag) => {
    try {
      resolvePeerConfig(overrides as never);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CacheError);
      expect((error as CacheError).code).toBe('BAD_CONFIG');
      expect((error as CacheError).message).toContain(flag);
    }
  });

  it('parses byte sizes with units', () => {
    expect(parseByteSize('256mb')).toBe(256 * 1024 * 1024);
    expect(parseByteSize('1kb')).toBe(1024);
    expect(parseByteSize('4096')).toBe(4096);
    expect(parseByteSize(10)).toBe(10);
    expect(() => parseByteSize('lots')).toThrow(CacheError);
    expect(() => parseByteSize('-1')).toThrow(CacheError);
  });

  it('reads RINGCACHE_* variables', () => {
    const env = { RINGCACHE_PORT: '7100', RINGCACHE_MAX_MEMORY: '64mb', RINGCACHE_BOOTSTRAP: 'ws://127.0.0.1:1,ws://127.0.0.1:2', RINGCACHE_PROBE_INTERVAL: '250' };
    expect(peerConfigFromEnv(env)).toEqual({ port: 7100, maxMemory: 64 * 1024 * 1024, bootstrap: ['ws://127.0.0.1:1', 'ws://127.0.0.1:2'], probeIntervalMs: 250 });
    expect(() => peerConfigFromEnv({ RINGCACHE_PORT: 'seven' })).toThrow(/--port/);
  });

  it('computes the timing formulas (memberlist / SWIM)', () => {
    const config = { suspicionMult: 4, suspicionMinMs: 2000, probeIntervalMs: 500, retransmitMult: 4 };
    expect(suspicionTimeoutMs(config, 3)).toBe(2000);
    expect(suspicionTimeoutMs(config, 100)).toBe(4000);
    expect(suspicionTimeoutMs({ ...config, suspicionMinMs: 1 }, 1)).toBe(2000);
    expect(retransmitLimit(config, 3)).toBe(4);
    expect(retransmitLimit(config, 100)).toBe(12);
  });
});
