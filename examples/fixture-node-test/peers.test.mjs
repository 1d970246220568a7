// node --test examples/fixture-node-test/
// Plain JavaScript on Node 20 has no `await using`: close the cluster yourself.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { examples, startCluster } from 'headless-dns';
import { findPeers } from './peers.mjs';

const KUBIA = 'kubia.default.svc.cluster.local';
let cluster;

before(async () => {
  cluster = await startCluster({ manifests: [examples.kubia] });
});
after(() => cluster.close());

test('finds the StatefulSet members through cluster DNS', async () => {
  const peers = await findPeers(KUBIA, cluster.resolver());
  assert.deepEqual(peers.map((p) => p.name), [`kubia-0.${KUBIA}`, `kubia-1.${KUBIA}`]);
});

test('a deleted member comes back under the same name', async () => {
  const before = cluster.get('Pod', 'kubia-1').status.podIP;
  cluster.deletePod('kubia-1');
  const [address] = await cluster.resolver().resolve4(`kubia-1.${KUBIA}`);
  assert.notEqual(address, before);
  assert.equal((await findPeers(KUBIA, cluster.resolver())).length, 2);
});
