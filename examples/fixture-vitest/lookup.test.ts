// Node's networking reaching a member by its cluster name. http.get, net.connect
// and fetch call dns.lookup, which asks the OS rather than setServers; the
// cluster's `lookup` answers cluster names from the registry instead.
import { once } from 'node:events';
import { type IncomingMessage, createServer, get } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { expect, it } from 'vitest';
import { examples, startCluster } from 'headless-dns';

const KUBIA_0 = 'kubia-0.kubia.default.svc.cluster.local';

// A server stands in for kubia-0 on the member's pod IP (127.10.0.1): every
// 127/8 address is loopback on Linux; macOS has only 127.0.0.1 unless aliased.
it.runIf(process.platform === 'linux')('reaches kubia-0 by name with cluster.lookup', async () => {
  await using cluster = await startCluster({ manifests: [examples.kubia] });
  const server = createServer((request, response) => response.end(`hello from ${request.headers.host}`));
  await once(server.listen(0, cluster.get('Pod', 'kubia-0')?.status?.podIP), 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    const [response] = (await once(get(`http://${KUBIA_0}:${port}/`, { lookup: cluster.lookup }), 'response')) as [IncomingMessage];
    expect(Buffer.concat(await response.toArray()).toString()).toBe(`hello from ${KUBIA_0}:${port}`);

    const socket = connect({ host: KUBIA_0, port, lookup: cluster.lookup });
    await once(socket, 'connect');
    expect(socket.remoteAddress).toBe('127.10.0.1');
    socket.destroy();
  } finally {
    server.close();
  }
});
