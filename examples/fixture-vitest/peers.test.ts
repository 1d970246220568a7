// The app's peer discovery against a real cluster DNS, one cluster per file.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { examples, startCluster } from 'headless-dns';
import { useCluster } from 'headless-dns/testing';
import { findPeers } from './peers.js';

const KUBIA = 'kubia.default.svc.cluster.local';

describe('with await using (TypeScript, vitest)', () => {
  it('sees the members a StatefulSet has, as they change', async () => {
    await using cluster = await startCluster({ manifests: [examples.kubia] });
    expect(await findPeers(KUBIA, cluster.resolver())).toEqual([
      { name: `kubia-0.${KUBIA}`, port: 80 },
      { name: `kubia-1.${KUBIA}`, port: 80 },
    ]);
    cluster.scale('kubia', 3);
    expect(await findPeers(KUBIA, cluster.resolver())).toHaveLength(3);
    cluster.setReady('kubia-0', false);
    expect((await findPeers(KUBIA, cluster.resolver())).map((p) => p.name)).toEqual([`kubia-1.${KUBIA}`, `kubia-2.${KUBIA}`]);
  });
});

describe('with useCluster (one server per file, reset before each test)', () => {
  const cluster = useCluster({ beforeAll, afterAll, beforeEach }, { manifests: [examples.kubia] });

  it('starts from the manifests', async () => {
    cluster().scale('kubia', 1);
    expect(await findPeers(KUBIA, cluster().resolver())).toHaveLength(1);
  });

  it('and every test starts from them again', async () => {
    expect(await findPeers(KUBIA, cluster().resolver())).toHaveLength(2);
  });
});
