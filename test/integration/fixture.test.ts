// startCluster as a test fixture: many per process, fast to close, and usable
// from Node's own networking.

import { createSocket } from 'node:dgram';
import { get } from 'node:http';
import { createServer, connect, type AddressInfo } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/index.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

function bindBoth(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const tcp = createServer();
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', () => {
      const udp = createSocket('udp4');
      udp.once('error', (error) => {
        tcp.close();
        reject(error);
      });
      udp.bind(port, '127.0.0.1', () => {
        udp.close();
        tcp.close(() => resolve());
      });
    });
  });
}

const service = (name: string, ip: string, port: number) => [
  { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', ports: [{ name: 'http', port }] } },
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port }],
    endpoints: [{ addresses: [ip] }],
  },
] as const;

describe('many clusters in one process', () => {
  it('answer independently', async () => {
    const [a, b] = await Promise.all([startCluster({ manifests: [KUBIA_EXAMPLE] }), startCluster({})]);
    try {
      expect(a.dns.port).not.toBe(b.dns.port);
      expect(await a.resolver().resolveSrv('kubia.default.svc.cluster.local')).toHaveLength(2);
      await expect(b.resolver().resolveSrv('kubia.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
      b.apply([...service('kubia', '10.7.0.1', 80)] as never);
      expect(await b.resolver().resolve4('kubia.default.svc.cluster.local')).toEqual(['10.7.0.1']);
      expect((await a.resolver().resolve4('kubia.default.svc.cluster.local')).sort()).toEqual(['127.10.0.1', '127.10.0.2']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('close()', () => {
  it('frees both ports at once, quickly, while clients hold connections', async () => {
    const cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
    const dnsClient = connect({ port: cluster.dns.port, host: '127.0.0.1' });
    await new Promise((resolve) => dnsClient.on('connect', resolve));
    const watch = await fetch(`${cluster.api.url}/api/v1/pods?watch=true`);
    const keepAlive = connect({ port: cluster.api.port, host: '127.0.0.1' });
    await new Promise((resolve) => keepAlive.on('connect', resolve));
    keepAlive.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((resolve) => keepAlive.once('data', resolve));

    const started = performance.now();
    await cluster.close();
    const took = performance.now() - started;
    expect(took).toBeLessThan(100);
    await cluster.close();
    await expect(watch.text()).resolves.toBeTypeOf('string');
    await bindBoth(cluster.dns.port);
    await bindBoth(cluster.api.port);
    dnsClient.destroy();
    keepAlive.destroy();
  });

  it('await using closes the cluster at the end of the block', async () => {
    let port = 0;
    {
      await using cluster = await startCluster({});
      port = cluster.dns.port;
      expect((await cluster.resolver().resolveSoa('cluster.local')).nsname).toBe('ns.dns.cluster.local');
    }
    await bindBoth(port);
  });
});

describe('lookup', () => {
  let cluster: StartedCluster;
  let server: ReturnType<typeof createHttpServer>;
  let port: number;
  beforeAll(async () => {
    server = createHttpServer((request, response) => response.end(`hello from ${request.headers.host}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    cluster = await startCluster({});
    cluster.apply([...service('web', '127.0.0.1', port)] as never);
  });
  afterAll(async () => {
    await cluster.close();
    server.close();
  });

  it('works as http.get’s lookup, and leaves other names to the OS', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      get(`http://web.default.svc.cluster.local:${port}/`, { lookup: cluster.lookup }, (response) => {
        let text = '';
        response.on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe(`hello from web.default.svc.cluster.local:${port}`);
    const local = await new Promise<string>((resolve, reject) =>
      cluster.lookup('localhost', { family: 4 }, (error, address) => (error ? reject(error) : resolve(address as string))),
    );
    expect(local).toBe('127.0.0.1');
    await expect(
      new Promise((resolve, reject) => cluster.lookup('nope.default.svc.cluster.local', {}, (error, address) => (error ? reject(error) : resolve(address)))),
    ).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('routes global fetch through the registry once the process is routed, and stops after', async () => {
    const unroute = cluster.routeProcessDns();
    try {
      expect(await (await fetch(`http://web.default.svc.cluster.local:${port}/`)).text()).toBe(`hello from web.default.svc.cluster.local:${port}`);
      const { promises } = await import('node:dns');
      expect(await promises.resolveSrv('web.default.svc.cluster.local')).toEqual([{ name: '127-0-0-1.web.default.svc.cluster.local', port, priority: 0, weight: 100 }]);
    } finally {
      unroute();
    }
    // (fetch would reuse its pooled connection; the lookup itself is what stops.)
    const { promises } = await import('node:dns');
    await expect(promises.lookup('web.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('fixture helpers: scale, setReady, deletePod, events, waitFor, reset', async () => {
    const events: string[] = [];
    const stop = cluster.onEvent((e) => events.push(`${e.type} ${e.object.kind}/${e.object.metadata.name}`));
    cluster.apply((await import('../../src/model/manifest.js')).loadManifests([KUBIA_EXAMPLE]).objects.map((m) => m.object));
    await cluster.waitForReadyMembers('kubia', 2);
    cluster.scale('kubia', 3);
    expect(cluster.readyMembers('kubia')).toEqual(['kubia-0', 'kubia-1', 'kubia-2']);
    cluster.setReady('kubia-1', false);
    expect(cluster.readyMembers('kubia')).toEqual(['kubia-0', 'kubia-2']);
    const waiting = cluster.waitFor(async (c) => (await c.resolver().resolveSrv('kubia.default.svc.cluster.local')).length === 3);
    cluster.setReady('kubia-1', true);
    await waiting;
    const before = cluster.get('Pod', 'kubia-0')!.status!.podIP;
    cluster.deletePod('kubia-0');
    expect(cluster.get('Pod', 'kubia-0')!.status!.podIP).not.toBe(before);
    expect(cluster.list('Pod', { labelSelector: 'app=kubia' })).toHaveLength(3);
    await expect(cluster.waitFor(() => false, { timeoutMs: 50 })).rejects.toThrow(/not true after 50 ms/);
    stop();
    expect(events).toContain('DELETED Pod/kubia-0');
    cluster.reset();
    // What a fresh cluster has: its namespaces and its node (reset heals nodes, it does not remove them).
    expect(cluster.store.all().filter((o) => o.kind !== 'Event').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(['Namespace/default', 'Namespace/kube-system', 'Node/headless-dns']);
    await expect(cluster.resolver().resolve4('web.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});
