// The command as a user runs it: the built bin, its one ready line, signals, errors.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { ask } from '../support/wire-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const BIN = join(ROOT, pkg.bin['headless-dns']!);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function startServe(args: string[]): Promise<{ child: ChildProcess; port: number; output: () => Run; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--api-port', '0', ...args]);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      const match = /^ready dns=127\.0\.0\.1:(\d+) api=http:\/\/127\.0\.0\.1:\d+\n/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    void exited.then(() => reject(new Error(`serve exited early: ${stderr}`)));
  });
  return { child, port, exited, output: () => ({ code: null, stdout, stderr }) };
}

describe('headless-dns serve', () => {
  it('prints exactly one ready line, answers, and stops cleanly on SIGTERM and SIGINT', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const server = await startServe(['-f', KUBIA_EXAMPLE, '--dns-port', '0']);
      const reply = await ask(server.port, 'kubia.default.svc.cluster.local', 'SRV', 'udp');
      expect(reply.answer).toHaveLength(2);
      server.child.kill(signal);
      expect(await server.exited).toBe(0);
      expect(server.output().stdout.trim().split('\n')).toHaveLength(1);
      expect(server.output().stderr).toContain(`${signal}: shutting down`);
    }
  });

  it('serves the built-in kubia example when no -f is given', async () => {
    const server = await startServe(['--dns-port', '0']);
    expect((await ask(server.port, 'kubia-1.kubia.default.svc.cluster.local', 'A', 'tcp')).answer).toHaveLength(1);
    expect(server.output().stderr).toContain('built-in kubia example');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('takes --zone, --ttl and --pods', async () => {
    const server = await startServe(['-f', KUBIA_EXAMPLE, '--dns-port', '0', '--zone', 'k8s.test', '--ttl', '5', '--pods', 'disabled']);
    expect((await ask(server.port, 'kubia-0.kubia.default.svc.k8s.test', 'A', 'udp')).answer).toEqual([
      'kubia-0.kubia.default.svc.k8s.test. 5 IN A 127.10.0.1',
    ]);
    expect((await ask(server.port, 'kubia-0.kubia.default.svc.cluster.local', 'A', 'udp')).rcode).toBe('REFUSED');
    expect((await ask(server.port, '10-1-0-1.default.pod.k8s.test', 'A', 'udp')).rcode).toBe('NXDOMAIN');
    server.child.kill('SIGTERM');
    await server.exited;
  });

  it('--help documents every option with its default', async () => {
    const result = await run(['serve', '--help']);
    expect(result.code).toBe(0);
    for (const option of ['--filename', '--dns-port', '--host', '--zone', '--ttl', '--pods', '--upstream', '--api-port', '--kubeconfig', '--token', '--pod-cidr', '--start-unready', '--pod-grace-period']) {
      expect(result.stdout).toContain(option);
    }
    for (const fallback of ['Default 1053', 'Default 8053', 'Default 127.0.0.1', 'Default cluster.local', 'Default 30', 'Default insecure', 'Default\n                          127.10.0.0/16']) {
      expect(result.stdout).toContain(fallback);
    }
  });

  it.each([
    [['serve', '--bogus'], /^INVALID_OPTION: .*--bogus/],
    [['serve', '--ttl', 'soon'], /^INVALID_OPTION: --ttl must be a whole number/],
    [['serve', '--ttl', '4000'], /^INVALID_OPTION: --ttl must be a whole number of seconds from 0 to 3600/],
    [['serve', '--pods', 'maybe'], /^INVALID_OPTION: --pods must be one of disabled, insecure, verified/],
    [['serve', '--dns-port', '70000'], /^INVALID_OPTION: --dns-port must be a port number/],
    [['serve', '--host', 'my-laptop'], /^INVALID_OPTION: --host must be an IP address or localhost/],
    [['serve', '--host', '0.0.0.0'], /^INVALID_OPTION: --host 0\.0\.0\.0 is not a loopback address: the API would be open to the network, so it needs --token/],
    [['serve', '--pod-cidr', '10.0.0.0'], /^INVALID_OPTION: --pod-cidr must be an address range/],
    [['serve', '--upstream', 'dns.example'], /^INVALID_OPTION: --upstream must be HOST:PORT/],
    [['launch'], /^INVALID_OPTION: unknown command "launch"/],
    [['run', '--ordinal', '0', '--port', '80', '--', 'true'], /^INVALID_OPTION: run needs --sts NAME/],
    [['run', '--sts', 'kubia', '--ordinal', 'x', '--port', '80', '--', 'true'], /^INVALID_OPTION: run needs --ordinal N/],
    [['run', '--sts', 'kubia', '--ordinal', '0', '--port', '99999', '--', 'true'], /^INVALID_OPTION: --port must be \[NAME=\]PORT/],
    [['run', '--sts', 'kubia', '--ordinal', '0', '--port', '80'], /^INVALID_OPTION: run needs a command after --/],
  ])('%j is refused with one line and exit code 2', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('an invalid manifest stops it before listening, naming the file, the document and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdns-cli-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 0}]}\n');
    const result = await run(['serve', '-f', file, '--dns-port', '0']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`INVALID_OBJECT: ${file}: document 2 (Service "web"): spec.ports[0].port: Invalid value: 0`);
  });

  it('run --help documents it, and run against no server says so', async () => {
    const help = await run(['run', '--help']);
    expect(help.code).toBe(0);
    for (const option of ['--sts', '--ordinal', '--port', '--ip', '--namespace', '--api', '--token', '--lease-seconds']) expect(help.stdout).toContain(option);
    const nobody = await run(['run', '--api', 'http://127.0.0.1:9', '--sts', 'kubia', '--ordinal', '0', '--port', '80', '--', 'true']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/^NOT_FOUND: no headless-dns API at http:\/\/127\.0\.0\.1:9/);
  });

  it('a missing manifest path is MANIFEST_NOT_FOUND', async () => {
    const result = await run(['serve', '-f', '/nope/k8s', '--dns-port', '0']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^MANIFEST_NOT_FOUND: \/nope\/k8s/);
  });
});
