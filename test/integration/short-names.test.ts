// Short names as in a pod (issue 15 item 1): the fixture's resolver and lookup
// with a namespace, and a member process, whose preload tries its pod's search
// list (ndots:5) for dns.lookup and dns.resolve*, and whose glibc gets it too.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../../src/index.js';
import type { KubeObject, Pod } from '../../src/model/types.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

let cluster: StartedCluster;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hdns-short-'));
  // Resolves what it is given through Node's dns, prints one JSON line, and exits.
  writeFileSync(
    join(dir, 'resolve.js'),
    `const dns = require('node:dns').promises;
const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ error: e.code }));
(async () => {
  const out = {
    lookup: await settle(dns.lookup('kubia-0.kubia')),
    srv: await settle(dns.resolveSrv('kubia').then((r) => r.map((x) => x.name).sort())),
    headless: await settle(dns.resolve4('kubia')),
    absolute: await settle(dns.lookup('kubia-0.kubia.')),
    missing: await settle(dns.lookup('kubia-9.kubia')),
    env: { LOCALDOMAIN: process.env.LOCALDOMAIN, RES_OPTIONS: process.env.RES_OPTIONS },
  };
  console.log(JSON.stringify(out));
})();`,
  );
  cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], exec: { 'example/resolve': ['node', join(dir, 'resolve.js')] } });
});
afterAll(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ips = (): string[] => ['kubia-0', 'kubia-1'].map((name) => (cluster.get('Pod', name) as Pod).status!.podIP!);

describe('the fixture, resolving as a pod in a namespace', () => {
  it('resolver({ namespace }) finds short names through the search list', async () => {
    const resolver = cluster.resolver({ namespace: 'default' });
    expect((await resolver.resolveSrv('kubia')).map((r) => r.name).sort()).toEqual(['kubia-0.kubia.default.svc.cluster.local', 'kubia-1.kubia.default.svc.cluster.local']);
    expect(await resolver.resolve4('kubia-1.kubia')).toEqual([ips()[1]]);
    expect((await resolver.resolve4('kubia.default')).sort()).toEqual([...ips()].sort());
    // A trailing dot is absolute: no search.
    await expect(resolver.resolve4('kubia-1.kubia.')).rejects.toMatchObject({ code: expect.stringMatching(/REFUSED|NOTFOUND/) });
    // From another namespace, the short name is someone else's.
    await expect(cluster.resolver({ namespace: 'kube-system' }).resolve4('kubia-1.kubia')).rejects.toBeDefined();
    // Without a namespace the resolver asks for exactly the name.
    await expect(cluster.resolver().resolve4('kubia-1.kubia')).rejects.toBeDefined();
  });

  it('lookup(name, { namespace }) too; without one, a short name goes to the OS', async () => {
    const lookup = (name: string, options: { namespace?: string; family: 4 }): Promise<string> =>
      new Promise((resolve, reject) => cluster.lookup(name, options, (error, address) => (error ? reject(error) : resolve(address as string))));
    expect(await lookup('kubia-0.kubia', { namespace: 'default', family: 4 })).toBe(ips()[0]);
    await expect(lookup('kubia-0.kubia', { family: 4 })).rejects.toMatchObject({ code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) });
  });
});

describe('a member process', () => {
  it('resolves short names as in its pod, through the preload', async () => {
    cluster.apply([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'resolver', namespace: 'default' }, spec: { restartPolicy: 'Never', containers: [{ name: 'r', image: 'example/resolve' }] } } as KubeObject]);
    await cluster.waitFor(() => (cluster.get('Pod', 'resolver') as Pod | undefined)?.status?.phase === 'Succeeded', { timeoutMs: 15_000 });
    const out = JSON.parse(cluster.logs('resolver')[0]!) as Record<'lookup' | 'srv' | 'headless' | 'absolute' | 'missing', { ok?: unknown; error?: string }> & { env: Record<string, string> };
    expect(out.lookup).toEqual({ ok: { address: ips()[0], family: 4 } });
    expect(out.srv).toEqual({ ok: ['kubia-0.kubia.default.svc.cluster.local', 'kubia-1.kubia.default.svc.cluster.local'] });
    expect((out.headless.ok as string[]).sort()).toEqual([...ips()].sort());
    expect(out.absolute.error).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(out.missing.error).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(out.env).toEqual({ LOCALDOMAIN: 'default.svc.cluster.local svc.cluster.local cluster.local', RES_OPTIONS: 'ndots:5' });
  }, 20_000);
});
