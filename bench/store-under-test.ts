/**
 * The package's `createStore` as the benchmarks see it, loaded at run time from the built
 * package root so that bench/ builds whether or not the store has landed, and keeps building if
 * its optional exports (policy list, default policy) are named differently.
 */

/** What the benchmarks use of a store made by `createStore`. */
export interface BenchStore {
  get(key: string | number): unknown;
  set(key: string | number, value: string, ttlMs?: number): boolean;
  delete(key: string | number): boolean;
  readonly size: number;
  readonly bytes: number;
  stats?(): Record<string, unknown>;
}

export interface CreateStoreOptions {
  policy: string;
  maxEntries?: number;
  maxBytes?: number;
  now?: () => number;
  /** Active expiry period and slice budget, in ms (when the store has active expiry). */
  sweepIntervalMs?: number;
  sweepBudgetMs?: number;
}

export interface StoreUnderTest {
  /** Undefined when the package root does not export `createStore` (yet). */
  createStore: ((options: CreateStoreOptions) => BenchStore) | undefined;
  /** The policies to measure: the package's exported list when it has one, else the issue's. */
  policies: string[];
  /** The default policy and where it was read from, when the package says. */
  defaultPolicy: { name: string; source: string } | undefined;
  /** The module `createStore` came from: the package root, or (before it is exported there) the store's own module. */
  source: string;
}

/** The issue's policies, used when the package exports no list. */
export const ISSUE_POLICIES = ['lru', 'lfu', 's3-fifo', 'w-tinylfu', 'none'];

/** Export names tried, in order, for the list of policies and for the default one. */
const POLICY_LIST_EXPORTS = ['EVICTION_POLICIES', 'STORE_POLICIES', 'POLICIES', 'evictionPolicies'];
const DEFAULT_POLICY_EXPORTS = ['DEFAULT_EVICTION_POLICY', 'DEFAULT_STORE_POLICY', 'DEFAULT_POLICY', 'defaultEvictionPolicy'];
/** Fields of `defaultPeerConfig()` tried for the default policy. */
const CONFIG_POLICY_FIELDS = ['eviction', 'evictionPolicy', 'storePolicy', 'policy'];

/** Module tried when the package root does not export `createStore` yet (a variable, so the build does not need it). */
const STORE_MODULE = '../src/store/create-store.js';

export async function loadStoreUnderTest(): Promise<StoreUnderTest> {
  let mod = (await import('../src/index.js')) as unknown as Record<string, unknown>;
  let source = 'src/index.ts (package root)';
  if (typeof mod.createStore !== 'function') {
    try {
      const own = (await import(STORE_MODULE)) as Record<string, unknown>;
      if (typeof own.createStore === 'function') {
        mod = { ...mod, ...own };
        source = 'src/store/create-store.ts (not yet exported from the package root)';
      }
    } catch {
      // Not there either: lru-cache only.
    }
  }
  const createStore = typeof mod.createStore === 'function' ? (mod.createStore as StoreUnderTest['createStore']) : undefined;

  let policies = ISSUE_POLICIES;
  for (const name of POLICY_LIST_EXPORTS) {
    const list = mod[name];
    if (Array.isArray(list) && list.length > 0 && list.every((p) => typeof p === 'string')) {
      policies = list as string[];
      break;
    }
  }

  let defaultPolicy: StoreUnderTest['defaultPolicy'];
  for (const name of DEFAULT_POLICY_EXPORTS) {
    if (typeof mod[name] === 'string') {
      defaultPolicy = { name: mod[name] as string, source: `export ${name}` };
      break;
    }
  }
  if (!defaultPolicy && typeof mod.defaultPeerConfig === 'function') {
    const config = (mod.defaultPeerConfig as () => Record<string, unknown>)();
    for (const field of CONFIG_POLICY_FIELDS) {
      if (typeof config[field] === 'string') {
        defaultPolicy = { name: config[field] as string, source: `defaultPeerConfig().${field}` };
        break;
      }
    }
  }
  return { createStore, policies, defaultPolicy, source };
}
