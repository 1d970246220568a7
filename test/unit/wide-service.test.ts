// A headless Service with many ports over many endpoints: each `_port._proto`
// name gets its port's entries from one grouping pass (linear), the same
// entries, in the same order, as filtering every endpoint's ports would give.

import { describe, expect, it } from 'vitest';
import { addressRecords, findServiceEntries, type ServiceView, srvRecords } from '../../src/records/build.js';
import { parseRequest } from '../../src/records/names.js';

const ZONE = 'cluster.local.';

function view(ports: number, endpoints: number): ServiceView {
  const portViews = Array.from({ length: ports }, (_, i) => ({ name: `p${i}`, protocol: i % 2 ? 'UDP' : 'TCP', port: 1000 + i }));
  return {
    name: 'wide',
    namespace: 'default',
    type: 'ClusterIP',
    headless: true,
    clusterIPs: [],
    ports: portViews,
    publishNotReadyAddresses: false,
    endpoints: Array.from({ length: endpoints }, (_, i) => ({ address: `10.1.${i >> 8}.${i & 255}`, label: `wide-${i}`, ports: portViews })),
  };
}

describe('a wide headless Service', () => {
  it('answers each _port._proto name with exactly its port\'s entries, in endpoint order', () => {
    const v = view(20, 300);
    for (const [port, protocol] of [['p3', 'udp'], ['p4', 'tcp'], ['P4', 'TCP']] as const) {
      const request = parseRequest(`_${port}._${protocol}.wide.default.svc.${ZONE}`, ZONE)!;
      const entries = findServiceEntries(v, request, ZONE)!;
      const expected = v.endpoints.flatMap((e) => e.ports.filter((p) => p.name.toLowerCase() === port.toLowerCase() && p.protocol.toLowerCase() === protocol.toLowerCase()).map((p) => ({ host: e.address, port: p.port, target: `${e.label}.wide.default.svc.${ZONE}` })));
      expect(entries).toEqual(expected);
      expect(entries).toHaveLength(300);
    }
    // A port with the wrong protocol has none: NXDOMAIN.
    expect(findServiceEntries(v, parseRequest(`_p3._tcp.wide.default.svc.${ZONE}`, ZONE)!, ZONE)).toBeUndefined();
  });

  it('groups once per view: every port name reads the same grouping', () => {
    const v = view(400, 1000);
    const first = findServiceEntries(v, parseRequest(`_p0._tcp.wide.default.svc.${ZONE}`, ZONE)!, ZONE);
    expect(findServiceEntries(v, parseRequest(`_p0._tcp.wide.default.svc.${ZONE}`, ZONE)!, ZONE)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('the Service\'s own SRV and A answers are those of every endpoint × port, at a bounded cost', () => {
    const v = view(500, 100);
    const domain = `wide.default.svc.${ZONE}`;
    const every = v.endpoints.flatMap((e) => e.ports.map((p) => ({ host: e.address, port: p.port, target: `${e.label}.${domain}` })));
    const entries = findServiceEntries(v, parseRequest(domain, ZONE)!, ZONE)!;
    expect(entries.length).toBeLessThan(every.length / 10);
    expect(srvRecords(entries, domain, 30)).toEqual(srvRecords(every, domain, 30));
    expect(addressRecords(entries, domain, 4, 30)).toEqual(addressRecords(every, domain, 4, 30));
    expect(addressRecords(entries, domain, 4, 30)).toHaveLength(100);
  });
});
