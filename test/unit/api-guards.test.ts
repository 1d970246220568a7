// The API's request guards as pure functions, and allowedHosts through the app.

import { describe, expect, it } from 'vitest';
import { buildApiApp } from '../../src/api/app.js';
import { HostPolicy, countParam, crossSiteReason, hostName, resourceVersionParam, tokenMatches } from '../../src/api/guards.js';
import { Metrics } from '../../src/api/metrics.js';
import { ObjectStore } from '../../src/store/store.js';

describe('hostName', () => {
  it.each([
    ['127.0.0.1:8053', '127.0.0.1'],
    ['LocalHost', 'localhost'],
    ['[::1]:8053', '::1'],
    ['[::1]', '::1'],
    ['example.test:1', 'example.test'],
  ])('%s → %s', (header, host) => expect(hostName(header)).toBe(host));

  it.each(['', '::1', '[evil.example.com]', 'a b', 'user@127.0.0.1', '127.0.0.1:', '127.0.0.1:abc', '127.0.0.1/x', '[::1]x'])('%j is not a Host', (header) => {
    expect(hostName(header)).toBeUndefined();
  });
});

describe('HostPolicy', () => {
  it('loopback always; configured names and addresses, case-insensitive; nothing else', () => {
    const policy = new HostPolicy(['192.168.1.5', 'My-Laptop.local', '[fd00::5]']);
    for (const host of ['localhost:1', '127.200.1.1', '[::1]', '192.168.1.5:8053', 'my-laptop.LOCAL', '[FD00::5]:80', undefined]) expect(policy.allows(host), String(host)).toBe(true);
    for (const host of ['192.168.1.6', 'evil.example.com', 'localhost.evil.example.com', '127.0.0.1.nip.io', '128.0.0.1', '[::2]', '']) expect(policy.allows(host), host).toBe(false);
  });

  it('a wildcard bind admits every address literal, but no name', () => {
    const policy = new HostPolicy(['0.0.0.0']);
    expect(policy.allows('10.9.8.7:8053')).toBe(true);
    expect(policy.allows('[2001:db8::1]:8053')).toBe(true);
    expect(policy.allows('evil.example.com')).toBe(false);
  });
});

describe('crossSiteReason', () => {
  it('passes non-browser requests and same-origin pages', () => {
    expect(crossSiteReason({ host: '127.0.0.1:8053' })).toBeUndefined();
    expect(crossSiteReason({ host: '127.0.0.1:8053', origin: 'http://127.0.0.1:8053', 'sec-fetch-site': 'same-origin' })).toBeUndefined();
    expect(crossSiteReason({ host: '127.0.0.1:80', origin: 'http://127.0.0.1' })).toBeUndefined();
    expect(crossSiteReason({ host: 'localhost:8053', 'sec-fetch-site': 'none' })).toBeUndefined();
    // An HTTPS server's own page (the web page, when --token or --exec make the API HTTPS).
    expect(crossSiteReason({ host: '127.0.0.1:8053', origin: 'https://127.0.0.1:8053', 'sec-fetch-site': 'same-origin' }, true)).toBeUndefined();
    expect(crossSiteReason({ host: '127.0.0.1:8053', origin: 'http://127.0.0.1:8053' }, true)).toBeDefined();
  });

  it.each([
    { host: '127.0.0.1:8053', origin: 'http://evil.example.com' },
    { host: '127.0.0.1:8053', origin: 'null' },
    { host: '127.0.0.1:8053', origin: 'https://127.0.0.1:8053' },
    { host: '127.0.0.1:8053', origin: 'http://localhost:8053' },
    { host: '127.0.0.1:8053', origin: 'not a url' },
    { origin: 'http://127.0.0.1:8053' },
    { host: '127.0.0.1:8053', 'sec-fetch-site': 'cross-site' },
    { host: '127.0.0.1:8053', 'sec-fetch-site': 'same-site' },
  ])('refuses %j', (headers) => expect(crossSiteReason(headers)).toBeDefined());
});

describe('tokenMatches', () => {
  it('only the exact value matches, whatever the lengths', () => {
    expect(tokenMatches('Bearer abcdefgh', 'Bearer abcdefgh')).toBe(true);
    for (const presented of ['Bearer abcdefg', 'Bearer abcdefghi', 'bearer abcdefgh', '', undefined]) expect(tokenMatches('Bearer abcdefgh', presented)).toBe(false);
  });
});

describe('query numbers', () => {
  it('resourceVersion is plain decimal or absent', () => {
    expect(resourceVersionParam(undefined)).toBeUndefined();
    expect(resourceVersionParam('')).toBeUndefined();
    expect(resourceVersionParam('0')).toBe('0');
    expect(resourceVersionParam('12345')).toBe('12345');
    for (const bad of ['0x10', '1e3', '-1', '1.5', '+7', ' 7', '7 ', 'abc', '99999999999999999999']) {
      expect(() => resourceVersionParam(bad), bad).toThrow(`resourceVersion: Invalid value: ${JSON.stringify(bad)}`);
    }
  });

  it('timeoutSeconds is a non-negative integer or absent', () => {
    expect(countParam(undefined, 'timeoutSeconds')).toBeUndefined();
    expect(countParam('0', 'timeoutSeconds')).toBe(0);
    expect(countParam('2147484', 'timeoutSeconds')).toBe(2147484);
    for (const bad of ['-1', '1.5', '0x10', 'abc', '1e3', '99999999999999999999']) expect(() => countParam(bad, 'timeoutSeconds'), bad).toThrow(/timeoutSeconds: Invalid value/);
  });
});

describe('allowedHosts through the app', () => {
  it('a configured name is served, any other is a 403 Status', async () => {
    const store = new ObjectStore();
    const { app } = buildApiApp({
      store,
      pods: { delete: (pod) => pod },
      metrics: new Metrics(store),
      packageVersion: '0.0.0',
      serverAddress: () => 'dns.test:8053',
      allowedHosts: ['dns.test'],
    });
    try {
      expect((await app.inject({ method: 'GET', url: '/version', headers: { host: 'dns.test:8053' } })).statusCode).toBe(200);
      const refused = await app.inject({ method: 'GET', url: '/version', headers: { host: 'other.test:8053' } });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
    } finally {
      await app.close();
    }
  });
});
