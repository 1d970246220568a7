// The CoreDNS settings as serve flags, through dig: --namespaces,
// --ignore-empty-service, --endpoint-pod-names, --reverse-zones, --fallthrough.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, hasDig } from '../support/dig.js';
import { FIXTURE } from '../support/fixture.js';
import { refusedServe, type Serving, startServe } from '../support/serve.js';

let serving: Serving;
let port: number;

beforeAll(async () => {
  serving = await startServe(['-f', FIXTURE, '--namespaces', 'testns', '--ignore-empty-service', '--reverse-zones', '0.0.10.in-addr.arpa', '--fallthrough']);
  port = Number(/ready dns=127\.0\.0\.1:(\d+)/.exec(serving.stdout())![1]);
});
afterAll(() => serving?.stop());

describe.runIf(hasDig)('serve with CoreDNS settings', () => {
  it('--namespaces: another namespace is NXDOMAIN', async () => {
    expect((await dig(port, 'svc1.testns.svc.cluster.local', 'A')).rcode).toBe('NOERROR');
    expect((await dig(port, 'kubia.default.svc.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
  });
  it('--ignore-empty-service: a ClusterIP Service without endpoints is NXDOMAIN', async () => {
    expect((await dig(port, 'svc-empty.testns.svc.cluster.local', 'A')).rcode).toBe('NXDOMAIN');
  });
  it('--reverse-zones: only that zone is answered; others are refused', async () => {
    const ptr = await dig(port, '1.0.0.10.in-addr.arpa', 'PTR');
    expect(ptr.answer).toEqual(['1.0.0.10.in-addr.arpa. 30 IN PTR svc1.testns.svc.cluster.local.']);
    expect((await dig(port, '10.0.1.10.in-addr.arpa', 'PTR')).rcode).toBe('REFUSED');
  });
});

describe('flags', () => {
  it.each([
    [['--reverse-zones', 'example.com'], /--reverse-zones must be zones under in-addr.arpa or ip6.arpa/],
    [['--fallthrough', 'bad zone!'], /--fallthrough: "bad zone!" is not a domain name/],
  ])('%j is refused', async (args, message) => {
    const refused = await refusedServe(args as string[]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(message);
  });
});
