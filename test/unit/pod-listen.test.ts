// Listens on every address move to the pod's IP; anything more specific stays.

import { describe, expect, it } from 'vitest';
import { onPodIp } from '../../src/node-dns/pod-listen.js';

const cb = (): void => undefined;
const IP = '127.10.0.9';

describe('listen arguments on the pod IP', () => {
  it.each([
    ['listen()', [], [0, IP]],
    ['listen(cb)', [cb], [0, IP, cb]],
    ['listen(8080)', [8080], [8080, IP]],
    ['listen("8080")', ['8080'], ['8080', IP]],
    ['listen(8080, cb)', [8080, cb], [8080, IP, cb]],
    ['listen(8080, 511, cb)', [8080, 511, cb], [8080, IP, 511, cb]],
    ['listen(8080, "0.0.0.0", cb)', [8080, '0.0.0.0', cb], [8080, IP, cb]],
    ['listen(8080, "::")', [8080, '::'], [8080, IP]],
    ['listen(8080, undefined, cb)', [8080, undefined, cb], [8080, IP, cb]],
    ['listen({ port: 8080 })', [{ port: 8080 }], [{ port: 8080, host: IP }]],
    ['listen({ port: 8080, host: "0.0.0.0" }, cb)', [{ port: 8080, host: '0.0.0.0' }, cb], [{ port: 8080, host: IP }, cb]],
  ])('%s', (_name, args, expected) => {
    expect(onPodIp(args as unknown[], IP)).toEqual(expected);
  });
  it.each([
    ['a named address', [8080, '127.0.0.1', cb]],
    ['a Unix socket', ['/tmp/app.sock', cb]],
    ['options with a host', [{ port: 8080, host: 'localhost' }]],
    ['options with a path', [{ path: '/tmp/app.sock' }]],
    ['a handle', [{ fd: 3 }]],
  ])('leaves %s alone', (_name, args) => {
    expect(onPodIp(args as unknown[], IP)).toEqual(args);
  });
});

describe('listen arguments with ports moved (members sharing 127.0.0.1)', () => {
  const ports = new Map([[8080, 50123]]);
  it.each([
    ['listen(8080)', [8080], [50123, IP]],
    ['listen(8080, cb)', [8080, cb], [50123, IP, cb]],
    ['listen({ port: 8080 })', [{ port: 8080 }], [{ port: 50123, host: IP }]],
    ['listen(9090): not moved', [9090], [9090, IP]],
  ])('%s', (_name, args, expected) => {
    expect(onPodIp(args as unknown[], IP, ports)).toEqual(expected);
  });
});
