// `headless-dns/testing`: one cluster per test file, emptied before each test,
// for any runner with before/after hooks (vitest, jest, node:test).
//
//   import { beforeAll, afterAll, beforeEach } from 'vitest';   // or node:test, or jest globals
//   const cluster = useCluster({ beforeAll, afterAll, beforeEach }, { manifests: ['k8s/'] });
//   it('finds peers', async () => { await cluster().resolver().resolveSrv(...) });

import { type DnsCluster, type StartedCluster, startCluster } from './cluster.js';
import type { ClusterOptions } from './options.js';

type Hook = (fn: () => unknown, timeout?: number) => unknown;

export interface Hooks {
  beforeAll: Hook;
  afterAll: Hook;
  /** When given, the cluster is reset before each test: back to the manifests it started with. */
  beforeEach?: Hook;
}

/** Starts a cluster before the file's tests, closes it after; returns a getter for it. */
export function useCluster(hooks: Hooks, options: ClusterOptions & { api: false }): () => DnsCluster;
export function useCluster(hooks: Hooks, options?: ClusterOptions): () => StartedCluster;
export function useCluster(hooks: Hooks, options: ClusterOptions = {}): () => DnsCluster {
  let cluster: DnsCluster | undefined;
  hooks.beforeAll(async () => {
    cluster = await startCluster(options);
  });
  hooks.afterAll(async () => {
    await cluster?.close();
  });
  if (hooks.beforeEach) hooks.beforeEach(() => cluster!.reset());
  return () => {
    if (!cluster) throw new Error('useCluster: the cluster starts in beforeAll; use it inside tests or hooks');
    return cluster;
  };
}

export { startCluster, type DnsCluster, type StartedCluster };
/** A clock that moves only when told (`clock.advance(300_000)`): pass it as the `clock` option to drive evictions. */
export { ManualClock, type Clock } from './model/clock.js';
