// Members that are real processes (issue 13): started from an image mapped with
// `exec`, with the pod's identity and address; restarted, backed off, stopped
// and removed as the kubelet does it. Every process here is a small Node script.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../../src/index.js';
import { ManualClock } from '../../src/testing.js';
import type { KubeObject, Pod } from '../../src/model/types.js';
import { alive, until } from '../support/poll.js';

let dir: string;

/** An HTTP server on the pod's own IP and port 8080 that answers its HOSTNAME and records SIGTERM. */
const MEMBER = `
const http = require('node:http');
const fs = require('node:fs');
const ip = process.env.HEADLESS_DNS_POD_IP;
const data = process.env.HEADLESS_DNS_VOLUME_DATA;
if (data) fs.appendFileSync(data + '/starts.log', process.env.HOSTNAME + '\\n');
const server = http.createServer((req, res) => {
  if (req.url === '/starts') return res.end(fs.readFileSync(data + '/starts.log', 'utf8'));
  if (req.url === '/scratch') return res.end(process.env.HEADLESS_DNS_VOLUME_SCRATCH + ' ' + process.env.HEADLESS_DNS_MOUNTS);
  if (req.url === '/env') return res.end(JSON.stringify(process.env));
  if (req.url === '/health') return res.writeHead(fs.existsSync(process.env.HEALTH_FILE || '/nonexistent') ? 200 : 503).end();
  res.end('You\\'ve hit ' + process.env.HOSTNAME + '\\n');
});
server.listen(8080, ip, () => console.log('listening on ' + ip + ':8080 as ' + process.env.HOSTNAME));
process.on('SIGTERM', () => {
  if (process.env.TERM_FILE) fs.appendFileSync(process.env.TERM_FILE, process.env.HOSTNAME + ' ' + process.pid + '\\n');
  if (process.env.IGNORE_TERM) return console.log('ignoring SIGTERM');
  server.close(() => process.exit(0));
});
`;

function set(name: string, replicas: number, extra: { env?: { name: string; value: string }[]; grace?: number; readinessProbe?: unknown; livenessProbe?: unknown; image?: string; volumes?: boolean } = {}): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ name: 'http', port: 8080 }] } },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name, namespace: 'default' },
      spec: {
        serviceName: name,
        replicas,
        ...(extra.volumes ? { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Mi' } } } }] } : {}),
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            ...(extra.grace !== undefined ? { terminationGracePeriodSeconds: extra.grace } : {}),
            ...(extra.volumes ? { volumes: [{ name: 'scratch', emptyDir: {} }] } : {}),
            containers: [
              {
                name: 'app',
                image: extra.image ?? 'example/member:1.0',
                ports: [{ name: 'http', containerPort: 8080 }],
                env: [{ name: 'MY_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'GREETING', value: 'hi $(MY_POD_NAME)' }, ...(extra.env ?? [])],
                ...(extra.volumes ? { volumeMounts: [{ name: 'data', mountPath: '/var/data' }, { name: 'scratch', mountPath: '/tmp/scratch' }] } : {}),
                ...(extra.readinessProbe ? { readinessProbe: extra.readinessProbe } : {}),
                ...(extra.livenessProbe ? { livenessProbe: extra.livenessProbe } : {}),
              },
            ],
          },
        },
      },
    },
  ] as KubeObject[];
}

function httpGet(host: string, port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const pod = (cluster: StartedCluster, name: string): Pod | undefined => cluster.get('Pod', name) as Pod | undefined;
/** Ready with no readiness probe means running, not listening: wait for the member to say it listens. */
const listening = (cluster: StartedCluster, name: string): boolean => {
  try {
    return ready(pod(cluster, name)) && cluster.logs(name).some((line) => line.startsWith('listening on'));
  } catch {
    return false;
  }
};
const ready = (p: Pod | undefined): boolean => p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const containerStatus = (p: Pod | undefined): Record<string, any> => ((p?.status?.containerStatuses as Record<string, any>[] | undefined) ?? [])[0] ?? {};
/** A member's output so far; none while it is still being created. */
const output = (cluster: StartedCluster, name: string): string[] => {
  try {
    return cluster.logs(name);
  } catch {
    return [];
  }
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hdns-local-'));
  writeFileSync(join(dir, 'member.js'), MEMBER);
  // The book's way: listen(8080) on every address; the preload puts each member on its own pod IP.
  writeFileSync(join(dir, 'book.js'), `require('node:http').createServer((q, r) => r.end(process.env.HOSTNAME)).listen(8080, () => console.log('listening on 8080'));`);
  writeFileSync(join(dir, 'crash.js'), `console.log('starting'); console.error('boom'); process.exit(3);`);
  writeFileSync(join(dir, 'once.js'), `console.log('done'); process.exit(Number(process.env.CODE || 0));`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('StatefulSet members as local processes', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({
      exec: { 'example/member': `node ${JSON.stringify(join(dir, 'member.js'))}`, 'example/crash': `node ${JSON.stringify(join(dir, 'crash.js'))}`, 'example/book': ['node', join(dir, 'book.js')] },
    });
  });
  afterAll(() => cluster?.close());

  it('starts each member as a process on its own pod IP, same port, with the pod environment', async () => {
    // Ready follows a TCP readiness probe: the port accepts connections.
    cluster.apply(set('web', 2, { readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1 } }));
    await cluster.waitFor(() => ready(pod(cluster, 'web-0')) && ready(pod(cluster, 'web-1')), { timeoutMs: 10_000 });
    const [a, b] = [pod(cluster, 'web-0')!, pod(cluster, 'web-1')!];
    expect(a.status?.podIP).not.toBe(b.status?.podIP);
    expect(a.status?.phase).toBe('Running');
    expect(containerStatus(a)).toMatchObject({ name: 'app', ready: true, started: true, restartCount: 0, state: { running: {} } });
    // The same container port on each member's own address, as in a cluster.
    expect((await httpGet(a.status!.podIP!, 8080)).body).toBe("You've hit web-0\n");
    expect((await httpGet(b.status!.podIP!, 8080)).body).toBe("You've hit web-1\n");
    const env = JSON.parse((await httpGet(a.status!.podIP!, 8080, '/env')).body) as Record<string, string>;
    expect(env).toMatchObject({ HOSTNAME: 'web-0', MY_POD_NAME: 'web-0', GREETING: 'hi web-0', HEADLESS_DNS: cluster.dnsServer, HEADLESS_DNS_ZONE: 'cluster.local' });
    expect(env.NODE_OPTIONS).toContain('register.js');
    // DNS: the members' A records are their processes' addresses.
    const addresses = await cluster.resolver().resolve4('web.default.svc.cluster.local');
    expect(addresses.sort()).toEqual([a.status!.podIP!, b.status!.podIP!].sort());
    expect(cluster.logs('web-0')).toContain(`listening on ${a.status!.podIP}:8080 as web-0`);
  });

  it('members that listen(8080) on every address each get it on their own pod IP (the Node preload)', async () => {
    cluster.apply(set('book', 2, { image: 'example/book', readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 1 } }));
    await until(() => ready(pod(cluster, 'book-0')) && ready(pod(cluster, 'book-1')));
    for (const name of ['book-0', 'book-1']) expect((await httpGet(pod(cluster, name)!.status!.podIP!, 8080)).body).toBe(name);
    expect(containerStatus(pod(cluster, 'book-1')).restartCount).toBe(0);
    cluster.scale('book', 0);
  });

  it('deleting a member stops its process with SIGTERM and starts a new one with a new IP', async () => {
    const before = pod(cluster, 'web-0')!;
    const pid = Number(String(containerStatus(before).containerID).split('//')[1]);
    expect(alive(pid)).toBe(true);
    cluster.deletePod('web-0');
    await until(() => {
      const now = pod(cluster, 'web-0');
      return !!now && now.metadata.uid !== before.metadata.uid && ready(now) && listening(cluster, 'web-0');
    });
    expect(alive(pid)).toBe(false);
    const after = pod(cluster, 'web-0')!;
    expect(after.status?.podIP).not.toBe(before.status?.podIP);
    expect((await httpGet(after.status!.podIP!, 8080)).body).toBe("You've hit web-0\n");
  });

  it('scaling down stops the highest member; the set waits for it to be gone', async () => {
    const pid = Number(String(containerStatus(pod(cluster, 'web-1')).containerID).split('//')[1]);
    cluster.scale('web', 1);
    await cluster.waitFor(() => !pod(cluster, 'web-1'), { timeoutMs: 10_000 });
    expect(alive(pid)).toBe(false);
    expect(await cluster.resolver().resolve4('web.default.svc.cluster.local')).toEqual([pod(cluster, 'web-0')!.status!.podIP]);
  });

  it('each member keeps its claim: its data is there again after a delete and after a scale down and up; emptyDir is per pod', async () => {
    const probe = { httpGet: { port: 8080, path: '/' }, periodSeconds: 1 };
    cluster.apply(set('store', 2, { volumes: true, readinessProbe: probe }));
    await until(() => ready(pod(cluster, 'store-0')) && ready(pod(cluster, 'store-1')));
    const starts = async (name: string): Promise<string> => (await httpGet(pod(cluster, name)!.status!.podIP!, 8080, '/starts')).body;
    expect(await starts('store-1')).toBe('store-1\n');
    const [scratchDir, mounts] = (await httpGet(pod(cluster, 'store-0')!.status!.podIP!, 8080, '/scratch')).body.split(' ');
    expect(JSON.parse(mounts!)).toEqual({ '/var/data': expect.stringContaining('data-store-0'), '/tmp/scratch': scratchDir });
    cluster.deletePod('store-1');
    await until(() => ready(pod(cluster, 'store-1')) && !pod(cluster, 'store-1')!.metadata.deletionTimestamp);
    await until(() => ready(pod(cluster, 'store-1')));
    expect(await starts('store-1')).toBe('store-1\nstore-1\n');
    cluster.scale('store', 1);
    await until(() => !pod(cluster, 'store-1'));
    cluster.scale('store', 2);
    await until(() => ready(pod(cluster, 'store-1')));
    expect(await starts('store-1')).toBe('store-1\nstore-1\nstore-1\n');
    expect(await starts('store-0')).toBe('store-0\n');
    // The emptyDir of the first store-0 is gone with its pod's deletion; a fresh pod gets a fresh one.
    const before = scratchDir!;
    cluster.deletePod('store-0');
    await until(() => ready(pod(cluster, 'store-0')) && existsSync(before) === false);
    cluster.scale('store', 0);
  });

  it('a crashing container restarts at once, then backs off (CrashLoopBackOff), keeping the previous log', async () => {
    cluster.apply(set('crashy', 1, { image: 'example/crash' }));
    await cluster.waitFor(() => containerStatus(pod(cluster, 'crashy-0')).state?.waiting?.reason === 'CrashLoopBackOff', { timeoutMs: 10_000 });
    const status = containerStatus(pod(cluster, 'crashy-0'));
    expect(status.restartCount).toBe(1);
    expect(status.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(status.state.waiting.message).toMatch(/^back-off 10s restarting failed container=app pod=crashy-0_default\(/);
    expect(ready(pod(cluster, 'crashy-0'))).toBe(false);
    expect(cluster.logs('crashy-0')).toEqual(['starting', 'boom']);
    expect(cluster.logs('crashy-0', { previous: true })).toEqual(['starting', 'boom']);
    const events = cluster.list('Event').filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === 'crashy-0').map((e) => (e as { reason?: string }).reason);
    expect(events).toContain('BackOff');
  });
});

describe('stopping like the kubelet', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ exec: { 'example/member': ['node', join(dir, 'member.js')], 'example/once': ['node', join(dir, 'once.js')] } });
  });
  afterAll(() => cluster?.close());

  it('a member that ignores SIGTERM is killed when its grace period ends, then removed', async () => {
    const termFile = join(dir, 'term.log');
    cluster.apply(set('stubborn', 1, { grace: 1, env: [{ name: 'IGNORE_TERM', value: '1' }, { name: 'TERM_FILE', value: termFile }] }));
    await until(() => listening(cluster, 'stubborn-0'));
    const pid = Number(String(containerStatus(pod(cluster, 'stubborn-0')).containerID).split('//')[1]);
    const started = Date.now();
    cluster.scale('stubborn', 0);
    expect(pod(cluster, 'stubborn-0')?.metadata.deletionTimestamp).toBeDefined();
    await cluster.waitFor(() => !pod(cluster, 'stubborn-0'), { timeoutMs: 10_000 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(alive(pid)).toBe(false);
    expect(readFileSync(termFile, 'utf8')).toContain(`stubborn-0 ${pid}`);
    expect(() => cluster.logs('stubborn-0')).toThrow(/pods "stubborn-0" not found/);
  });

  it('restartPolicy Never: a pod whose process exits non-zero is Failed, zero Succeeded', async () => {
    const bare = (name: string, code: number): KubeObject =>
      ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'example/once', env: [{ name: 'CODE', value: String(code) }] }] } }) as KubeObject;
    cluster.apply([bare('fails', 2), bare('works', 0)]);
    await cluster.waitFor(() => pod(cluster, 'fails')?.status?.phase === 'Failed' && pod(cluster, 'works')?.status?.phase === 'Succeeded', { timeoutMs: 10_000 });
    expect(containerStatus(pod(cluster, 'fails')).state.terminated).toMatchObject({ exitCode: 2, reason: 'Error' });
    expect(containerStatus(pod(cluster, 'works')).state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(containerStatus(pod(cluster, 'fails')).restartCount).toBe(0);
    expect(cluster.logs('works')).toEqual(['done']);
  });

  it('close() stops every process', async () => {
    cluster.apply(set('last', 1));
    await until(() => listening(cluster, 'last-0'));
    const closing = Date.now();
    const pid = Number(String(containerStatus(pod(cluster, 'last-0')).containerID).split('//')[1]);
    await cluster.close();
    console.log(`close() with one member: ${Date.now() - closing} ms`);
    expect(alive(pid)).toBe(false);
    // Nothing of ours is left under this test's directory's scripts.
    expect(execFileSync('ps', ['-eo', 'args']).toString()).not.toContain(join(dir, 'member.js'));
  });
});

describe('probes against the process', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ exec: { 'example/member': ['node', join(dir, 'member.js')] } });
  });
  afterAll(() => cluster?.close());
  const addresses = async (name: string): Promise<string[]> => cluster.resolver().resolve4(`${name}.default.svc.cluster.local`).catch(() => []);

  it('Ready, and so DNS, follow an httpGet readiness probe both ways', async () => {
    const health = join(dir, 'health-ready');
    cluster.apply(set('ready', 1, { env: [{ name: 'HEALTH_FILE', value: health }], readinessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 1, failureThreshold: 1 } }));
    await until(() => output(cluster, 'ready-0').length > 0);
    expect(ready(pod(cluster, 'ready-0'))).toBe(false);
    expect(await addresses('ready')).toEqual([]);
    writeFileSync(health, 'ok');
    await until(() => ready(pod(cluster, 'ready-0')));
    expect(await addresses('ready')).toEqual([pod(cluster, 'ready-0')!.status!.podIP]);
    rmSync(health);
    await until(() => !ready(pod(cluster, 'ready-0')));
    expect(await addresses('ready')).toEqual([]);
    // Unready is not a restart.
    expect(containerStatus(pod(cluster, 'ready-0')).restartCount).toBe(0);
    expect(pod(cluster, 'ready-0')!.status!.conditions!.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [app]' });
  });

  it('a failing liveness probe kills the container and the kubelet restarts it', async () => {
    cluster.apply(set('live', 1, { livenessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 1, failureThreshold: 2 } }));
    await until(() => containerStatus(pod(cluster, 'live-0')).restartCount >= 1, 15_000);
    const status = containerStatus(pod(cluster, 'live-0'));
    expect(status.lastState.terminated).toMatchObject({ reason: 'Completed', exitCode: 0 });
    const reasons = cluster.list('Event').filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === 'live-0').map((e) => `${(e as { reason?: string }).reason}: ${(e as { message?: string }).message}`);
    expect(reasons).toContain('Unhealthy: Liveness probe failed');
    expect(reasons).toContain('Killing: Container app failed liveness probe, will be restarted');
    expect(cluster.logs('live-0', { previous: true })[0]).toMatch(/^listening on/);
  }, 20_000);

  it('exec probes; a startup probe holds the others until it passes', async () => {
    const started = join(dir, 'started');
    cluster.apply(
      set('boot', 1, {
        readinessProbe: { exec: { command: ['node', '-e', 'process.exit(0)'] }, periodSeconds: 1 },
      }).map((o) => {
        if (o.kind !== 'StatefulSet') return o;
        const c = o.spec.template.spec.containers[0]!;
        return { ...o, spec: { ...o.spec, template: { ...o.spec.template, spec: { ...o.spec.template.spec, containers: [{ ...c, startupProbe: { exec: { command: ['test', '-f', started] }, periodSeconds: 1, failureThreshold: 30 } }] } } } };
      }),
    );
    await until(() => output(cluster, 'boot-0').length > 0);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(containerStatus(pod(cluster, 'boot-0'))).toMatchObject({ started: false, ready: false });
    writeFileSync(started, '');
    await until(() => ready(pod(cluster, 'boot-0')));
    expect(containerStatus(pod(cluster, 'boot-0'))).toMatchObject({ started: true, ready: true, restartCount: 0 });
  }, 20_000);
});

describe('restart back-off on the cluster clock', () => {
  it('restarts at once, then waits 10 s, 20 s, ...; a container that ran 10 minutes restarts at once again', async () => {
    const clock = new ManualClock(Date.now());
    const stay = join(dir, 'stay');
    const die = join(dir, 'die');
    // Exits 1 at once, unless told to stay; then runs until told to die.
    writeFileSync(join(dir, 'flaky.js'), `const fs = require('node:fs'); if (!fs.existsSync(${JSON.stringify(stay)})) process.exit(1); setInterval(() => { if (fs.existsSync(${JSON.stringify(die)})) process.exit(1); }, 20);`);
    const cluster = await startCluster({ clock, exec: { 'example/flaky': ['node', join(dir, 'flaky.js')] } });
    try {
      cluster.apply(set('flaky', 1, { image: 'example/flaky' }));
      const status = (): Record<string, any> => containerStatus(pod(cluster, 'flaky-0'));
      const waiting = (): string | undefined => status().state?.waiting?.message;
      await until(() => waiting()?.startsWith('back-off 10s') ?? false);
      expect(status().restartCount).toBe(1);
      clock.advance(10_000);
      await until(() => waiting()?.startsWith('back-off 20s') ?? false);
      expect(status().restartCount).toBe(2);
      clock.advance(19_000);
      // Not yet: the back-off is 20 s.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(status().restartCount).toBe(2);
      clock.advance(1_000);
      await until(() => waiting()?.startsWith('back-off 40s') ?? false);
      expect(status().restartCount).toBe(3);
      writeFileSync(stay, '');
      clock.advance(40_000);
      await until(() => status().restartCount === 4 && 'running' in status().state);
      clock.advance(11 * 60_000);
      writeFileSync(die, '');
      // The entry has expired: the restart is immediate, with no CrashLoopBackOff.
      await until(() => status().restartCount === 5 && 'running' in status().state);
    } finally {
      await cluster.close();
      rmSync(stay, { force: true });
      rmSync(die, { force: true });
    }
  }, 30_000);
});

describe('where pod IPs are not addresses of this machine (macOS without aliases)', () => {
  it('members share 127.0.0.1, each on a port of its own, which the pod, DNS and probes say', async () => {
    const logs: string[] = [];
    // 10.250.0.0/16 is no address here, as 127.10.0.0/16 is none on a Mac without aliases.
    const cluster = await startCluster({ podCidr: '10.250.0.0/16', log: (line) => logs.push(line), exec: { 'example/book': ['node', join(dir, 'book.js')] } });
    try {
      const objects = set('shared', 2, { image: 'example/book', readinessProbe: { httpGet: { port: 8080 }, periodSeconds: 1 } }).map((o) =>
        // A named targetPort: each member's own port is what its endpoint (and SRV) carries.
        o.kind === 'Service' ? { ...o, spec: { ...o.spec, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] } } : o,
      ) as KubeObject[];
      cluster.apply(objects);
      await until(() => ready(pod(cluster, 'shared-0')) && ready(pod(cluster, 'shared-1')), 15_000);
      expect(logs.join('\n')).toContain('exec: pod IPs such as 10.250.0.1 are not addresses of this machine, so members share 127.0.0.1');
      const ports = ['shared-0', 'shared-1'].map((name) => {
        const p = pod(cluster, name)!;
        expect(p.status?.podIP).toBe('127.0.0.1');
        return p.spec.containers[0]!.ports![0]!.containerPort;
      });
      expect(ports[0]).not.toBe(ports[1]);
      expect(ports).not.toContain(8080);
      // The app's listen(8080) is where the pod says; each answers as itself.
      expect((await httpGet('127.0.0.1', ports[0]!)).body).toBe('shared-0');
      expect((await httpGet('127.0.0.1', ports[1]!)).body).toBe('shared-1');
      const srv = await cluster.resolver().resolveSrv('_http._tcp.shared.default.svc.cluster.local');
      expect(srv.map((r) => [r.name, r.port]).sort()).toEqual([
        ['shared-0.shared.default.svc.cluster.local', ports[0]],
        ['shared-1.shared.default.svc.cluster.local', ports[1]],
      ]);
      expect(await cluster.resolver().resolve4('shared-1.shared.default.svc.cluster.local')).toEqual(['127.0.0.1']);
    } finally {
      await cluster.close();
    }
  }, 30_000);
});
