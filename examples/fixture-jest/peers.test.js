// npx jest: jest's default configuration (CommonJS test files, its globals).
// test/consumers/run.mjs runs this file under jest 29 and 30 with
// --detectOpenHandles, from the packed package: close() leaves nothing open.
const { examples, startCluster } = require('headless-dns');
const { useCluster } = require('headless-dns/testing');
const { findPeers } = require('./peers.js');

const KUBIA = 'kubia.default.svc.cluster.local';

describe('with startCluster', () => {
  let cluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [examples.kubia] });
  });
  afterAll(() => cluster.close());

  test('sees the members a StatefulSet has, as they change', async () => {
    expect(await findPeers(KUBIA, cluster.resolver())).toEqual([
      { name: `kubia-0.${KUBIA}`, port: 80 },
      { name: `kubia-1.${KUBIA}`, port: 80 },
    ]);
    cluster.scale('kubia', 3);
    expect(await findPeers(KUBIA, cluster.resolver())).toHaveLength(3);
  });
});

describe('with useCluster (one server per file, reset before each test)', () => {
  const cluster = useCluster({ beforeAll, afterAll, beforeEach }, { manifests: [examples.kubia] });

  test('scales', async () => {
    cluster().scale('kubia', 3);
    expect(await findPeers(KUBIA, cluster().resolver())).toHaveLength(3);
  });

  test('and every test starts from the manifests again', async () => {
    expect(await findPeers(KUBIA, cluster().resolver())).toHaveLength(2);
  });
});
