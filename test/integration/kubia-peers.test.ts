// examples/kubia-peers: three local instances of the book's clustered data
// store discover each other through headless-dns, come and go, and come back.

import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/index.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/kubia-peers/', import.meta.url));
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const LEASE_SECONDS = 2;
const KUBIA = 'kubia.default.svc.cluster.local';

interface Member {
  run: ChildProcess;
  appPid: Promise<number>;
  exited: Promise<number | null>;
}

function member(cluster: StartedCluster, ordinal: number, port: number): Member {
  const run = spawn(process.execPath, [CLI, 'run', '--api', cluster.api.url, '--sts', 'kubia', '--ordinal', String(ordinal), '--port', `http=${port}`, '--lease-seconds', String(LEASE_SECONDS), '--', process.execPath, `${EXAMPLE}app.mjs`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const appPid = new Promise<number>((resolve) =>
    run.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const match = /command running as pid (\d+)/.exec(stderr);
      if (match) resolve(Number(match[1]));
    }),
  );
  const exited = new Promise<number | null>((resolve) => run.on('exit', resolve));
  return { run, appPid, exited };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function srv(cluster: StartedCluster): Promise<string[]> {
  try {
    return (await cluster.resolver().resolveSrv(KUBIA)).map((s) => `${s.name.split('.')[0]}:${s.port}`).sort();
  } catch {
    return [];
  }
}

describe('kubia-peers', () => {
  let cluster: StartedCluster;
  const ports: number[] = [];
  const members: Member[] = [];
  const orphans: number[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ manifests: [`${EXAMPLE}k8s`] });
    for (let i = 0; i < 3; i++) ports.push(await freePort());
    ports.forEach((port, ordinal) => members.push(member(cluster, ordinal, port)));
    await cluster.waitForReadyMembers('kubia', 3, { timeoutMs: 10_000 });
  });
  afterAll(async () => {
    for (const m of members) m.run.kill('SIGTERM');
    await Promise.all(members.map((m) => m.exited));
    for (const pid of orphans) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await cluster.close();
  });

  it('three local instances discover each other over real DNS, each on its own port', async () => {
    expect(await srv(cluster)).toEqual(ports.map((port, i) => `kubia-${i}:${port}`));
    for (const [i, port] of ports.entries()) await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: `data-${i}` });
    const page = await (await fetch(`http://127.0.0.1:${ports[1]}/`)).text();
    expect(page).toBe(
      `You've hit kubia-1\nData stored in the cluster:\n${ports.map((_, i) => `- kubia-${i}.${KUBIA}: data-${i}`).join('\n')}\n`,
    );
  });

  it('killing an instance removes it from SRV within its lease; restarting it under the same ordinal brings it back', async () => {
    process.kill(await members[1]!.appPid, 'SIGKILL');
    const started = Date.now();
    await cluster.waitFor(async () => (await srv(cluster)).length === 2, { timeoutMs: LEASE_SECONDS * 1000 });
    expect(Date.now() - started).toBeLessThan(LEASE_SECONDS * 1000);
    await expect(cluster.resolver().resolve4(`kubia-1.${KUBIA}`)).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await members[1]!.exited;

    members[1] = member(cluster, 1, ports[1]!);
    await cluster.waitForReadyMembers('kubia', 3, { timeoutMs: 10_000 });
    expect(await srv(cluster)).toEqual(ports.map((port, i) => `kubia-${i}:${port}`));
    expect(await cluster.resolver().resolve4(`kubia-1.${KUBIA}`)).toEqual(['127.0.0.1']);
  });

  it('an instance whose runner dies without a word leaves SRV when its lease expires', async () => {
    const orphan = await members[2]!.appPid;
    orphans.push(orphan);
    members[2]!.run.kill('SIGKILL');
    const started = Date.now();
    await cluster.waitFor(async () => (await srv(cluster)).length === 2, { timeoutMs: LEASE_SECONDS * 1000 + 2000 });
    expect(Date.now() - started).toBeLessThan(LEASE_SECONDS * 1000 + 2000);
    expect(await srv(cluster)).toEqual([`kubia-0:${ports[0]}`, `kubia-1:${ports[1]}`]);
  });

  it('the example script prints the aggregated answer, then drops a member when scaled to two', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      const script = spawn(process.execPath, [`${EXAMPLE}run.mjs`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      script.stdout.on('data', (chunk) => (text += chunk));
      script.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`run.mjs exited ${code}: ${text}`))));
    });
    const [three, two] = output.split('$ curl kubia-0 (scaled to two)');
    expect(three).toContain(`- kubia-2.${KUBIA}: hello from the third instance`);
    expect(two).toContain(`- kubia-1.${KUBIA}: hello from the second instance`);
    expect(two).not.toContain('kubia-2');
  });
});

describe('examples/fixture-node-test', () => {
  it('passes under node --test', async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--test', 'examples/fixture-node-test/'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      child.on('exit', (code) => resolve({ code, output }));
    });
    expect(result.output).toMatch(/# pass 2\n# fail 0/);
    expect(result.code).toBe(0);
  });
});
