// The API's guards, through a real listening server: watch parameters are
// checked before the stream starts, bodies need a Kubernetes media type, only
// requests that name this server (Host) and do not come from another site's
// page (Origin, Sec-Fetch-Site) are served, and every refusal — including the
// HTTP parser's own (header overflow, garbage) — is a Kubernetes Status.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl, kubectlFor } from '../support/kubectl.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, any> | undefined;
}

/** One request over node:http, which (unlike fetch) lets a test set Host and Origin. */
function send(
  cluster: StartedCluster,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer; timeoutMs?: number } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: cluster.api.host, port: cluster.api.port, method, path, headers: {
          host: `127.0.0.1:${cluster.api.port}`,
          // node:http sends a DELETE body without a length unless told, which the server cannot frame.
          ...(options.body !== undefined ? { 'content-length': String(Buffer.byteLength(options.body)) } : {}),
          ...options.headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, any> | undefined;
          try {
            json = JSON.parse(text) as Record<string, any>;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 3000, () => req.destroy(new Error(`no answer to ${method} ${path} within ${options.timeoutMs ?? 3000} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Raw bytes on a socket, for requests node:http would not send; resolves with everything the server wrote. */
function raw(cluster: StartedCluster, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(cluster.api.port, cluster.api.host);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(error)));
    socket.setTimeout(3000, () => socket.destroy(new Error('raw request: no answer within 3000 ms')));
    socket.write(bytes);
  });
}

async function openWatches(cluster: StartedCluster): Promise<number> {
  const metrics = await send(cluster, 'GET', '/metrics');
  return Number(/^headless_dns_api_watches (\d+)$/m.exec(metrics.text)?.[1]);
}

function expectStatus(reply: Reply, code: number, reason: string): void {
  expect(reply.status).toBe(code);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  expect(reply.json).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason });
}

const PODS = '/api/v1/namespaces/default/pods';
const SERVICES = '/api/v1/namespaces/default/services';
const service = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ port: 80 }] } });

describe('the API behind real HTTP', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], dnsPort: 0, apiPort: 0 });
  });
  afterAll(() => cluster.close());

  describe('watch parameters are checked before the stream starts', () => {
    it.each(['abc', '-1', '1.5', '0x10', '1e3', ' 7', '+7', '99999999999999999999999'])('resourceVersion=%j → 400 Status, no stream held', async (rv) => {
      const before = await openWatches(cluster);
      const reply = await send(cluster, 'GET', `${PODS}?watch=true&resourceVersion=${encodeURIComponent(rv)}`, { timeoutMs: 2000 });
      expectStatus(reply, 400, 'BadRequest');
      expect(reply.json!.message).toContain(`resourceVersion: Invalid value: ${JSON.stringify(rv)}`);
      expect(await openWatches(cluster)).toBe(before);
    });

    it.each(['0x10', 'abc', '-1'])('a list or get with resourceVersion=%j is refused the same way (never read as a number)', async (rv) => {
      expectStatus(await send(cluster, 'GET', `${PODS}?resourceVersion=${rv}`), 400, 'BadRequest');
      expectStatus(await send(cluster, 'GET', `${PODS}/kubia-0?resourceVersion=${rv}`), 400, 'BadRequest');
    });

    it('plain decimal resourceVersions still list, get and watch', async () => {
      const list = await send(cluster, 'GET', `${PODS}?resourceVersion=0`);
      expect(list.status).toBe(200);
      const rv = list.json!.metadata.resourceVersion as string;
      expect((await send(cluster, 'GET', `${PODS}/kubia-0?resourceVersion=${rv}`)).status).toBe(200);
      const watch = await send(cluster, 'GET', `${PODS}?watch=1&resourceVersion=${rv}&timeoutSeconds=1`);
      expect(watch.status).toBe(200);
      expect(watch.text).toBe('');
    });

    it.each(['abc', '-1', '1.5', '0x10', '99999999999999999999999'])('timeoutSeconds=%j → 400 Status', async (value) => {
      const before = await openWatches(cluster);
      expectStatus(await send(cluster, 'GET', `${PODS}?watch=true&timeoutSeconds=${value}`, { timeoutMs: 2000 }), 400, 'BadRequest');
      expect(await openWatches(cluster)).toBe(before);
    });

    it('a timeoutSeconds past what setTimeout holds (2^31-1 ms) keeps the watch open instead of closing it at once', async () => {
      const ended = await new Promise<'ended' | 'open'>((resolve, reject) => {
        const req = httpRequest({ host: cluster.api.host, port: cluster.api.port, path: `${PODS}?watch=true&timeoutSeconds=2147484`, agent: false }, (res) => {
          expect(res.statusCode).toBe(200);
          res.resume();
          const timer = setTimeout(() => {
            resolve('open');
            req.destroy();
          }, 500);
          res.on('end', () => {
            clearTimeout(timer);
            resolve('ended');
          });
        });
        req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
        req.end();
      });
      expect(ended).toBe('open');
    });
  });

  describe('bodies need a Kubernetes media type', () => {
    // What a page on this server's own origin sends with a typeless Blob body.
    const ownPage = (): Record<string, string> => ({ origin: `http://127.0.0.1:${cluster.api.port}`, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' });

    it('a POST from a browser without Content-Type → 415 Status, nothing created', async () => {
      for (const headers of [ownPage(), { 'sec-fetch-site': 'same-origin' }, { origin: `http://127.0.0.1:${cluster.api.port}` }]) {
        const reply = await send(cluster, 'POST', SERVICES, { body: service('no-type'), headers });
        expectStatus(reply, 415, 'UnsupportedMediaType');
        expect(reply.json!.message).toBe('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf');
        expect(cluster.get('Service', 'no-type')).toBeUndefined();
      }
    });

    it('a POST without Content-Type from a non-browser client is read as JSON, as the API server does', async () => {
      expect((await send(cluster, 'POST', SERVICES, { body: service('typeless') })).status).toBe(201);
      expect((await send(cluster, 'DELETE', `${SERVICES}/typeless`)).status).toBe(200);
    });

    it.each(['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/evil+json', 'application/x-yaml'])('a POST as %s → 415, nothing created', async (type) => {
      expectStatus(await send(cluster, 'POST', SERVICES, { body: service('odd-type'), headers: { 'content-type': type } }), 415, 'UnsupportedMediaType');
      expect(cluster.get('Service', 'odd-type')).toBeUndefined();
    });

    it('a PUT from a browser without Content-Type → 415, the object unchanged', async () => {
      const before = cluster.get('Service', 'kubia')!;
      const body = JSON.stringify({ ...before, metadata: { ...before.metadata, labels: { changed: 'yes' } } });
      expectStatus(await send(cluster, 'PUT', `${SERVICES}/kubia`, { body, headers: ownPage() }), 415, 'UnsupportedMediaType');
      expectStatus(await send(cluster, 'PUT', `${SERVICES}/kubia`, { body, headers: { 'content-type': 'text/plain' } }), 415, 'UnsupportedMediaType');
      expect(cluster.get('Service', 'kubia')!.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    });

    it('a DELETE with a body of no or an odd type → 415, the object kept; with application/json it deletes', async () => {
      await send(cluster, 'POST', SERVICES, { body: service('doomed'), headers: { 'content-type': 'application/json' } });
      const options = JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
      expectStatus(await send(cluster, 'DELETE', `${SERVICES}/doomed`, { body: options, headers: ownPage() }), 415, 'UnsupportedMediaType');
      expectStatus(await send(cluster, 'DELETE', `${SERVICES}/doomed`, { body: options, headers: { 'content-type': 'text/plain' } }), 415, 'UnsupportedMediaType');
      expect(cluster.get('Service', 'doomed')).toBeDefined();
      expect((await send(cluster, 'DELETE', `${SERVICES}/doomed`, { body: options, headers: { 'content-type': 'application/json' } })).status).toBe(200);
      expect(cluster.get('Service', 'doomed')).toBeUndefined();
    });

    it('JSON and YAML bodies still create', async () => {
      expect((await send(cluster, 'POST', SERVICES, { body: service('as-json'), headers: { 'content-type': 'application/json; charset=utf-8' } })).status).toBe(201);
      const yaml = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: as-yaml\nspec:\n  ports:\n  - port: 80\n';
      expect((await send(cluster, 'POST', SERVICES, { body: yaml, headers: { 'content-type': 'application/yaml' } })).status).toBe(201);
      for (const name of ['as-json', 'as-yaml']) await send(cluster, 'DELETE', `${SERVICES}/${name}`);
    });
  });

  describe('only requests that name this server are served (DNS rebinding)', () => {
    it.each(['evil.example.com', 'evil.example.com:80', 'localhost.evil.example.com', '127.0.0.1.nip.io', 'kubernetes'])('Host: %s → 403 Status, nothing created', async (host) => {
      const refused = await send(cluster, 'GET', PODS, { headers: { host } });
      expectStatus(refused, 403, 'Forbidden');
      expect(refused.json!.message).toBe(`forbidden: Host ${JSON.stringify(host)} does not name this server`);
      expectStatus(await send(cluster, 'POST', SERVICES, { headers: { host, 'content-type': 'application/json' }, body: service('rebound') }), 403, 'Forbidden');
      expect(cluster.get('Service', 'rebound')).toBeUndefined();
    });

    it('loopback names and addresses, with and without port, are this server', async () => {
      const port = cluster.api.port;
      for (const host of [`127.0.0.1:${port}`, '127.0.0.1', '127.1.2.3', 'localhost', `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`, '[::1]']) {
        expect((await send(cluster, 'GET', PODS, { headers: { host } })).status, host).toBe(200);
      }
    });
  });

  describe('cross-site browser requests are refused', () => {
    it.each<Record<string, string>>([
      { origin: 'http://evil.example.com' },
      { origin: 'null' },
      { origin: 'http://127.0.0.1:1' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ])('%j → 403 Status, nothing created', async (headers) => {
      const refused = await send(cluster, 'GET', PODS, { headers });
      expectStatus(refused, 403, 'Forbidden');
      expect(refused.json!.message).toMatch(/^forbidden: a .+ is not served$/);
      expectStatus(await send(cluster, 'POST', SERVICES, { headers: { ...headers, 'content-type': 'application/json' }, body: service('csrf') }), 403, 'Forbidden');
      expect(cluster.get('Service', 'csrf')).toBeUndefined();
    });

    it("the server's own page (same origin) is served", async () => {
      const own = { origin: `http://127.0.0.1:${cluster.api.port}`, 'sec-fetch-site': 'same-origin' };
      expect((await send(cluster, 'GET', PODS, { headers: own })).status).toBe(200);
      expect((await send(cluster, 'GET', PODS, { headers: { 'sec-fetch-site': 'none' } })).status).toBe(200);
    });
  });

  // kubectl sends Host 127.0.0.1:PORT (or localhost:PORT), no Origin, and its bodies
  // (objects, patches, DeleteOptions) typed; none of the guards may stop it.
  it.runIf(hasKubectl)('real kubectl still gets, applies, patches and deletes, by address and by localhost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdns-guards-'));
    const manifest = join(dir, 'svc.yaml');
    writeFileSync(manifest, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: by-kubectl\nspec:\n  clusterIP: None\n  ports:\n  - port: 80\n');
    for (const url of [cluster.api.url, `http://localhost:${cluster.api.port}`]) {
      const kubectl = kubectlFor(url);
      // --raw bodies go out with no Content-Type at all; the API server reads them as JSON.
      writeFileSync(join(dir, 'raw.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'raw-one', labels: { raw: 'yes' } }, spec: { ports: [{ port: 80 }] } }));
      expect(JSON.parse(await kubectl('create', '--raw', `${SERVICES}`, '-f', join(dir, 'raw.json')))).toMatchObject({ kind: 'Service', metadata: { name: 'raw-one' } });
      expect(JSON.parse(await kubectl('replace', '--raw', `${SERVICES}/raw-one`, '-f', join(dir, 'raw.json')))).toMatchObject({ kind: 'Service' });
      await kubectl('delete', '--raw', `${SERVICES}/raw-one`);
      expect(cluster.get('Service', 'raw-one')).toBeUndefined();
      expect(await kubectl('apply', '-f', manifest)).toContain('service/by-kubectl created');
      expect(await kubectl('get', 'pods')).toMatch(/kubia-0\s+1\/1\s+Running/);
      expect(await kubectl('label', 'service', 'by-kubectl', 'checked=yes')).toContain('service/by-kubectl labeled');
      expect(await kubectl('get', 'services', '--watch', '--request-timeout=1s', '-l', 'checked=yes').catch((error: { stdout?: string }) => error.stdout ?? '')).toContain('by-kubectl');
      expect(await kubectl('delete', '-f', manifest)).toContain('service "by-kubectl" deleted');
      expect(cluster.get('Service', 'by-kubectl')).toBeUndefined();
    }
  });

  describe('every refusal is a Status', () => {
    it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('/openapi/v3/%s → 404 Status', async (name) => {
      expectStatus(await send(cluster, 'GET', `/openapi/v3/${name}`), 404, 'NotFound');
    });

    it('/__proto__ and /constructor → 404 Status', async () => {
      expectStatus(await send(cluster, 'GET', '/__proto__'), 404, 'NotFound');
      expectStatus(await send(cluster, 'GET', '/constructor'), 404, 'NotFound');
    });

    it('a 1 MB label selector → 431 with a Status body, not the raw parser reply', async () => {
      const answer = await raw(cluster, `GET ${PODS}?labelSelector=app%3D${'a'.repeat(1024 * 1024)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      const body = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
      expect(body).toMatchObject({ kind: 'Status', status: 'Failure', code: 431, message: 'Request Header Fields Too Large' });
    });

    it('a request the HTTP parser cannot read → 400 with a Status body', async () => {
      const answer = await raw(cluster, 'GET /api HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nope\r\n\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
    });

    it('a bad percent-encoding in the path → 400 Status', async () => {
      expectStatus(await send(cluster, 'GET', '/api/v1/namespaces/%zz/pods'), 400, 'BadRequest');
    });
  });
});

describe('bound to every interface, with a token', () => {
  let cluster: StartedCluster;
  const token = 'correct-horse-battery-staple';
  beforeAll(async () => {
    cluster = await startCluster({ host: '0.0.0.0', dnsPort: 0, apiPort: 0, token });
  });
  afterAll(() => cluster.close());

  it('the right token is served; a wrong one, a prefix of it or a longer one is 401 Status', async () => {
    expect((await send(cluster, 'GET', PODS, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    for (const authorization of ['Bearer wrong-horse-battery-staple', `Bearer ${token.slice(0, -1)}`, `Bearer ${token}x`, token, '']) {
      expectStatus(await send(cluster, 'GET', PODS, { headers: { authorization } }), 401, 'Unauthorized');
    }
    expect((await send(cluster, 'GET', '/healthz')).status).toBe(200);
  });

  it('any address of the machine may be in Host (an address cannot be rebound); a name still may not', async () => {
    const authorization = `Bearer ${token}`;
    for (const host of [`0.0.0.0:${cluster.api.port}`, `10.1.2.3:${cluster.api.port}`, '[fd00::1]', `127.0.0.1:${cluster.api.port}`]) {
      expect((await send(cluster, 'GET', PODS, { headers: { host, authorization } })).status, host).toBe(200);
    }
    expectStatus(await send(cluster, 'GET', PODS, { headers: { host: 'evil.example.com', authorization } }), 403, 'Forbidden');
  });
});
