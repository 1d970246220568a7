// The web page (/ui): static files shipped in the package's ui/ directory,
// read once and served as they are (no build step, nothing from a CDN), and
// the dig box's endpoint, which asks this server's DNS port as dig would.
// The page itself holds no data: it reads everything through the API with
// the token the user enters, so its files are served without one.
//
// The page follows six kinds. A browser opens at most six HTTP/1.1
// connections to one server, so six watches (and the query log's) would leave
// none for its buttons: /ui/watch carries them all on one stream instead,
// each kind's objects first, then every store event of those kinds.

import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { QTYPE, typeCode } from '../dns/constants.js';
import { exchangeTcp, exchangeUdp } from '../dns/forward.js';
import { digText } from '../dns/print.js';
import { buildQuery } from '../dns/wire.js';
import { packageFile } from '../package-root.js';
import type { Kind } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import { ApiError } from './status.js';

/** What the page shows: StatefulSets and their members and claims, Services and their slices, Nodes. */
const WATCHED: readonly Kind[] = ['StatefulSet', 'Pod', 'PersistentVolumeClaim', 'Service', 'EndpointSlice', 'Node'];

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** Paths served without the token: the page's own files, which carry nothing of the cluster. */
export function isUiFile(path: string): boolean {
  return path === '/ui' || path === '/ui/' || (path.startsWith('/ui/') && path.slice(4) in FILES);
}

/** A query as dig sends it by default: RD and an EDNS OPT of 1232 bytes. */
function digQuery(name: string, type: number): Buffer {
  const plain = buildQuery(Math.floor(Math.random() * 0x10000), name, type);
  const opt = Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
  const query = Buffer.concat([plain, opt]);
  query.writeUInt16BE(1, 10);
  return query;
}

export function registerUi(app: FastifyInstance, store: ObjectStore, dns: () => { host: string; port: number } | undefined): void {
  const cache = new Map<string, Buffer>();
  const file = (name: string): Buffer => {
    let body = cache.get(name);
    if (!body) cache.set(name, (body = readFileSync(packageFile(`ui/${name}`))));
    return body;
  };
  const send = (name: string) => async (_request: unknown, reply: import('fastify').FastifyReply) =>
    reply
      .type(FILES[name]!)
      // The page runs only its own files: no inline script, nothing from elsewhere.
      .header('Content-Security-Policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
      .header('X-Content-Type-Options', 'nosniff')
      .header('Cache-Control', 'no-cache')
      .send(file(name));
  app.get('/ui', send('index.html'));
  app.get('/ui/', send('index.html'));
  for (const name of Object.keys(FILES)) app.get(`/ui/${name}`, send(name));

  // The ready line's api= URL, opened in a browser, leads to the page; other
  // clients get what the API server's root answers, the list of its paths.
  app.get('/', async (request, reply) => {
    if (/\btext\/html\b/.test(request.headers.accept ?? '')) return reply.redirect('/ui', 302);
    return { paths: ['/api', '/api/v1', '/apis', '/debug/faults', '/debug/queries', '/healthz', '/livez', '/metrics', '/openapi/v2', '/openapi/v3', '/readyz', '/ui', '/version'] };
  });

  // One stream of the kinds the page shows: {"type":"SYNC","kind",items} for
  // each, then {"type":"ADDED"|"MODIFIED"|"DELETED","kind","object"} lines.
  app.get('/ui/watch', async (_request, reply) => {
    void reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    const watched = new Set<string>(WATCHED);
    const unsubscribe = store.subscribe((events) => {
      let lines = '';
      for (const event of events) if (watched.has(event.object.kind)) lines += `${JSON.stringify({ type: event.type, kind: event.object.kind, object: event.object })}\n`;
      if (lines) out.write(lines);
    });
    out.once('close', unsubscribe);
    for (const kind of WATCHED) out.write(`${JSON.stringify({ type: 'SYNC', kind, items: store.list(kind) })}\n`);
    return reply;
  });

  // GET /debug/dig?name=kubia.default.svc.cluster.local&type=SRV[&tcp=true]: the answer as dig shows it.
  app.get('/debug/dig', async (request) => {
    const query = request.query as Record<string, string | undefined>;
    const name = (query.name ?? '').trim();
    const typeText = (query.type ?? 'A').trim().toUpperCase();
    if (!name || name.length > 253 || !/^[A-Za-z0-9_.-]+$/.test(name) || name.split('.').some((label, i, all) => label.length > 63 || (!label && i < all.length - 1))) {
      throw ApiError.of('BadRequest', `name: Invalid value: ${JSON.stringify(query.name ?? '')}: a domain name, e.g. kubia.default.svc.cluster.local`);
    }
    const type = typeCode(typeText);
    if (type === undefined || type === QTYPE.OPT || type > 0xffff) throw ApiError.of('BadRequest', `type: Unsupported value: ${JSON.stringify(query.type)}: a query type such as A, AAAA, SRV, PTR or TYPE65`);
    const server = dns();
    if (!server) throw ApiError.of('NotFound', 'this API has no DNS server to ask');
    const tcp = query.tcp === 'true' || query.tcp === '1';
    const ask = digQuery(name, type);
    const context = { name, type: typeText, server: `${server.host}#${server.port}`, transport: tcp ? ('tcp' as const) : ('udp' as const), millis: 0 };
    const started = performance.now();
    try {
      let reply = tcp ? await exchangeTcp(server, ask) : await exchangeUdp(server, ask);
      // As dig does: a truncated UDP reply is asked again over TCP.
      const retried = !tcp && reply.length >= 4 && (reply[2]! & 0x02) !== 0;
      if (retried) reply = await exchangeTcp(server, ask);
      const text = digText(reply, { ...context, transport: retried ? 'tcp' : context.transport, millis: performance.now() - started, ...(retried ? { retriedOverTcp: true } : {}) });
      return { text, rcode: reply.length >= 4 ? reply[3]! & 0xf : -1 };
    } catch (error) {
      const reason = /timed out/.test((error as Error).message) ? 'timed out' : (error as Error).message;
      return { text: `; <<>> headless-dns dig <<>> ${name} ${typeText}\n;; communications error to ${context.server}: ${reason}\n;; no servers could be reached\n`, rcode: -1 };
    }
  });
}
