// `api: false`: a cluster for tests that only need DNS. It answers and changes
// as any other (SRV, scale), binds no API socket and never loads the API's
// code; options that only mean something for an API are refused, not ignored.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessDnsError, startCluster } from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';
import { useCluster } from '../../src/testing.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KUBIA = 'kubia.default.svc.cluster.local';

function node(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`node ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

describe('startCluster({ api: false })', () => {
  it('answers DNS and follows a scale, with no api on the cluster', async () => {
    await using cluster = await startCluster({ api: false, manifests: [KUBIA_EXAMPLE] });
    expect('api' in cluster).toBe(false);
    const resolver = cluster.resolver();
    expect((await resolver.resolveSrv(KUBIA)).map((r) => r.name).sort()).toEqual([`kubia-0.${KUBIA}`, `kubia-1.${KUBIA}`]);
    cluster.scale('kubia', 3);
    expect(await resolver.resolveSrv(KUBIA)).toHaveLength(3);
    expect(cluster.readyMembers('kubia')).toEqual(['kubia-0', 'kubia-1', 'kubia-2']);
  });

  it('binds only the DNS sockets and loads no HTTP server, in a fresh process from the built package', async () => {
    const script = `
      const net = require('node:net');
      const { startCluster } = require('headless-dns');
      startCluster({ api: false, manifests: [${JSON.stringify(KUBIA_EXAMPLE)}] }).then(async (cluster) => {
        const servers = process._getActiveHandles().filter((h) => h instanceof net.Server).map((s) => s.address().port);
        const srv = await cluster.resolver().resolveSrv(${JSON.stringify(KUBIA)});
        const http = process.moduleLoadList.filter((m) => /^NativeModule (_?https?|_http_server)$/.test(m));
        await cluster.close();
        console.log(JSON.stringify({ servers, dnsPort: cluster.dns.port, srv: srv.length, http, api: 'api' in cluster }));
      });`;
    const out = JSON.parse(await node(['-e', script])) as { servers: number[]; dnsPort: number; srv: number; http: string[]; api: boolean };
    expect(out).toEqual({ servers: [out.dnsPort], dnsPort: out.dnsPort, srv: 2, http: [], api: false });
    // The same script with the API: the HTTP server is there (the check above can fail).
    const withApi = JSON.parse(await node(['-e', script.replace('api: false, ', '')])) as typeof out;
    expect(withApi.servers).toHaveLength(2);
    expect(withApi.http).toContain('NativeModule http');
    expect(withApi.api).toBe(true);
  });

  it.each([
    [{ apiPort: 0 }, 'apiPort'],
    [{ token: 'abcdefgh123' }, 'token'],
    [{ tls: true }, 'tls'],
    [{ kubeconfig: '/tmp/never-written' }, 'kubeconfig'],
    [{ kubeconfigSetCurrent: true, apiPort: 8080 }, 'apiPort, kubeconfigSetCurrent'],
  ])('refuses %o with api: false, naming the option', async (extra, named) => {
    const started = startCluster({ api: false, ...extra });
    await expect(started).rejects.toBeInstanceOf(HeadlessDnsError);
    await expect(started).rejects.toThrow(`api: false serves no API, so ${named} cannot be given`);
  });

  it('refuses an api that is not a boolean', async () => {
    await expect(startCluster({ api: 'no' as unknown as boolean })).rejects.toThrow('api must be true or false, got no');
  });

  it('needs no token off loopback: only the API is guarded', () => {
    expect(() => resolveOptions({ host: '0.0.0.0' })).toThrow('needs a token');
    expect(resolveOptions({ host: '0.0.0.0', api: false }).api).toBe(false);
  });
});

describe('useCluster(hooks, { api: false })', () => {
  const cluster = useCluster({ beforeAll, afterAll }, { api: false, manifests: [KUBIA_EXAMPLE] });
  it('gives a DNS-only cluster', async () => {
    expect('api' in cluster()).toBe(false);
    expect(await cluster().resolver().resolveSrv(KUBIA)).toHaveLength(2);
  });
});
