// The CoreDNS settings as serve flags, through dig: --namespaces,
// --ignore-empty-service, --endpoint-pod-names, --reverse-zones, --fallthrough.

import { fileURLToPath } from 'node:url';
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

describe.runIf(hasDig)('serve --corefile', () => {
  it('takes the cluster\'s settings, names what it does not do, and lets flags win', async () => {
    const file = fileURLToPath(new URL('../fixtures/corefiles/endpoint-pod-names', import.meta.url));
    const served = await startServe(['-f', FIXTURE, '--corefile', file, '--ttl', '7']);
    try {
      const dnsPort = Number(/ready dns=127\.0\.0\.1:(\d+)/.exec(served.stdout())![1]);
      expect(served.stderr()).toContain('corefile: ' + file + ': zone cluster.test, reverse zones 0.10.in-addr.arpa; pods verified; endpoint_pod_names; namespaces testns default; ignore empty_service; ttl 5; forward . → upstream 10.0.0.53:53');
      expect(served.stderr()).toContain("corefile: not applied here: log (no query log), errors, forward's other servers (10.0.0.54), cache 5");
      const a = await dig(dnsPort, 'svc1.testns.svc.cluster.test', 'A');
      expect(a.answer).toEqual(['svc1.testns.svc.cluster.test. 7 IN A 10.0.0.1']);
      expect((await dig(dnsPort, 'svc-empty.testns.svc.cluster.test', 'A')).rcode).toBe('NXDOMAIN');
      // 0.10.in-addr.arpa is the only reverse zone: 10.0.0.1 is in it, 10.1.0.10 (kubia-0's) is not.
      expect((await dig(dnsPort, '1.0.0.10.in-addr.arpa', 'PTR')).answer).toEqual(['1.0.0.10.in-addr.arpa. 7 IN PTR svc1.testns.svc.cluster.test.']);
      // Not ours: handed to the Corefile's forward (10.0.0.53, not reachable here), never answered from the registry.
      const outside = await dig(dnsPort, '10.0.1.10.in-addr.arpa', 'PTR');
      expect(outside.answer).toEqual([]);
      expect(outside.authority.join(' ')).not.toContain('0.10.in-addr.arpa');
    } finally {
      await served.stop();
    }
  });
});

