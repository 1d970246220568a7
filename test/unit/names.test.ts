import { describe, expect, it } from 'vitest';
import { isIPv4 } from 'node:net';
import { dashedIp, isDottedQuad } from '../../src/model/ip.js';
import { addressFromReverse, matchZone, parseRequest, reverseName } from '../../src/records/names.js';

const Z = 'cluster.local.';

describe('parseRequest (CoreDNS parse.go)', () => {
  it.each([
    [Z, { podOrSvc: '' }],
    [`svc.${Z}`, { podOrSvc: '' }],
    [`pod.${Z}`, { podOrSvc: '' }],
    [`testns.svc.${Z}`, { podOrSvc: 'svc', namespace: 'testns' }],
    [`svc1.testns.svc.${Z}`, { podOrSvc: 'svc', namespace: 'testns', service: 'svc1' }],
    [`ep1.svc1.testns.svc.${Z}`, { podOrSvc: 'svc', namespace: 'testns', service: 'svc1', endpoint: 'ep1' }],
    [`_http._tcp.svc1.testns.svc.${Z}`, { podOrSvc: 'svc', service: 'svc1', port: 'http', protocol: 'tcp' }],
    [`http.tcp.svc1.testns.svc.${Z}`, { service: 'svc1', port: 'http', protocol: 'tcp' }],
    [`__http._tcp.svc1.testns.svc.${Z}`, { port: '_http', protocol: 'tcp' }],
    [`10-0-0-1.testns.pod.${Z}`, { podOrSvc: 'pod', namespace: 'testns', service: '10-0-0-1' }],
  ])('%s', (name, expected) => {
    expect(parseRequest(name, Z)).toMatchObject(expected);
  });

  it.each([`foo.${Z}`, `dns-version.${Z}`, `a.b.c.svc1.testns.svc.${Z}`, `x.testns.nope.${Z}`])('%s is not a Kubernetes name', (name) => {
    expect(parseRequest(name, Z)).toBeUndefined();
  });
});

describe('reverse names', () => {
  it.each([
    ['10.0.1.10.in-addr.arpa.', '10.1.0.10'],
    ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.4.3.2.1.ip6.arpa.', '1234:abcd::1'],
    ['0.1.0.10.in-addr.arpa.', '10.0.1.0'],
  ])('%s → %s and back', (name, address) => {
    expect(addressFromReverse(name)).toBe(address);
    expect(reverseName(address)).toBe(name);
  });

  it.each(['1.0.10.in-addr.arpa.', '256.0.0.10.in-addr.arpa.', '01.0.0.10.in-addr.arpa.', '1.2.3.ip6.arpa.', 'x.0.0.10.in-addr.arpa.'])('%s is not a whole address', (name) => {
    expect(addressFromReverse(name)).toBeUndefined();
  });
});

describe('isDottedQuad agrees with net.isIPv4', () => {
  it.each(['10.1.0.10', '0.0.0.0', '255.255.255.255', '256.0.0.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.a', '', '1234.1.1.1', '::1', '1.2.3.4 '])('%j', (text) => {
    expect(isDottedQuad(text)).toBe(isIPv4(text));
  });

  it('on random strings of digits and dots', () => {
    let seed = 7;
    const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      const length = next(16);
      for (let j = 0; j < length; j++) text += '0123456789..'[next(12)];
      expect(isDottedQuad(text), text).toBe(isIPv4(text));
    }
  });
});

describe('dashed endpoint labels (endpointHostname)', () => {
  it.each([
    ['10.1.0.10', '10-1-0-10'],
    ['5678:abcd::1', '5678-abcd--1'],
    ['2001:db8::', '2001-db8--0'],
  ])('%s → %s', (address, label) => {
    expect(dashedIp(address)).toBe(label);
  });
});

describe('matchZone (plugin.Zones.Matches)', () => {
  const zones = ['cluster.local.', 'in-addr.arpa.', 'ip6.arpa.', 'local.'];
  it.each([
    ['kubia.default.svc.cluster.local.', 'cluster.local.'],
    ['cluster.local.', 'cluster.local.'],
    ['xcluster.local.', 'local.'],
    ['10.0.96.10.in-addr.arpa.', 'in-addr.arpa.'],
    ['example.com.', undefined],
    ['arpa.', undefined],
  ])('%s → %s', (name, zone) => {
    expect(matchZone(zones, name)).toBe(zone);
  });

  it('the root zone holds every name', () => {
    expect(matchZone(['.'], 'example.com.')).toBe('.');
  });
});
