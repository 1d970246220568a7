// CoreDNS kubernetes plugin settings (issue 15 item 5), against answer() on the
// shared fixture plus a Deployment-style headless Service: namespaces,
// endpoint_pod_names, ignore empty_service, reverse zones and fallthrough.

import { describe, expect, it } from 'vitest';
import { answer } from '../../src/dns/answer.js';
import { RCODE_NAMES, typeCode } from '../../src/dns/constants.js';
import { loadManifests } from '../../src/model/manifest.js';
import type { KubeObject } from '../../src/model/types.js';
import type { DnsConfig } from '../../src/records/build.js';
import { RecordIndex } from '../../src/records/index.js';
import { ObjectStore } from '../../src/store/store.js';
import { FIXTURE, KUBEADM } from '../support/fixture.js';
import { rrSet } from '../support/zone.js';

const Z = 'cluster.local.';

/** A headless Service whose endpoints have no hostname, only their pods (a Deployment's). */
const WEB: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'testns' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80 }] } },
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc', namespace: 'testns', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    endpoints: [{ addresses: ['172.0.0.40'], targetRef: { kind: 'Pod', name: 'web-7c9f-x2k', namespace: 'testns' } }],
  },
] as KubeObject[];

function indexWith(config: Partial<DnsConfig>): RecordIndex {
  const store = new ObjectStore();
  store.apply([...loadManifests([FIXTURE]).objects.map((m) => m.object), ...WEB]);
  return new RecordIndex(store, { ...KUBEADM, ...config });
}

function ask(index: RecordIndex, name: string, type: string): { rcode: string; answer: string[]; authority: string[]; fallthrough: boolean } | string {
  const result = answer({ name, type: typeCode(type)! }, index);
  if (result.kind !== 'reply') return result.kind;
  return { rcode: RCODE_NAMES[result.rcode]!, answer: rrSet(result.answer), authority: rrSet(result.authority), fallthrough: result.fallthrough === true };
}

describe('namespaces', () => {
  const index = indexWith({ namespaces: ['testns'] });
  it.each([
    [`svc1.testns.svc.${Z}`, 'A', 'NOERROR'],
    [`kubia.default.svc.${Z}`, 'A', 'NXDOMAIN'],
    [`kubia-0.kubia.default.svc.${Z}`, 'A', 'NXDOMAIN'],
    [`kubia.default.svc.${Z}`, 'SRV', 'NXDOMAIN'],
    [`default.svc.${Z}`, 'A', 'NXDOMAIN'],
    [`10-1-0-10.default.pod.${Z}`, 'A', 'NXDOMAIN'],
    [`10-1-0-10.testns.pod.${Z}`, 'A', 'NOERROR'],
    ['10.0.1.10.in-addr.arpa.', 'PTR', 'NXDOMAIN'],
    ['1.0.0.10.in-addr.arpa.', 'PTR', 'NOERROR'],
  ])('%s %s → %s', (name, type, rcode) => {
    expect((ask(index, name, type) as { rcode: string }).rcode).toBe(rcode);
  });
  it('every namespace without the setting', () => {
    expect((ask(indexWith({}), `kubia.default.svc.${Z}`, 'A') as { rcode: string }).rcode).toBe('NOERROR');
  });
});

describe('endpoint_pod_names', () => {
  const web = `web.testns.svc.${Z}`;
  it('names an endpoint without a hostname by its pod', () => {
    const index = indexWith({ endpointPodNames: true });
    expect(ask(index, `web-7c9f-x2k.${web}`, 'A')).toMatchObject({ rcode: 'NOERROR', answer: [`web-7c9f-x2k.${web} 30 IN A 172.0.0.40`] });
    expect(ask(index, `172-0-0-40.${web}`, 'A')).toMatchObject({ rcode: 'NXDOMAIN' });
    expect(ask(index, web, 'SRV')).toMatchObject({ answer: [`${web} 30 IN SRV 0 100 80 web-7c9f-x2k.${web}`] });
    expect(ask(index, '40.0.0.172.in-addr.arpa.', 'PTR')).toMatchObject({ answer: [`40.0.0.172.in-addr.arpa. 30 IN PTR web-7c9f-x2k.${web}`] });
    // A hostname still wins.
    expect(ask(index, `kubia-0.kubia.default.svc.${Z}`, 'A')).toMatchObject({ rcode: 'NOERROR' });
  });
  it('without it, the dashed address', () => {
    const index = indexWith({});
    expect(ask(index, `172-0-0-40.${web}`, 'A')).toMatchObject({ rcode: 'NOERROR', answer: [`172-0-0-40.${web} 30 IN A 172.0.0.40`] });
    expect(ask(index, `web-7c9f-x2k.${web}`, 'A')).toMatchObject({ rcode: 'NXDOMAIN' });
  });
});

describe('ignore empty_service', () => {
  it.each([
    [true, `svc-empty.testns.svc.${Z}`, 'A', 'NXDOMAIN'],
    [true, `svc-empty.testns.svc.${Z}`, 'SRV', 'NXDOMAIN'],
    [true, `_http._tcp.svc-empty.testns.svc.${Z}`, 'SRV', 'NXDOMAIN'],
    [false, `svc-empty.testns.svc.${Z}`, 'A', 'NOERROR'],
    // Only ClusterIP Services: a headless one and one with endpoints are as before.
    [true, `svc1.testns.svc.${Z}`, 'A', 'NOERROR'],
    [true, `hdls-empty.testns.svc.${Z}`, 'A', (ask(indexWith({}), `hdls-empty.testns.svc.${Z}`, 'A') as { rcode: string }).rcode],
  ])('ignore %s: %s %s → %s', (ignore, name, type, rcode) => {
    expect((ask(indexWith({ ignoreEmptyService: ignore }), name, type) as { rcode: string }).rcode).toBe(rcode);
  });
});

describe('reverse zones', () => {
  const index = indexWith({ reverseZones: ['0.0.10.in-addr.arpa.'] });
  it('answers PTR only inside them, with their own SOA on negative answers', () => {
    expect(ask(index, '1.0.0.10.in-addr.arpa.', 'PTR')).toMatchObject({ rcode: 'NOERROR', answer: [`1.0.0.10.in-addr.arpa. 30 IN PTR svc1.testns.svc.${Z}`] });
    expect(ask(index, '10.0.1.10.in-addr.arpa.', 'PTR')).toBe('outOfZone');
    expect(ask(index, '99.0.0.10.in-addr.arpa.', 'PTR')).toMatchObject({
      rcode: 'NXDOMAIN',
      authority: ['0.0.10.in-addr.arpa. 30 IN SOA ns.dns.0.0.10.in-addr.arpa. hostmaster.0.0.10.in-addr.arpa. 0 7200 1800 86400 30'],
      fallthrough: true,
    });
    expect(ask(index, '0.0.10.in-addr.arpa.', 'SOA')).toMatchObject({ rcode: 'NOERROR', answer: ['0.0.10.in-addr.arpa. 30 IN SOA ns.dns.0.0.10.in-addr.arpa. hostmaster.0.0.10.in-addr.arpa. 0 7200 1800 86400 30'] });
  });
});

describe('fallthrough', () => {
  const nxCluster = `nope.testns.svc.${Z}`;
  const nxReverse = '99.9.9.10.in-addr.arpa.';
  it.each([
    ['default (kubeadm: the reverse zones)', undefined, false, true],
    ['every zone', [], true, true],
    ['the cluster zone only', [Z], true, false],
    ['in-addr.arpa only', ['in-addr.arpa.'], false, true],
  ])('%s', (_name, fallthrough, cluster, reverse) => {
    const index = indexWith(fallthrough ? { fallthrough } : {});
    expect((ask(index, nxCluster, 'A') as { fallthrough: boolean }).fallthrough).toBe(cluster);
    expect((ask(index, nxReverse, 'PTR') as { fallthrough: boolean }).fallthrough).toBe(reverse);
    // NODATA never falls through.
    expect((ask(index, `svc1.testns.svc.${Z}`, 'AAAA') as { fallthrough: boolean }).fallthrough).toBe(false);
  });
});
