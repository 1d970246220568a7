// Short names as in a pod (dnsPolicy ClusterFirst): the names tried, in order,
// and the resolver settings a pod gets.

import { describe, expect, it } from 'vitest';
import { podDnsEnv, podDnsSettings } from '../../src/kubelet/env.js';
import type { Pod } from '../../src/model/types.js';
import { podSearchList, searchCandidates, searchListFromEnv } from '../../src/node-dns/search.js';

const list = podSearchList('default', 'cluster.local');

describe('the names a pod tries', () => {
  it.each([
    ['kubia', ['kubia.default.svc.cluster.local', 'kubia.svc.cluster.local', 'kubia.cluster.local', 'kubia']],
    ['kubia-0.kubia', ['kubia-0.kubia.default.svc.cluster.local', 'kubia-0.kubia.svc.cluster.local', 'kubia-0.kubia.cluster.local', 'kubia-0.kubia']],
    // A Service's full name has four dots, fewer than ndots 5: the search list first.
    ['kubia.default.svc.cluster.local', ['kubia.default.svc.cluster.local.default.svc.cluster.local', 'kubia.default.svc.cluster.local.svc.cluster.local', 'kubia.default.svc.cluster.local.cluster.local', 'kubia.default.svc.cluster.local']],
    // A member's full name has five: as it is first.
    ['kubia-0.kubia.default.svc.cluster.local', ['kubia-0.kubia.default.svc.cluster.local', 'kubia-0.kubia.default.svc.cluster.local.default.svc.cluster.local', 'kubia-0.kubia.default.svc.cluster.local.svc.cluster.local', 'kubia-0.kubia.default.svc.cluster.local.cluster.local']],
    // Five dots: as it is first.
    ['a.b.c.d.e.f', ['a.b.c.d.e.f', 'a.b.c.d.e.f.default.svc.cluster.local', 'a.b.c.d.e.f.svc.cluster.local', 'a.b.c.d.e.f.cluster.local']],
    // A trailing dot is absolute.
    ['kubia.', ['kubia']],
    ['kubia-0.kubia.default.svc.cluster.local.', ['kubia-0.kubia.default.svc.cluster.local']],
    ['127.0.0.1', ['127.0.0.1']],
    ['::1', ['::1']],
    ['localhost', ['localhost']],
  ])('%s', (name, expected) => {
    expect(searchCandidates(name, list)).toEqual(expected);
  });

  it('ndots comes from the pod, search domains from its namespace', () => {
    expect(searchCandidates('db', { ...podSearchList('shop', 'cluster.local'), ndots: 1 })).toEqual(['db.shop.svc.cluster.local', 'db.svc.cluster.local', 'db.cluster.local', 'db']);
    expect(searchCandidates('db.shop', { ...podSearchList('shop', 'cluster.local'), ndots: 1 })[0]).toBe('db.shop');
  });

  it('reads the members\' environment', () => {
    expect(searchListFromEnv({ HEADLESS_DNS_SEARCH: 'default.svc.cluster.local svc.cluster.local cluster.local', HEADLESS_DNS_NDOTS: '5' })).toEqual(list);
    expect(searchListFromEnv({})).toBeUndefined();
    expect(searchListFromEnv({ HEADLESS_DNS_SEARCH: 'a', HEADLESS_DNS_NDOTS: 'x' })).toEqual({ domains: ['a'], ndots: 5 });
  });
});

describe('a pod\'s resolver settings (GetPodDNS)', () => {
  const pod = (spec: Partial<Pod['spec']>, namespace = 'shop'): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace }, spec: { containers: [], ...spec } }) as Pod;
  it.each([
    ['ClusterFirst (the default)', {}, { searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5 }],
    ['ClusterFirstWithHostNet', { dnsPolicy: 'ClusterFirstWithHostNet' }, { searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], ndots: 5 }],
    ['dnsConfig searches appended, ndots overridden', { dnsConfig: { searches: ['corp.example', 'cluster.local'], options: [{ name: 'ndots', value: '2' }] } }, { searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'], ndots: 2 }],
    ['None: dnsConfig alone', { dnsPolicy: 'None', dnsConfig: { searches: ['corp.example'] } }, { searches: ['corp.example'], ndots: 1 }],
    ['Default: the node\'s own', { dnsPolicy: 'Default' }, undefined],
  ])('%s', (_name, spec, expected) => {
    expect(podDnsSettings(pod(spec as Partial<Pod['spec']>), 'cluster.local')).toEqual(expected);
  });
  it('is given to glibc and to the preload', () => {
    expect(podDnsEnv(pod({}), 'cluster.local')).toEqual({
      HEADLESS_DNS_SEARCH: 'shop.svc.cluster.local svc.cluster.local cluster.local',
      HEADLESS_DNS_NDOTS: '5',
      LOCALDOMAIN: 'shop.svc.cluster.local svc.cluster.local cluster.local',
      RES_OPTIONS: 'ndots:5',
    });
  });
});
