// node srv.mjs, in a project that installed headless-dns: a cluster started
// in-process from the kubia example shipped in the package, asked for the SRV
// records of its headless Service, and closed.
import { examples, startCluster } from 'headless-dns';

const cluster = await startCluster({ manifests: [examples.kubia] });
try {
  const peers = await cluster.resolver().resolveSrv('kubia.default.svc.cluster.local');
  console.log(peers.map(({ name, port }) => `${name}:${port}`).sort().join('\n'));
} finally {
  await cluster.close();
}
