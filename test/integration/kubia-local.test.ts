// examples/kubia-local through real kubectl, as chapter 10 of Kubernetes in
// Action does it with a cluster: the members are the book's app running as
// local processes, reached through `kubectl proxy`, scaled, deleted, rolled.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasKubectl } from '../support/kubectl.js';
import { type Serving, startServe } from '../support/serve.js';
import { alive, until } from '../support/poll.js';

const run = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../../examples/kubia-local', import.meta.url));

interface PodJson {
  metadata: { name: string; uid: string; creationTimestamp: string; deletionTimestamp?: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { containerID?: string }[] };
}



function http(port: number, method: string, path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, timeout: 10_000, headers: body ? { 'Content-Type': 'text/plain' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe.runIf(hasKubectl)('examples/kubia-local: chapter 10 with real processes', () => {
  let dir: string;
  let serving: Serving;
  let proxy: ChildProcess;
  let proxyPort: number;
  let kubeconfig: string;
  const kubectl = async (...args: string[]): Promise<string> => (await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { env: { ...process.env, KUBECONFIG: '' } })).stdout;
  const pods = async (): Promise<PodJson[]> => (JSON.parse(await kubectl('get', 'pods', '-o', 'json')) as { items: PodJson[] }).items;
  const isReady = (p: PodJson): boolean => !p.metadata.deletionTimestamp && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
  const readyNames = async (): Promise<string[]> => (await pods()).filter(isReady).map((p) => p.metadata.name).sort();
  const pidOf = (p: PodJson): number => Number(p.status?.containerStatuses?.[0]?.containerID?.split('//')[1]);
  const podProxy = (name: string, path = '/'): string => `/api/v1/namespaces/default/pods/${name}/proxy${path}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hdns-kubia-local-'));
    kubeconfig = join(dir, 'kubeconfig');
    serving = await startServe(['-f', EXAMPLE, '--kubeconfig', kubeconfig]);
    proxy = spawn('kubectl', ['--kubeconfig', kubeconfig, 'proxy', '--port=0'], { env: { ...process.env, KUBECONFIG: '' } });
    proxyPort = await new Promise<number>((resolve, reject) => {
      let out = '';
      proxy.stdout!.on('data', (d) => {
        out += d;
        const match = /Starting to serve on 127\.0\.0\.1:(\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      proxy.on('exit', (code) => reject(new Error(`kubectl proxy exited ${code}`)));
    });
  }, 30_000);
  afterAll(async () => {
    proxy?.kill();
    if (serving && serving.child.exitCode === null) await serving.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serve -f examples/kubia-local alone runs two members as processes', async () => {
    expect(serving.api).toMatch(/^https:/);
    expect(await until(async () => ((await readyNames()).length === 2 ? readyNames() : undefined))).toEqual(['kubia-0', 'kubia-1']);
    for (const p of await pods()) expect(alive(pidOf(p))).toBe(true);
    expect(await kubectl('logs', 'kubia-0')).toContain('Kubia server starting...');
  });

  it('a POST through the pod proxy stores the data in data-kubia-0; the service proxy lists both peers', async () => {
    expect(await http(proxyPort, 'POST', podProxy('kubia-0'), 'Hey there! This greeting was submitted to kubia-0.')).toBe('Data stored on pod kubia-0\n');
    expect(await http(proxyPort, 'POST', podProxy('kubia-1'), "Hey there! This greeting was submitted to kubia-1.")).toBe('Data stored on pod kubia-1\n');
    const volume = JSON.parse(await kubectl('get', 'pv', JSON.parse(await kubectl('get', 'pvc', 'data-kubia-0', '-o', 'json')).spec.volumeName, '-o', 'json')) as { spec: { hostPath: { path: string } } };
    expect(readFileSync(join(volume.spec.hostPath.path, 'kubia.txt'), 'utf8')).toBe('Hey there! This greeting was submitted to kubia-0.');
    const page = await http(proxyPort, 'GET', '/api/v1/namespaces/default/services/kubia-public/proxy/');
    expect(page).toMatch(/^You've hit kubia-[01]\nData stored in the cluster:\n/);
    expect(page).toContain('- kubia-0.kubia.default.svc.cluster.local: Hey there! This greeting was submitted to kubia-0.');
    expect(page).toContain('- kubia-1.kubia.default.svc.cluster.local: Hey there! This greeting was submitted to kubia-1.');
    expect(await kubectl('logs', 'kubia-0')).toContain('New data has been received and stored.');
  });

  it('scale to 3 starts a third process the others discover; scale to 1 stops two; back to 3, kubia-1 has its data', async () => {
    await kubectl('scale', 'sts', 'kubia', '--replicas=3');
    await until(async () => (await readyNames()).length === 3);
    const page = await http(proxyPort, 'GET', podProxy('kubia-0'));
    expect(page).toContain('- kubia-2.kubia.default.svc.cluster.local: No data posted yet');
    const before = await pods();
    await kubectl('scale', 'sts', 'kubia', '--replicas=1');
    await until(async () => (await pods()).length === 1);
    for (const p of before.filter((p) => p.metadata.name !== 'kubia-0')) expect(alive(pidOf(p))).toBe(false);
    await kubectl('scale', 'sts', 'kubia', '--replicas=3');
    await until(async () => (await readyNames()).length === 3);
    expect(await http(proxyPort, 'GET', podProxy('kubia-1', '/data'))).toBe('Hey there! This greeting was submitted to kubia-1.');
  }, 60_000);

  it('kubectl delete pod kubia-0 brings it back as a new process with a new IP and the same data', async () => {
    const old = (await pods()).find((p) => p.metadata.name === 'kubia-0')!;
    const started = Date.now();
    await kubectl('delete', 'pod', 'kubia-0');
    console.log(`kubectl delete pod kubia-0: ${Date.now() - started} ms`);
    const fresh = await until(async () => (await pods()).find((p) => p.metadata.name === 'kubia-0' && p.metadata.uid !== old.metadata.uid && isReady(p)));
    expect(fresh.status?.podIP).not.toBe(old.status?.podIP);
    expect(alive(pidOf(old))).toBe(false);
    expect(await http(proxyPort, 'GET', podProxy('kubia-0', '/data'))).toBe('Hey there! This greeting was submitted to kubia-0.');
  }, 30_000);

  it('kubectl rollout restart replaces each process, highest ordinal first, each after the previous is ready', async () => {
    const before = new Map((await pods()).map((p) => [p.metadata.name, p.metadata.uid]));
    // The order members are replaced in, seen by polling as kubectl get -w would.
    const replaced: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const p of await pods()) if (before.get(p.metadata.name) !== p.metadata.uid && !replaced.includes(p.metadata.name)) replaced.push(p.metadata.name);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await kubectl('rollout', 'restart', 'sts', 'kubia');
    await kubectl('rollout', 'status', 'sts', 'kubia', '--timeout=60s');
    watching = false;
    await watcher;
    const after = await pods();
    expect(after.every((p) => before.get(p.metadata.name) !== p.metadata.uid && isReady(p))).toBe(true);
    expect(replaced).toEqual(['kubia-2', 'kubia-1', 'kubia-0']);
    expect(await http(proxyPort, 'GET', podProxy('kubia-2', '/data'))).toBe('No data posted yet');
  }, 90_000);

  it('stopping serve stops every member and removes nothing from the claims', async () => {
    const pids = (await pods()).map(pidOf);
    const volume = JSON.parse(await kubectl('get', 'pv', JSON.parse(await kubectl('get', 'pvc', 'data-kubia-0', '-o', 'json')).spec.volumeName, '-o', 'json')) as { spec: { hostPath: { path: string } } };
    expect(await serving.stop()).toBe(0);
    for (const pid of pids) expect(alive(pid)).toBe(false);
    // Without --state the claims' directories are temporary: gone with serve.
    expect(existsSync(volume.spec.hostPath.path)).toBe(false);
  });
});
