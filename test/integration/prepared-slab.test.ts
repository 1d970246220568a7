// Prepared answers are kept in a slab that is copied when released answers
// outweigh live ones. Many membership changes later, every answer a real
// resolver gets must still be the current state's, byte for byte.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import type { Pod, Service, StatefulSet } from '../../src/model/types.js';

const SERVICE: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'ring' },
  spec: { clusterIP: 'None', selector: { app: 'ring' }, ports: [{ name: 'peer', port: 7000 }] },
};
const SET: StatefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'ring' },
  spec: {
    serviceName: 'ring',
    replicas: 60,
    podManagementPolicy: 'Parallel',
    selector: { matchLabels: { app: 'ring' } },
    template: { metadata: { labels: { app: 'ring' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
  },
};
const DOMAIN = 'ring.default.svc.cluster.local';

describe('prepared answers after many changes', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ podGraceSeconds: 0 });
    cluster.apply([SERVICE, SET]);
  });
  afterAll(() => cluster.close());

  it('answers the current members after the slab has been compacted several times', async () => {
    // Each scale rewrites the 60-member SRV and A answers (several KiB each): 200 rounds release megabytes.
    for (let round = 0; round < 200; round++) {
      cluster.scale('ring', round % 2 === 0 ? 59 : 60);
      if (round % 7 === 0) cluster.deletePod(`ring-${round % 50}`);
    }
    const resolver = cluster.resolver();
    const pods = cluster.list('Pod') as Pod[];
    expect(pods).toHaveLength(60);
    const srv = await resolver.resolveSrv(DOMAIN);
    expect(srv.map((r) => r.name).sort()).toEqual(pods.map((p) => `${p.metadata.name}.${DOMAIN}`).sort());
    const addresses = await resolver.resolve4(DOMAIN);
    expect(addresses.sort()).toEqual(pods.map((p) => p.status!.podIP!).sort());
    for (const pod of pods) {
      expect(await resolver.resolve4(`${pod.metadata.name}.${DOMAIN}`)).toEqual([pod.status!.podIP]);
      expect(await resolver.reverse(pod.status!.podIP!)).toEqual([`${pod.metadata.name}.${DOMAIN}`]);
    }
  });
});
