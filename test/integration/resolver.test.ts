// Real clients against the real server: Node's resolver (c-ares) and dig.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import type { EndpointSlice, Service } from '../../src/model/types.js';
import { dig, hasDig } from '../support/dig.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { ask } from '../support/wire-client.js';

const KUBIA = 'kubia.default.svc.cluster.local';

function headlessWithPods(name: string, count: number): [Service, EndpointSlice] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-slice`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: count }, (_, i) => ({
        addresses: [`10.2.${Math.floor(i / 250)}.${(i % 250) + 1}`],
        hostname: `${name}-${i}`,
      })),
    },
  ];
}

describe('the kubia example through real resolvers', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
    cluster.apply(headlessWithPods('big', 100));
  });
  afterAll(() => cluster.close());

  it('Node resolveSrv finds both members on the endpoint port', async () => {
    const srv = await cluster.resolver().resolveSrv(KUBIA);
    expect(srv.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: `kubia-0.${KUBIA}`, port: 80, priority: 0, weight: 50 },
      { name: `kubia-1.${KUBIA}`, port: 80, priority: 0, weight: 50 },
    ]);
    expect(await cluster.resolver().resolveSrv(`_http._tcp.${KUBIA}`)).toHaveLength(2);
  });

  it('Node resolves members, the headless set, PTR, SOA and dns-version', async () => {
    const r = cluster.resolver();
    expect(await r.resolve4(`kubia-0.${KUBIA}`)).toEqual(['127.10.0.1']);
    expect((await r.resolve4(KUBIA)).sort()).toEqual(['127.10.0.1', '127.10.0.2']);
    expect(await r.reverse('127.10.0.2')).toEqual([`kubia-1.${KUBIA}`]);
    expect(await r.resolveSoa('cluster.local')).toMatchObject({ nsname: 'ns.dns.cluster.local', hostmaster: 'hostmaster.cluster.local', minttl: 30 });
    expect(await r.resolveTxt('dns-version.cluster.local')).toEqual([['1.1.0']]);
  });

  it('Node sees NXDOMAIN as ENOTFOUND and NODATA as ENODATA', async () => {
    const r = cluster.resolver();
    await expect(r.resolve4(`kubia-5.${KUBIA}`)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(r.resolve6(KUBIA)).rejects.toMatchObject({ code: 'ENODATA' });
  });

  it.runIf(hasDig)('dig SRV shows the book answer, glue and flags qr aa', async () => {
    const result = await dig(cluster.dns.port, KUBIA, 'SRV');
    expect(result.rcode).toBe('NOERROR');
    expect(result.flags.slice(0, 2)).toEqual(['qr', 'aa']);
    expect(result.answer.sort()).toEqual([
      `${KUBIA}. 30 IN SRV 0 50 80 kubia-0.${KUBIA}.`,
      `${KUBIA}. 30 IN SRV 0 50 80 kubia-1.${KUBIA}.`,
    ]);
    expect(result.additional.sort()).toEqual([`kubia-0.${KUBIA}. 30 IN A 127.10.0.1`, `kubia-1.${KUBIA}. 30 IN A 127.10.0.2`]);
  });

  it('a 100-pod headless service resolves completely through Node (TC, then TCP)', async () => {
    const r = cluster.resolver({ timeout: 3000 });
    expect(await r.resolve4('big.default.svc.cluster.local')).toHaveLength(100);
    const srv = await r.resolveSrv('big.default.svc.cluster.local');
    expect(srv).toHaveLength(100);
    expect(new Set(srv.map((s) => s.weight))).toEqual(new Set([1]));
    expect(srv.every((s) => s.port === 8080)).toBe(true);
  });

  it.runIf(hasDig)('a 100-pod headless service resolves completely through dig, retrying over TCP', async () => {
    const result = await dig(cluster.dns.port, 'big.default.svc.cluster.local', 'SRV');
    expect(result.raw).toContain('Truncated, retrying in TCP mode');
    expect(result.answer).toHaveLength(100);
    expect(result.additional).toHaveLength(100);
  });

  it('over UDP without EDNS the answer is a prefix that fits 512 bytes, with TC', async () => {
    const a = await ask(cluster.dns.port, 'big.default.svc.cluster.local', 'A', 'udp');
    expect(a.header.tc).toBe(1);
    // 12 header + 35 question bytes, then 16 per A record (owner compressed to the question): 29 fit in 512.
    expect(a.answer.length).toBe(Math.floor((512 - 12 - 35) / 16));
    const srv = await ask(cluster.dns.port, 'big.default.svc.cluster.local', 'SRV', 'udp', { edns: 1232 });
    expect(srv.header.tc).toBe(1);
    expect(srv.answer.length).toBeLessThan(100);
    expect(srv.answer.length).toBeGreaterThan(0);
    const whole = await ask(cluster.dns.port, 'big.default.svc.cluster.local', 'SRV', 'tcp');
    expect(whole.header.tc).toBe(0);
    expect(whole.answer).toHaveLength(100);
    expect(whole.additional).toHaveLength(100);
  });

  it('echoes the question spelling in owners and the zone part of built names (semantics §8)', async () => {
    const srv = await ask(cluster.dns.port, 'KUBIA.Default.svc.ClUsTeR.LoCaL', 'SRV', 'udp');
    expect(srv.answer.sort()).toEqual([
      'KUBIA.Default.svc.ClUsTeR.LoCaL. 30 IN SRV 0 50 80 kubia-0.kubia.default.svc.ClUsTeR.LoCaL.',
      'KUBIA.Default.svc.ClUsTeR.LoCaL. 30 IN SRV 0 50 80 kubia-1.kubia.default.svc.ClUsTeR.LoCaL.',
    ]);
    expect(srv.additional.sort()).toEqual([
      'kubia-0.kubia.default.svc.ClUsTeR.LoCaL. 30 IN A 127.10.0.1',
      'kubia-1.kubia.default.svc.ClUsTeR.LoCaL. 30 IN A 127.10.0.2',
    ]);
    const nx = await ask(cluster.dns.port, 'nope.default.svc.ClUsTeR.lOcAl', 'A', 'tcp');
    expect(nx.rcode).toBe('NXDOMAIN');
    expect(nx.authority).toEqual([
      expect.stringMatching(/^ClUsTeR\.lOcAl\. 30 IN SOA ns\.dns\.ClUsTeR\.lOcAl\. hostmaster\.ClUsTeR\.lOcAl\. \d+ 7200 1800 86400 30$/),
    ]);
    const member = await ask(cluster.dns.port, 'KuBiA-1.Kubia.DEFAULT.svc.Cluster.Local', 'A', 'udp');
    expect(member.answer).toEqual(['KuBiA-1.Kubia.DEFAULT.svc.Cluster.Local. 30 IN A 127.10.0.2']);
  });

  it('an answer cached for a missing name never outlives the change that creates it', async () => {
    const r = cluster.resolver();
    for (let i = 0; i < 3; i++) await expect(r.resolve4('late.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(r.resolveTxt('late.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    const [service, slice] = headlessWithPods('late', 1);
    cluster.apply([service, slice]);
    expect(await r.resolve4('late.default.svc.cluster.local')).toEqual(['10.2.0.1']);
    await expect(r.resolveTxt('late.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENODATA' });
    cluster.store.delete('Service', 'default', 'late');
    await expect(r.resolve4('late.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('a membership change is visible in the very next answer, and the SOA serial moves', async () => {
    const r = cluster.resolver();
    const before = (await r.resolveSoa('cluster.local')).serial;
    const [service, slice] = headlessWithPods('fresh', 3);
    cluster.apply([service, slice]);
    expect(await r.resolveSrv('fresh.default.svc.cluster.local')).toHaveLength(3);
    cluster.apply([{ ...slice, endpoints: slice.endpoints.slice(0, 1) }]);
    expect(await r.resolveSrv('fresh.default.svc.cluster.local')).toEqual([
      { name: 'fresh-0.fresh.default.svc.cluster.local', port: 8080, priority: 0, weight: 100 },
    ]);
    await expect(r.resolve4('fresh-2.fresh.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect((await r.resolveSoa('cluster.local')).serial).toBeGreaterThan(before);
    cluster.store.delete('Service', 'default', 'fresh');
    await expect(r.resolveSrv('fresh.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(r.resolve4('fresh-0.fresh.default.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('out-of-zone names', () => {
  let upstream: StartedCluster;
  let cluster: StartedCluster;
  let alone: StartedCluster;
  beforeAll(async () => {
    upstream = await startCluster({ zone: 'upstream.test' });
    upstream.apply([
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { clusterIP: '10.9.0.1', ports: [{ name: 'http', port: 80 }] } },
    ]);
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], upstream: upstream.dnsServer });
    cluster.apply([
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside' }, spec: { type: 'ExternalName', externalName: 'web.default.svc.upstream.test' } },
    ]);
    alone = await startCluster({ manifests: [KUBIA_EXAMPLE] });
  });
  afterAll(async () => {
    await Promise.all([cluster.close(), upstream.close(), alone.close()]);
  });

  it('are REFUSED without an upstream, with the question echoed and AA off', async () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const reply = await ask(alone.dns.port, 'example.com', 'A', transport);
      expect(reply.rcode).toBe('REFUSED');
      expect(reply.header.aa).toBe(0);
      expect(reply.question[0]?.name).toBe('example.com');
    }
  });

  it('are forwarded to --upstream over UDP and TCP', async () => {
    for (const transport of ['udp', 'tcp'] as const) {
      const reply = await ask(cluster.dns.port, 'web.default.svc.upstream.test', 'A', transport);
      expect(reply.rcode).toBe('NOERROR');
      expect(reply.answer).toEqual(['web.default.svc.upstream.test. 30 IN A 10.9.0.1']);
    }
    await expect(cluster.resolver().resolve4('nope.default.svc.upstream.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('an ExternalName outside the zone gets the CNAME, then the upstream answer', async () => {
    const reply = await ask(cluster.dns.port, 'outside.default.svc.cluster.local', 'A', 'udp');
    expect(reply.answer).toEqual([
      'outside.default.svc.cluster.local. 30 IN CNAME web.default.svc.upstream.test.',
      'web.default.svc.upstream.test. 30 IN A 10.9.0.1',
    ]);
    expect(await cluster.resolver().resolve4('outside.default.svc.cluster.local')).toEqual(['10.9.0.1']);
  });

  it('reverse lookups nobody here owns fall through to the upstream (kubeadm: fallthrough in-addr.arpa ip6.arpa)', async () => {
    expect(await cluster.resolver().reverse('10.9.0.1')).toEqual(['web.default.svc.upstream.test']);
    expect(await cluster.resolver().reverse('127.10.0.1')).toEqual(['kubia-0.kubia.default.svc.cluster.local']);
    await expect(alone.resolver().reverse('10.9.0.1')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('zone transfers and non-IN classes are REFUSED', async () => {
    expect((await ask(alone.dns.port, 'cluster.local', 'AXFR', 'tcp')).rcode).toBe('REFUSED');
  });
});
