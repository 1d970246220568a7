// `headless-dns run` as a kubelet for one local process: one run per member
// (a second is refused, or takes over explicitly), the command dies with run
// (SIGKILL included), the port is checked before the command starts, an API
// outage keeps the command running and registers it again, every Node
// descendant gets the resolver preload, a Service that would publish the wrong
// port is reported, and readiness is awaited with progress and a timeout.
// Real processes throughout: the CLI from dist and a small node app.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/index.js';
import { targetPortWarnings } from '../../src/cli/run.js';
import type { Pod, Service } from '../../src/model/types.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/kubia-peers/', import.meta.url));
// HEADLESS_DNS_RUN_CLI lets this file run against a private build while others rebuild dist/.
const CLI = process.env.HEADLESS_DNS_RUN_CLI ?? fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const LEASE_SECONDS = 2;
const KUBIA = 'kubia.default.svc.cluster.local';

// The app: listens on $POD_IP:$PORT (after APP_LISTEN_DELAY ms, never if
// APP_NO_LISTEN), optionally starts a grandchild (to see the whole tree go) and
// resolves a cluster name through dns.lookup (to see the preload arrive).
const APP = `
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
if (process.env.APP_CHILD) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  process.stderr.write('grandchild ' + child.pid + '\\n');
}
if (process.env.APP_LOOKUP) {
  try {
    const { address } = await lookup(process.env.APP_LOOKUP, { family: 4 });
    process.stderr.write('lookup ' + process.env.APP_LOOKUP + ' -> ' + address + '\\n');
  } catch (error) {
    process.stderr.write('lookup ' + process.env.APP_LOOKUP + ' failed ' + error.code + '\\n');
  }
}
process.on('SIGTERM', () => process.exit(0));
if (!process.env.APP_NO_LISTEN) {
  setTimeout(() => createServer((_, res) => res.end('hi from ' + process.env.POD_NAME)).listen(Number(process.env.PORT), process.env.POD_IP), Number(process.env.APP_LISTEN_DELAY ?? 0));
} else {
  setInterval(() => {}, 1000);
}
`;

let work: string;
let appPath: string;

/** A run process under test: its stderr so far, and what it said about its command. */
interface Runner {
  proc: ChildProcess;
  stderr: () => string;
  until: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

const runners: Runner[] = [];
const pids = new Set<number>();
const servers: Server[] = [];

function startRun(api: string, args: string[], command: string[], env: Record<string, string> = {}, cwd?: string): Runner {
  const proc = spawn(process.execPath, [CLI, 'run', '--api', api, '--lease-seconds', String(LEASE_SECONDS), ...args, '--', ...command], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false', ...env },
    ...(cwd ? { cwd } : {}),
  });
  if (proc.pid) pids.add(proc.pid);
  let text = '';
  const waiters: (() => void)[] = [];
  proc.stderr!.on('data', (chunk) => {
    text += chunk;
    // Remember every process the run reports, so cleanup reaches them even if the test fails.
    for (const match of text.matchAll(/(?:command running as pid|grandchild) (\d+)/g)) pids.add(Number(match[1]));
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const until = (pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; stderr:\n${text}`)), timeoutMs);
      const check = (): void => {
        const match = pattern.exec(text);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        } else waiters.push(check);
      };
      check();
      void exited.then(() => setTimeout(() => {
        if (!pattern.exec(text)) {
          clearTimeout(timer);
          reject(new Error(`run exited without ${pattern}; stderr:\n${text}`));
        }
      }, 50));
    });
  const runner = { proc, stderr: () => text, until, exited };
  runners.push(runner);
  return runner;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Alive and not a zombie (an orphan's zombie waits for whoever adopted it to reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function srv(cluster: StartedCluster, name = KUBIA): Promise<string[]> {
  try {
    return (await cluster.resolver().resolveSrv(name)).map((s) => `${s.name.split('.')[0]}:${s.port}`).sort();
  } catch {
    return [];
  }
}

function podReady(cluster: StartedCluster, name: string): boolean {
  return cluster.store.get('Pod', 'default', name)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'run-supervisor-'));
  appPath = join(work, 'app.mjs');
  writeFileSync(appPath, APP);
});

afterEach(async () => {
  // Every run and everything it reported must be gone, whatever the test did.
  for (const runner of runners.splice(0)) {
    if (runner.proc.exitCode === null && runner.proc.signalCode === null) runner.proc.kill('SIGKILL');
    await runner.exited;
  }
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  pids.clear();
  for (const server of servers.splice(0)) server.close();
});

afterAll(() => {
  if (work && existsSync(work)) rmSync(work, { recursive: true, force: true });
});

describe('run against examples/kubia-peers', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [`${EXAMPLE}k8s`] });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('refuses a second run for a member whose lease is held; --take-over hands it over and the old run leaves DNS alone', async () => {
    const port = await freePort();
    const first = startRun(cluster.api.url, ['--sts', 'kubia', '--ordinal', '0', '--port', `http=${port}`], [process.execPath, appPath]);
    await first.until(/kubia-0: ready/);
    expect(first.stderr()).not.toContain('warning:');

    const otherPort = await freePort();
    const second = startRun(cluster.api.url, ['--sts', 'kubia', '--ordinal', '0', '--port', `http=${otherPort}`], [process.execPath, appPath]);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/ALREADY_EXISTS: kubia-0 is already run by \S+\/\d+ .*--take-over/);
    expect(second.stderr()).not.toContain('command running');
    expect(await srv(cluster)).toEqual([`kubia-0:${port}`]);

    // Same port: the new run waits for the old command to free it.
    const third = startRun(cluster.api.url, ['--sts', 'kubia', '--ordinal', '0', '--port', `http=${port}`, '--take-over'], [process.execPath, appPath]);
    await first.until(/was taken over by \S+ \(run --take-over\); stopping the command/);
    await first.exited;
    await third.until(/kubia-0: ready/);
    // The old run's exit must not have taken the member out: it is the new run's now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(podReady(cluster, 'kubia-0')).toBe(true);
    expect(await srv(cluster)).toEqual([`kubia-0:${port}`]);
    expect(cluster.store.get('Lease', 'default', 'kubia-0')?.spec?.holderIdentity).toMatch(new RegExp(`/${third.proc.pid}$`));
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hi from kubia-0');

    third.proc.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    await cluster.waitFor(async () => (await srv(cluster)).length === 0);
  });

  it('a SIGKILLed run takes its command and the command\'s children with it; the next run for the ordinal starts cleanly', async () => {
    const port = await freePort();
    const first = startRun(cluster.api.url, ['--sts', 'kubia', '--ordinal', '1', '--port', `http=${port}`], [process.execPath, appPath], { APP_CHILD: '1' });
    const app = Number((await first.until(/command running as pid (\d+)/))[1]);
    const grandchild = Number((await first.until(/grandchild (\d+)/))[1]);
    await first.until(/kubia-1: ready/);
    expect(alive(app) && alive(grandchild)).toBe(true);

    first.proc.kill('SIGKILL');
    await first.exited;
    await eventually(() => !alive(app) && !alive(grandchild), 5000, 'the app and its child gone after run was SIGKILLed');
    // The kernel releases the listening socket as the last holder's exit finishes, which can trail the pid's disappearance.
    await eventually(() => portFree(port), 5000, `port ${port} free after run was SIGKILLed`);

    // The dead run's lease has not expired yet, but its holder is gone: no refusal, no orphan on the port.
    const second = startRun(cluster.api.url, ['--sts', 'kubia', '--ordinal', '1', '--port', `http=${port}`], [process.execPath, appPath]);
    await second.until(/kubia-1: ready/);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hi from kubia-1');
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('refuses to start when the port is taken, instead of reporting a false ready', async () => {
    const squatter = createServer((socket) => socket.end());
    servers.push(squatter);
    const port = await new Promise<number>((resolve) => squatter.listen(0, '127.0.0.1', () => resolve((squatter.address() as AddressInfo).port)));
    const runner = startRun(cluster.api.url, ['--sts', 'kubia', '--ordinal', '2', '--port', `http=${port}`], [process.execPath, appPath]);
    expect(await runner.exited).toBe(1);
    expect(runner.stderr()).toContain(`LISTEN_FAILED: cannot start kubia-2: 127.0.0.1:${port} (EADDRINUSE) is already in use`);
    expect(runner.stderr()).not.toMatch(/kubia-2: ready|command running/);
  });

  it('prints progress while waiting for readiness and gives up after --ready-timeout', async () => {
    const port = await freePort();
    const started = Date.now();
    const runner = startRun(cluster.api.url, ['--sts', 'kubia', '--ordinal', '2', '--port', `http=${port}`, '--ready-timeout', '2'], [process.execPath, appPath], { APP_NO_LISTEN: '1' });
    const app = Number((await runner.until(/command running as pid (\d+)/))[1]);
    expect(await runner.exited).toBe(1);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(runner.stderr()).toContain(`kubia-2: waiting for 127.0.0.1:${port} ... 1 s of 2`);
    expect(runner.stderr()).toContain(`kubia-2: 127.0.0.1:${port} did not accept connections within 2 s (--ready-timeout); stopping the command`);
    expect(runner.stderr()).not.toMatch(/kubia-2: ready/);
    await eventually(() => !alive(app), 3000, 'the app stopped after the timeout');
    expect(cluster.store.get('Lease', 'default', 'kubia-2')).toBeUndefined();
  });

  it('run --help describes every option', async () => {
    const help = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [CLI, 'run', '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk));
      child.on('exit', () => resolve(text));
    });
    expect(help).toMatch(/-n, --namespace NS +the namespace of the StatefulSet and its pod/);
    expect(help).toMatch(/--ready-timeout S .*\n.*\n.*Default 60/);
    expect(help).toContain('--take-over');
  });
});

describe('run across a restart of the API', () => {
  it('keeps the command running while the API is away and registers the member again when it is back (same store, then a fresh one)', async () => {
    const [apiPort, dnsPort] = [await freePort(), await freePort()];
    const state = join(work, 'state.jsonl');
    const options = { manifests: [`${EXAMPLE}k8s`], apiPort, dnsPort };
    let cluster = await startCluster({ ...options, state });
    try {
      const port = await freePort();
      const runner = startRun(cluster.api.url, ['--sts', 'kubia', '--ordinal', '0', '--port', `http=${port}`], [process.execPath, appPath]);
      const app = Number((await runner.until(/command running as pid (\d+)/))[1]);
      await runner.until(/kubia-0: ready/);

      await cluster.close();
      await runner.until(/the API at \S+ is unreachable \(.*\); keeping kubia-0 running \(pid \d+\), will register it again when the API is back/);
      // Longer than the lease: a kubelet keeps its containers while the API server is away.
      await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 500));
      expect(alive(app)).toBe(true);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hi from kubia-0');

      cluster = await startCluster({ ...options, state });
      await runner.until(/the API is back; registering kubia-0 again[\s\S]*registered again at 127\.0\.0\.1, ready/);
      await cluster.waitFor(async () => (await srv(cluster)).includes(`kubia-0:${port}`), { timeoutMs: 5000 });

      // A serve restarted without --state has a new store, where an emulated
      // kubia-0 of another uid is no replacement of ours: take it over.
      await cluster.close();
      cluster = await startCluster(options);
      await runner.until(/the API is back with a fresh store; registering kubia-0 again[\s\S]*?registered again at 127\.0\.0\.1, ready/);
      await cluster.waitFor(async () => (await srv(cluster)).includes(`kubia-0:${port}`), { timeoutMs: 5000 });
      expect(cluster.store.get('Pod', 'default', 'kubia-0')?.status?.podIP).toBe('127.0.0.1');

      expect(alive(app)).toBe(true);
      expect(runner.stderr()).not.toContain('deleted or replaced');
      expect(runner.proc.exitCode).toBeNull();
      runner.proc.kill('SIGTERM');
      expect(await runner.exited).toBe(0);
    } finally {
      await cluster.close();
    }
  });
});

describe('run with a plain ClusterIP Service and a token', () => {
  let cluster: StartedCluster;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(work, 'web-'));
    // The Service names no targetPort: it defaults to the port (80), so the
    // member's endpoints say 80 whatever the local process listens on.
    writeFileSync(join(dir, 'web.yaml'), `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  annotations:
    headless-dns.io/start-unready: "true"
spec:
  serviceName: web
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: web
        ports:
        - name: http
          containerPort: 8080
`);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'web', private: true, scripts: { start: 'node app.mjs' } }));
    writeFileSync(join(dir, 'app.mjs'), APP);
    cluster = await startCluster({ manifests: [join(dir, 'web.yaml')], token: 's3cret-token' });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('says the API needs a token', async () => {
    const runner = startRun(cluster.api.url, ['--sts', 'web', '--ordinal', '0', '--port', '8081'], [process.execPath, appPath], { HEADLESS_DNS_TOKEN: '' });
    expect(await runner.exited).toBe(2);
    expect(runner.stderr()).toContain(`INVALID_OPTION: the headless-dns API at ${cluster.api.url} needs a token: pass the one serve was started with (--token T, or $HEADLESS_DNS_TOKEN)`);
    expect(runner.stderr()).not.toContain('NOT_FOUND');
  });

  it('`npm start` gets the resolver preload, and a Service whose targetPort is not the process\'s port is reported with the fix', async () => {
    const port = await freePort();
    const clusterIp = cluster.store.get('Service', 'default', 'web')?.spec.clusterIP;
    const name = 'web.default.svc.cluster.local';
    const runner = startRun(cluster.api.url, ['--token', 's3cret-token', '--sts', 'web', '--ordinal', '0', '--port', `http=${port}`], ['npm', 'start', '--silent'], { APP_LOOKUP: name }, dir);
    await runner.until(/web-0: ready/, 20_000);
    expect((await runner.until(/lookup \S+ (-> \S+|failed \S+)/))[0]).toBe(`lookup ${name} -> ${clusterIp}`);
    expect(runner.stderr()).toContain(
      `web-0: warning: Service default/web port 80 ("http") has targetPort 80 (the default when none is given: the port itself): its endpoints and SRV records say 80, but web-0 listens on http=${port}. ` +
        'To publish the port this process listens on, name the container port in the Service: targetPort: http',
    );
    runner.proc.kill('SIGTERM');
    await runner.exited;
  });
});

describe('targetPortWarnings', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'kubia-0', namespace: 'default', labels: { app: 'kubia' } },
    spec: { containers: [{ name: 'kubia', ports: [{ name: 'http', containerPort: 8081 }] }] },
  } as unknown as Pod;
  const service = (ports: Service['spec']['ports'], selector: Record<string, string> = { app: 'kubia' }): Service =>
    ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubia', namespace: 'default' }, spec: { selector, ports } }) as Service;
  const published = [{ name: 'http', port: 8081 }];

  it('is quiet for a named targetPort, the published number, or a Service that does not select the pod', () => {
    expect(targetPortWarnings(pod, [service([{ name: 'http', port: 80, targetPort: 'http' }])], published)).toEqual([]);
    expect(targetPortWarnings(pod, [service([{ port: 80, targetPort: 8081 }])], published)).toEqual([]);
    expect(targetPortWarnings(pod, [service([{ port: 80, targetPort: 80 }], { app: 'other' })], published)).toEqual([]);
  });

  it('names the Service, the port and the fix for a number, and for a name the pod lacks', () => {
    expect(targetPortWarnings(pod, [service([{ name: 'web', port: 80, targetPort: 8080 }])], published)).toEqual([
      'warning: Service default/kubia port 80 ("web") has targetPort 8080: its endpoints and SRV records say 8080, but kubia-0 listens on http=8081. To publish the port this process listens on, name the container port in the Service: targetPort: http',
    ]);
    expect(targetPortWarnings(pod, [service([{ port: 80, targetPort: 'web' }])], published)[0]).toContain('has targetPort "web", which names no container port of kubia-0');
  });
});
