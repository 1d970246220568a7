// The book's "stone-age data store" (kubia-pet-peers): POST / stores the body on
// this member; GET / finds every member through DNS SRV, exactly as in a
// cluster, and shows what each one holds. Started by `headless-dns run`, which
// sets POD_NAME, POD_IP and PORT and routes cluster names to headless-dns.

import { promises as dns } from 'node:dns';
import { get, createServer } from 'node:http';

const pod = process.env.POD_NAME ?? 'local';
const service = process.env.SERVICE ?? 'kubia.default.svc.cluster.local';
let data = '';

function fetchText(host, port, path) {
  return new Promise((resolve) => {
    get({ host, port, path, timeout: 1000 }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve(text));
    }).on('error', (error) => resolve(`(unreachable: ${error.code ?? error.message})`));
  });
}

const server = createServer(async (request, response) => {
  if (request.method === 'POST') {
    let body = '';
    for await (const chunk of request) body += chunk;
    data = body;
    response.end(`Data stored on pod ${pod}\n`);
  } else if (request.url === '/data') {
    response.end(data || 'No data posted yet');
  } else {
    const peers = (await dns.resolveSrv(service).catch(() => [])).sort((a, b) => a.name.localeCompare(b.name));
    const lines = await Promise.all(peers.map(async (peer) => `- ${peer.name}: ${await fetchText(peer.name, peer.port, '/data')}`));
    response.end(`You've hit ${pod}\nData stored in the cluster:\n${lines.join('\n')}\n`);
  }
});

server.listen(Number(process.env.PORT ?? 8080), process.env.POD_IP ?? '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
