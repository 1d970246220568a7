// node --import headless-dns/register: an unchanged app resolves cluster names.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/index.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const APP = `
import { resolveSrv } from 'node:dns/promises';
import dns from 'node:dns';
const srv = await resolveSrv('kubia.default.svc.cluster.local');
const member = await new Promise((resolve) => dns.lookup('kubia-1.kubia.default.svc.cluster.local', (e, a) => resolve(e ? e.code : a)));
const missing = await new Promise((resolve) => dns.lookup('nope.default.svc.cluster.local', (e, a) => resolve(e ? e.code : a)));
const outside = await new Promise((resolve) => dns.lookup('localhost', { family: 4 }, (e, a) => resolve(e ? e.code : a)));
console.log(JSON.stringify({ srv: srv.map((s) => s.name + ':' + s.port).sort(), member, missing, outside }));
`;

describe('headless-dns/register', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
  });
  afterAll(() => cluster.close());

  it('routes the cluster zone of an unchanged app to headless-dns, and nothing else', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hdns-app-')), 'app.mjs');
    writeFileSync(file, APP);
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'headless-dns/register', file], {
        cwd: ROOT,
        env: { ...process.env, HEADLESS_DNS: cluster.dnsServer },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk));
      child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`app exited ${code}`))));
    });
    expect(JSON.parse(output)).toEqual({
      srv: ['kubia-0.kubia.default.svc.cluster.local:80', 'kubia-1.kubia.default.svc.cluster.local:80'],
      member: '127.10.0.2',
      missing: 'ENOTFOUND',
      outside: '127.0.0.1',
    });
  });
});
