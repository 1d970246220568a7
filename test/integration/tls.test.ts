// The API over HTTPS (issue 11, item 3). kubectl (client-go) sends a bearer token
// only over TLS, so `serve --token T` over plain HTTP left every kubectl call
// Unauthorized. These tests drive the real clients with certificate verification
// on, trusting only the CA the kubeconfig carries: kubectl, @kubernetes/client-node
// and the Python client.

import { execFile, execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl } from '../support/kubectl.js';
import { startServe } from '../support/serve.js';

const exec = promisify(execFile);
const TOKEN = 'tls-test-token-0123456789';

/**
 * kubectl with only the flags given (no ambient kubeconfig); resolves with
 * stdout, or the error's stderr. Its stdin is closed: kubectl with no
 * credentials at all for an https server asks for a username on stdin.
 */
async function kubectl(args: string[]): Promise<{ ok: boolean; out: string }> {
  const cache = mkdtempSync(join(tmpdir(), 'hdns-tls-cache-'));
  try {
    const running = exec('kubectl', ['--cache-dir', cache, ...args], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
    running.child.stdin?.end();
    const { stdout } = await running;
    return { ok: true, out: stdout };
  } catch (error) {
    return { ok: false, out: String((error as { stderr?: string }).stderr ?? error) };
  }
}

/** A Python with the kubernetes package (Debian's python3-kubernetes lives in /usr/bin's python3). */
const python = ['python3', '/usr/bin/python3'].find((candidate) => {
  try {
    execFileSync(candidate, ['-c', 'import kubernetes'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});
if (!python) console.warn('tls.test: skipping the Python client case: no python3 can import kubernetes (apt-get install python3-kubernetes)');

describe('startCluster({ tls: true, token })', () => {
  let cluster: StartedCluster;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hdns-tls-'));
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], tls: true, token: TOKEN, kubeconfig: join(dir, 'config') });
  });
  afterAll(() => cluster?.close());

  it('serves HTTPS and hands out its CA; the kubeconfig carries the CA and the token, never skip-verify', () => {
    expect(cluster.api.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cluster.api.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const config = load(readFileSync(join(dir, 'config'), 'utf8')) as { clusters: { name: string; cluster: Record<string, unknown> }[]; users: { user: Record<string, unknown> }[] };
    const ours = config.clusters.find((c) => c.name === 'headless-dns')!.cluster;
    expect(ours.server).toBe(cluster.api.url);
    expect(Buffer.from(String(ours['certificate-authority-data']), 'base64').toString()).toBe(cluster.api.ca);
    expect(ours['insecure-skip-tls-verify']).toBeUndefined();
    expect(config.users[0]!.user).toEqual({ token: TOKEN });
  });

  it.runIf(hasKubectl)('kubectl with the kubeconfig works, verifying the certificate', async () => {
    const got = await kubectl(['--kubeconfig', join(dir, 'config'), 'get', 'pods', '-o', 'name']);
    expect(got).toEqual({ ok: true, out: 'pod/kubia-0\npod/kubia-1\n' });
  });

  it('a request without the token is refused: 401 Unauthorized Status (health checks stay open)', async () => {
    const get = (path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        request(`${cluster.api.url}${path}`, { ca: cluster.api.ca!, headers }, (response) => {
          let body = '';
          response.on('data', (d) => (body += d));
          response.on('end', () => resolve({ status: response.statusCode!, body }));
        })
          .on('error', reject)
          .end();
      });
    const anonymous = await get('/api/v1/namespaces/default/pods');
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    expect((await get('/api/v1/namespaces/default/pods', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await get('/healthz')).status).toBe(200);
  });

  it.runIf(hasKubectl)('kubectl with a wrong token is Unauthorized, and without the CA does not trust the server', async () => {
    const caFile = join(dir, 'ca.crt');
    writeFileSync(caFile, cluster.api.ca!);
    const wrong = await kubectl(['--server', cluster.api.url, '--certificate-authority', caFile, '--token', 'not-the-token-at-all', 'get', 'pods']);
    expect(wrong.ok).toBe(false);
    expect(wrong.out).toMatch(/error: You must be logged in to the server/);
    const untrusted = await kubectl(['--server', cluster.api.url, '--token', TOKEN, 'get', 'pods']);
    expect(untrusted.ok).toBe(false);
    expect(untrusted.out).toMatch(/certificate signed by unknown authority/);
  });

  it('@kubernetes/client-node: KubeConfig.loadFromFile + CoreV1Api.listNamespacedPod', async () => {
    const config = new KubeConfig();
    config.loadFromFile(join(dir, 'config'));
    expect(config.getCurrentCluster()?.skipTLSVerify).toBeFalsy();
    const pods = await config.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default' });
    expect(pods.items.map((pod) => pod.metadata?.name).sort()).toEqual(['kubia-0', 'kubia-1']);
  });

  it.runIf(python)('python kubernetes: config.load_kube_config + CoreV1Api().list_namespaced_pod', async () => {
    const script = [
      'import sys',
      'from kubernetes import client, config',
      "config.load_kube_config(config_file=sys.argv[1], context='headless-dns')",
      // Over HTTPS, verifying: the old plain-HTTP kubeconfig would pass the listing alone.
      "configuration = client.Configuration.get_default_copy()",
      "assert configuration.host.startswith('https://') and configuration.verify_ssl and configuration.ssl_ca_cert, configuration.host",
      "print(' '.join(sorted(p.metadata.name for p in client.CoreV1Api().list_namespaced_pod('default').items)))",
    ].join('\n');
    const { stdout } = await exec(python!, ['-c', script, join(dir, 'config')]);
    expect(stdout.trim()).toBe('kubia-0 kubia-1');
  });
});

describe('startCluster({ tls: true }) without a token', () => {
  it('generates one (Kubernetes authenticates every request) and refuses requests without it', async () => {
    const cluster = await startCluster({ tls: true });
    try {
      expect(cluster.api.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const caFile = join(mkdtempSync(join(tmpdir(), 'hdns-tls-')), 'ca.crt');
      writeFileSync(caFile, cluster.api.ca!);
      if (hasKubectl) {
        expect((await kubectl(['--server', cluster.api.url, '--certificate-authority', caFile, '--token', 'a-guess-at-the-token', 'get', 'ns'])).out).toMatch(/error: You must be logged in to the server/);
        expect((await kubectl(['--server', cluster.api.url, '--certificate-authority', caFile, '--token', cluster.api.token!, 'get', 'ns', '-o', 'name'])).out).toContain('namespace/default');
      }
    } finally {
      await cluster.close();
    }
  });
});

describe('serve --token over HTTPS, --state keeping the certificates', () => {
  it('kubectl works with the written kubeconfig; a restart reuses the CA and serving certificate, keys 0600', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdns-tls-serve-'));
    const state = join(dir, 'state.jsonl');
    const kubeconfig = join(dir, 'kubeconfig');
    const args = ['-f', KUBIA_EXAMPLE, '--token', TOKEN, '--state', state, '--kubeconfig', kubeconfig];

    const first = await startServe(args);
    let ca: string;
    let serving: string;
    try {
      expect(first.api).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(first.stderr()).toContain(`tls: made a CA and serving certificate in ${state}.tls`);
      for (const key of ['ca.key', 'server.key']) expect(statSync(join(`${state}.tls`, key)).mode & 0o777).toBe(0o600);
      ca = readFileSync(join(`${state}.tls`, 'ca.crt'), 'utf8');
      serving = readFileSync(join(`${state}.tls`, 'server.crt'), 'utf8');
      if (hasKubectl) expect(await kubectl(['--kubeconfig', kubeconfig, 'get', 'pods', '-o', 'name'])).toEqual({ ok: true, out: 'pod/kubia-0\npod/kubia-1\n' });
    } finally {
      expect(await first.stop()).toBe(0);
    }

    const second = await startServe(args);
    try {
      expect(second.stderr()).toContain(`tls: serving HTTPS with the CA and certificate in ${state}.tls`);
      expect(readFileSync(join(`${state}.tls`, 'ca.crt'), 'utf8')).toBe(ca);
      expect(readFileSync(join(`${state}.tls`, 'server.crt'), 'utf8')).toBe(serving);
      // The CA saved from the first run is still the one to trust.
      const caFile = join(dir, 'first-ca.crt');
      writeFileSync(caFile, ca);
      if (hasKubectl) {
        expect(await kubectl(['--server', second.api, '--certificate-authority', caFile, '--token', TOKEN, 'get', 'pods', '-o', 'name'])).toEqual({ ok: true, out: 'pod/kubia-0\npod/kubia-1\n' });
      }
    } finally {
      expect(await second.stop()).toBe(0);
    }
  });

  it('plain HTTP on loopback without a token stays the default, and the logs and --help say which mode it is', async () => {
    const plain = await startServe(['-f', KUBIA_EXAMPLE]);
    try {
      expect(plain.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(plain.stderr()).toContain('api: plain HTTP on loopback, no token');
    } finally {
      await plain.stop();
    }
    const help = (await exec(process.execPath, [join(import.meta.dirname, '../../dist/cli/main.js'), 'serve', '--help'])).stdout;
    expect(help).toContain('The API is plain HTTP (api=http://...) on loopback without a token');
    expect(help).toContain('--tls');
    expect(help).toContain('at least 8 printable characters');
  });
});
