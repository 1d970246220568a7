// Running commands is guarded (issue 13): a cluster that runs local processes
// serves its API only over HTTPS with a token, so neither a request without the
// token nor a page in the user's browser (cross-site, with the token or not)
// can start a process, change what a mapped pod runs, or reach the proxy.

import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../../src/index.js';
import type { KubeObject } from '../../src/model/types.js';

let dir: string;
let cluster: StartedCluster;

function send(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; text: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: cluster.api.host,
        port: cluster.api.port,
        method,
        path,
        ca: cluster.api.ca,
        // The certificate is checked against this name, whatever Host the request claims.
        servername: 'localhost',
        headers: { host: `127.0.0.1:${cluster.api.port}`, ...(payload ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } : {}), ...headers },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const podWith = (name: string, marker: string): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'example/touch', env: [{ name: 'MARKER', value: marker }] }] } }) as KubeObject;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hdns-exec-guards-'));
  writeFileSync(join(dir, 'touch.js'), `require('node:fs').writeFileSync(process.env.MARKER, 'ran'); setInterval(() => {}, 1000);`);
  cluster = await startCluster({ exec: { 'example/touch': ['node', join(dir, 'touch.js')] } });
});
afterAll(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an API that can start processes', () => {
  it('is HTTPS with a generated token', () => {
    expect(cluster.api.url).toMatch(/^https:/);
    expect(cluster.api.token).toMatch(/^[\x21-\x7e]{8,}$/);
  });

  const attempts = (): [string, Record<string, string>][] => [
    ['no token', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token' }],
    ['a cross-site page with the token', { authorization: `Bearer ${cluster.api.token}`, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }],
    ['a rebinding page (foreign Host) with the token', { authorization: `Bearer ${cluster.api.token}`, host: 'evil.example' }],
  ];

  it('refuses to create a pod that would run a process, and nothing runs', async () => {
    for (const [what, headers] of attempts()) {
      const marker = join(dir, `marker-${what.replace(/\W+/g, '-')}`);
      const reply = await send('POST', '/api/v1/namespaces/default/pods', headers, podWith(`p-${attempts().findIndex(([w]) => w === what)}`, marker));
      expect([401, 403], what).toContain(reply.status);
      expect(reply.text, what).toContain('"kind":"Status"');
    }
    expect(cluster.list('Pod')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(readdirSync(dir)).toEqual(['touch.js']);
  });

  it('refuses to change a mapped pod\'s command or environment, or to reach it through the proxy', async () => {
    const marker = join(dir, 'real');
    const created = await send('POST', '/api/v1/namespaces/default/pods', { authorization: `Bearer ${cluster.api.token}` }, podWith('real', marker));
    expect(created.status).toBe(201);
    const patch = [{ op: 'replace', path: '/spec/containers/0/env/0/value', value: join(dir, 'changed') }];
    for (const [what, headers] of attempts()) {
      const patched = await send('PATCH', '/api/v1/namespaces/default/pods/real', { ...headers, 'content-type': 'application/json-patch+json' }, patch);
      expect([401, 403], `patch with ${what}`).toContain(patched.status);
      const proxied = await send('GET', '/api/v1/namespaces/default/pods/real/proxy/', headers);
      expect([401, 403], `proxy with ${what}`).toContain(proxied.status);
      const logs = await send('GET', '/api/v1/namespaces/default/pods/real/log', headers);
      expect([401, 403], `log with ${what}`).toContain(logs.status);
    }
    const env = (cluster.get('Pod', 'real') as unknown as { spec: { containers: { env: { value: string }[] }[] } }).spec.containers[0]!.env[0]!.value;
    expect(env).toBe(marker);
  });
});
