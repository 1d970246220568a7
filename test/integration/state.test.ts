// serve --state FILE: SIGKILL in the middle of a burst of API writes loses no
// acknowledged write, never leaves a corrupt file, and a restart serves the
// same names and the same pod IPs.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ask } from '../support/wire-client.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

async function serve(state: string): Promise<{ child: ChildProcess; api: string; dns: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--dns-port', '0', '--api-port', '0', '--state', state], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const ready = await new Promise<{ api: string; dns: number }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const match = /ready dns=127\.0\.0\.1:(\d+) api=(\S+)/.exec(out);
      if (match) resolve({ dns: Number(match[1]), api: match[2]! });
    });
    void exited.then(() => reject(new Error(`serve exited: ${stderr}`)));
  });
  return { child, exited, ...ready };
}

const service = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80 }] } });

async function pods(api: string): Promise<string[]> {
  const list = (await (await fetch(`${api}/api/v1/namespaces/default/pods`)).json()) as { items: { metadata: { name: string }; status: { podIP: string } }[] };
  return list.items.map((p) => `${p.metadata.name}=${p.status.podIP}`).sort();
}

describe('serve --state', () => {
  it('keeps every acknowledged write across SIGKILL, and serves the same names and pod IPs', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'hdns-state-')), 'store.jsonl');
    const first = await serve(state);
    await fetch(`${first.api}/apis/apps/v1/namespaces/default/statefulsets/kubia/scale`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: JSON.stringify({ spec: { replicas: 3 } }),
    });
    const podsBefore = await pods(first.api);
    expect(podsBefore).toHaveLength(3);

    // A burst of writes from several clients at once; SIGKILL lands in the middle of it.
    const acknowledged: string[] = [];
    let stop = false;
    const writer = async (worker: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const name = `w${worker}-${i}`;
        try {
          const response = await fetch(`${first.api}/api/v1/namespaces/default/services`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(service(name)) });
          if (response.status === 201) acknowledged.push(name);
        } catch {
          return;
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acknowledged.length < 150) await new Promise((resolve) => setTimeout(resolve, 5));
    first.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await first.exited;

    // Every line but possibly a torn last one is whole JSON.
    const lines = readFileSync(state, 'utf8').split('\n').filter(Boolean);
    lines.slice(0, -1).forEach((line) => expect(() => JSON.parse(line)).not.toThrow());

    const second = await serve(state);
    try {
      const services = (await (await fetch(`${second.api}/api/v1/namespaces/default/services`)).json()) as { items: { metadata: { name: string } }[] };
      const names = new Set(services.items.map((s) => s.metadata.name));
      expect(acknowledged.filter((name) => !names.has(name))).toEqual([]);
      expect(await pods(second.api)).toEqual(podsBefore);
      expect((await ask(second.dns, 'kubia-2.kubia.default.svc.cluster.local', 'A', 'udp')).answer).toEqual([
        `kubia-2.kubia.default.svc.cluster.local. 30 IN A ${podsBefore[2]!.split('=')[1]}`,
      ]);
      const one = acknowledged[0]!;
      expect((await ask(second.dns, `${one}.default.svc.cluster.local`, 'A', 'udp')).rcode).toBe('NOERROR');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });

  it('refuses to start from a corrupt state file, and writes nothing without --state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdns-state-'));
    const state = join(dir, 'store.jsonl');
    writeFileSync(state, '{"t":"snapshot","rv":1,"objects":[]}\nnot json\n{"t":"batch","rv":2,"put":[],"del":[]}\n');
    const child = spawn(process.execPath, [CLI, 'serve', '--dns-port', '0', '--api-port', '0', '--state', state], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^STATE_UNREADABLE: .*line 2 of the state file is not valid JSON/);

    const empty = mkdtempSync(join(tmpdir(), 'hdns-nostate-'));
    const plain = spawn(process.execPath, [CLI, 'serve', '--dns-port', '0', '--api-port', '0'], { cwd: empty, stdio: ['ignore', 'pipe', 'ignore'] });
    const api = await new Promise<string>((resolve) => {
      let out = '';
      plain.stdout.on('data', (chunk) => {
        out += chunk;
        const match = /api=(\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
    });
    await fetch(`${api}/api/v1/namespaces/default/services`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(service('x')) });
    plain.kill('SIGTERM');
    await new Promise((resolve) => plain.on('exit', resolve));
    expect(readdirSync(empty)).toEqual([]);
  });
});
