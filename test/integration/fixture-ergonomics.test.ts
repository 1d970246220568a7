// Issue 14, test ergonomics: reset() back to the loaded manifests, many
// clusters in one process without leaking descriptors or memory, and a clear
// error when two clusters ask for the same fixed port.

import { readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { isHeadlessDnsError, startCluster } from '../../src/index.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('startCluster ergonomics', () => {
  it('close() finishes under a test that has switched to fake timers, and frees the port', async () => {
    const cluster = await startCluster({ api: false, manifests: [KUBIA_EXAMPLE] });
    const port = cluster.dns.port;
    vi.useFakeTimers();
    try {
      // Nothing advances the fake clock: close() must need no timer of the test's.
      await cluster.close();
    } finally {
      vi.useRealTimers();
    }
    const again = await startCluster({ api: false, dnsPort: port });
    await again.close();
  });

  it('reset() goes back to the manifests it started with: fresh members, the scale and extra objects gone', async () => {
    await using cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
    const ipsBefore = cluster.list('Pod').map((p) => p.status?.podIP);
    cluster.scale('kubia', 4);
    cluster.apply([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'extra', namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: 'x' }, ports: [{ port: 80 }] } }]);
    expect(await cluster.resolver().resolveSrv('kubia.default.svc.cluster.local')).toHaveLength(4);

    cluster.reset();
    expect(cluster.get('Service', 'extra')).toBeUndefined();
    expect(cluster.get('StatefulSet', 'kubia')?.spec?.replicas).toBe(2);
    expect(cluster.readyMembers('kubia')).toEqual(['kubia-0', 'kubia-1']);
    const srv = await cluster.resolver().resolveSrv('kubia.default.svc.cluster.local');
    expect(srv.map((r) => r.name).sort()).toEqual(['kubia-0.kubia.default.svc.cluster.local', 'kubia-1.kubia.default.svc.cluster.local']);
    // New pods: the old ones were deleted, as a test's fresh start would have them.
    expect(cluster.list('Pod').map((p) => p.status?.podIP)).not.toEqual(ipsBefore);
    await expect(cluster.resolver().resolve4('extra.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });

    cluster.reset({ to: 'empty' });
    expect(cluster.get('StatefulSet', 'kubia')).toBeUndefined();
    await expect(cluster.resolver().resolveSrv('kubia.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(() => cluster.reset({ to: 'nothing' as 'empty' })).toThrow(/reset: to must be 'manifests' or 'empty'/);
  });

  it('100 clusters one after another leave no open descriptors and no heap growth behind', async () => {
    const round = async (): Promise<void> => {
      const cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
      await cluster.resolver().resolveSrv('kubia.default.svc.cluster.local');
      await cluster.close();
    };
    for (let i = 0; i < 10; i++) await round(); // warm: module loading, JIT, lazily made caches
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const fdsBefore = openDescriptors();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100; i++) await round();
    gc?.();
    expect(openDescriptors()).toBeLessThanOrEqual(fdsBefore);
    // Without --expose-gc the heap holds some garbage; a leak of one cluster per round (MBs) would still show.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan((gc ? 8 : 64) * 1024 * 1024);
  }, 60_000);

  it('a second cluster on the same fixed DNS or API port fails with LISTEN_FAILED naming the port, and the first keeps answering', async () => {
    const dnsPort = await freePort();
    await using first = await startCluster({ manifests: [KUBIA_EXAMPLE], dnsPort });
    const fdsBefore = openDescriptors();
    const error = await startCluster({ manifests: [KUBIA_EXAMPLE], dnsPort }).catch((e: unknown) => e);
    expect(isHeadlessDnsError(error) && error.code).toBe('LISTEN_FAILED');
    expect(String((error as Error).message)).toContain(`127.0.0.1:${dnsPort}`);
    expect(String((error as Error).message)).toMatch(/EADDRINUSE/);

    const apiError = await startCluster({ apiPort: first.api.port }).catch((e: unknown) => e);
    expect(isHeadlessDnsError(apiError) && apiError.code).toBe('LISTEN_FAILED');
    expect(String((apiError as Error).message)).toContain(`for the API`);
    expect(String((apiError as Error).message)).toContain(`:${first.api.port}`);

    // The failed starts closed what they had opened.
    expect(openDescriptors()).toBeLessThanOrEqual(fdsBefore);
    expect(await first.resolver().resolveSrv('kubia.default.svc.cluster.local')).toHaveLength(2);
  });
});
