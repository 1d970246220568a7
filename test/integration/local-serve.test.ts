// `serve --exec` as a user runs it: members are real processes that kubectl
// drives (scale, logs), the API needs the token it generated, members' output
// shows on serve's stderr, and no member outlives serve, even a SIGKILLed one.

import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasKubectl } from '../support/kubectl.js';
import { type Serving, startServe } from '../support/serve.js';
import { alive, until } from '../support/poll.js';

const run = promisify(execFile);

const MEMBER = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('You\\'ve hit ' + process.env.HOSTNAME + '\\n'));
server.listen(8080, process.env.HEADLESS_DNS_POD_IP, () => console.log('listening as ' + process.env.HOSTNAME));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const MANIFESTS = `
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web }
spec:
  serviceName: web
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: app
          image: example/web:1.0
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe: { tcpSocket: { port: http }, periodSeconds: 1 }
`;

interface PodJson {
  metadata: { name: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { containerID?: string }[] };
}



describe.runIf(hasKubectl)('serve --exec, driven by kubectl', () => {
  let dir: string;
  let serving: Serving;
  let kubeconfig: string;
  const kubectl = async (...args: string[]): Promise<string> => (await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { env: { ...process.env, KUBECONFIG: '' } })).stdout;
  const readyPods = async (): Promise<PodJson[]> => {
    const pods = JSON.parse(await kubectl('get', 'pods', '-o', 'json')) as { items: PodJson[] };
    return pods.items.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  };
  const pidOf = (pod: PodJson): number => Number(pod.status?.containerStatuses?.[0]?.containerID?.split('//')[1]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hdns-serve-exec-'));
    mkdirSync(join(dir, 'k8s'));
    writeFileSync(join(dir, 'k8s', 'web.yaml'), MANIFESTS);
    writeFileSync(join(dir, 'member.js'), MEMBER);
    kubeconfig = join(dir, 'kubeconfig');
    const previous = process.cwd();
    // --exec commands run in serve's working directory, as a user's `node member.js` expects.
    process.chdir(dir);
    try {
      serving = await startServe(['-f', 'k8s', '--exec', 'example/web=node member.js', '--kubeconfig', kubeconfig]);
    } finally {
      process.chdir(previous);
    }
  });
  afterAll(async () => {
    if (serving && serving.child.exitCode === null && serving.child.signalCode === null) await serving.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with a generated token, and refuses requests without it', async () => {
    expect(serving.api).toMatch(/^https:\/\//);
    expect(serving.stderr()).toContain('exec: local processes run from this cluster, so the API is HTTPS and needs its token');
    // A wrong token (with none at all, kubectl would prompt for a password).
    const refused = await run('kubectl', ['--server', serving.api, '--insecure-skip-tls-verify', '--token', 'not-the-token', 'get', 'pods'], { env: { ...process.env, KUBECONFIG: '/dev/null' } }).then(
      () => 'allowed',
      (error: { stderr: string }) => error.stderr,
    );
    expect(refused).toMatch(/Unauthorized|must be logged in/);
  });

  it('two members run as processes, kubectl logs shows their output, serve prints it prefixed', async () => {
    const pods = await until(async () => ((await readyPods()).length === 2 ? readyPods() : undefined));
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(['web-0', 'web-1']);
    expect(await kubectl('logs', 'web-0')).toBe('listening as web-0\n');
    expect(await kubectl('logs', 'web-1', '--timestamps')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z listening as web-1\n$/);
    await until(() => serving.stderr().includes('web-1 | listening as web-1'));
    expect(await kubectl('logs', 'web-0', '--tail=1', '--since=1h')).toBe('listening as web-0\n');
    expect(await kubectl('logs', 'web-0', '--limit-bytes=9')).toBe('listening');
    expect(await kubectl('logs', 'web-0', '--tail=0')).toBe('');
    const previous = await kubectl('logs', 'web-0', '--previous').catch((error: { stderr: string }) => error.stderr);
    expect(previous).toContain('previous terminated container "app" in pod "web-0" not found');
  });

  it('kubectl scale starts a third process', async () => {
    await kubectl('scale', 'sts', 'web', '--replicas=3');
    const pods = await until(async () => ((await readyPods()).length === 3 ? readyPods() : undefined));
    const third = pods.find((p) => p.metadata.name === 'web-2')!;
    expect(alive(pidOf(third))).toBe(true);
    expect(await kubectl('logs', 'web-2')).toBe('listening as web-2\n');
  });

  it('kubectl logs -f follows a member until its container ends (here: scaled away)', async () => {
    const follow = spawn('kubectl', ['--kubeconfig', kubeconfig, 'logs', '-f', 'web-2'], { env: { ...process.env, KUBECONFIG: '' } });
    let out = '';
    follow.stdout.on('data', (d) => (out += d));
    const ended = new Promise<number | null>((resolve) => follow.on('close', resolve));
    await until(() => out.includes('listening as web-2'));
    await kubectl('scale', 'sts', 'web', '--replicas=2');
    expect(await ended).toBe(0);
    expect(out).toBe('listening as web-2\n');
  });

  it('no member outlives a SIGKILLed serve', async () => {
    const pids = (await readyPods()).map(pidOf);
    expect(pids).toHaveLength(2);
    for (const pid of pids) expect(alive(pid)).toBe(true);
    serving.child.kill('SIGKILL');
    await until(() => pids.every((pid) => !alive(pid)), 10_000);
  });
});
