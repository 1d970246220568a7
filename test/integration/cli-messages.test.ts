// What the command says when something is wrong, as a user sees it (the built
// bin): one line naming the option, its range, or the flag that fixes it.

import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/index.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { ask } from '../support/wire-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
const BIN = join(ROOT, pkg.bin['headless-dns']!);
const REGISTER = pathToFileURL(join(ROOT, 'dist', 'register.js')).href;

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

function exec(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Exited> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // A serve that started after all is stopped, so the test fails on its output rather than hangs.
    const timer = setTimeout(() => child.kill('SIGTERM'), 10_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const cli = (...args: string[]): Promise<Exited> => exec([BIN, ...args]);

/** Holds a port over UDP and TCP, as another DNS server would. */
async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const udp: UdpSocket = createSocket('udp4');
  const port = await new Promise<number>((resolve) => udp.bind(0, '127.0.0.1', () => resolve(udp.address().port)));
  const tcp: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port, '127.0.0.1', () => resolve());
  });
  return { port, release: async () => void (await Promise.all([new Promise((r) => udp.close(() => r(undefined))), new Promise((r) => tcp.close(() => r(undefined)))])) };
}

describe('serve: bad options', () => {
  it('--ttl -1 and --api-port -1 say the range, not "argument is ambiguous"', async () => {
    const ttl = await cli('serve', '--ttl', '-1');
    expect(ttl).toMatchObject({ code: 2, stdout: '', stderr: 'INVALID_OPTION: --ttl must be a whole number of seconds from 0 to 3600, got -1\n' });
    const api = await cli('serve', '--api-port', '-1');
    expect(api).toMatchObject({ code: 2, stderr: 'INVALID_OPTION: --api-port must be a port number from 0 to 65535, got -1\n' });
  });

  it('an unknown option gets a "did you mean"', async () => {
    const result = await cli('serve', '--dns-prot', '53');
    expect(result).toMatchObject({ code: 2, stderr: 'INVALID_OPTION: unknown option --dns-prot; did you mean --dns-port?\n' });
    expect(await cli('serv')).toMatchObject({ code: 2, stderr: expect.stringMatching(/^INVALID_OPTION: unknown command "serv"; did you mean "serve"\?/) });
  });

  it('serve --version prints the version', async () => {
    expect(await cli('serve', '--version')).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect((await cli('serve', '--help')).stdout).toContain('--version');
  });
});

describe('serve: a port in use', () => {
  it('says so in exactly one line, with the flag that picks another', async () => {
    const held = await holdPort();
    try {
      const dns = await cli('serve', '--dns-port', String(held.port), '--api-port', '0');
      expect(dns.code).toBe(1);
      // Before: a stray "dns udp: bind EADDRINUSE ..." log line came first.
      expect(dns.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(new RegExp(`^LISTEN_FAILED: cannot listen on 127\\.0\\.0\\.1:${held.port}/udp: .*EADDRINUSE.*; pick another with --dns-port N, or --dns-port 0 for a free one$`)),
      ]);
      const api = await cli('serve', '--dns-port', '0', '--api-port', String(held.port));
      expect(api.code).toBe(1);
      expect(api.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^LISTEN_FAILED: .* for the API: .*EADDRINUSE.*; pick another with --api-port N, or --api-port 0 for a free one$/)]);
    } finally {
      await held.release();
    }
  });
});

describe('serve -f: an object in a namespace that does not exist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hdns-ns-'));
  const service = (namespace: string): string =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: ${namespace}\nspec:\n  clusterIP: None\n  selector: {app: web}\n  ports: [{port: 80}]\n`;

  it('names the file, the document and the object', async () => {
    const file = join(dir, 'app.yaml');
    writeFileSync(file, `${service('default').replace('name: web', 'name: fine')}---\n${service('shop')}`);
    const result = await cli('serve', '-f', file, '--dns-port', '0', '--api-port', '0');
    // Before: `NAMESPACE_NOT_FOUND: namespaces "shop" not found`, with no file or document.
    expect(result).toMatchObject({
      code: 1,
      stderr: `NAMESPACE_NOT_FOUND: ${file}: document 2 (Service "web"): namespaces "shop" not found; add a Namespace "shop" to the manifests\n`,
    });
  });

  it('says when the Namespace comes too late', async () => {
    const file = join(dir, 'late.yaml');
    writeFileSync(file, `${service('shop')}---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n`);
    const result = await cli('serve', '-f', file, '--dns-port', '0', '--api-port', '0');
    expect(result.stderr).toBe(`NAMESPACE_NOT_FOUND: ${file}: document 1 (Service "web"): namespaces "shop" not found; its Namespace comes later (${file}: document 2): put that first\n`);
  });
});

describe('serve --host localhost', () => {
  it('binds 127.0.0.1 and answers', async () => {
    // Before: INVALID_OPTION: --host must be an IP address, got "localhost".
    const child: ChildProcess = spawn(process.execPath, [BIN, 'serve', '--host', 'localhost', '--dns-port', '0', '--api-port', '0']);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = '';
      child.stdout!.on('data', (d) => {
        stdout += d;
        const match = /^ready dns=127\.0\.0\.1:(\d+) api=http:\/\/127\.0\.0\.1:\d+\n/.exec(stdout);
        if (match) resolve(Number(match[1]));
      });
      void exited.then((code) => reject(new Error(`serve exited (${code}) before its ready line: ${stderr}`)));
    });
    expect((await ask(port, 'kubia-0.kubia.default.svc.cluster.local', 'A', 'udp')).answer).toEqual(['kubia-0.kubia.default.svc.cluster.local. 30 IN A 127.10.0.1']);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('HEADLESS_DNS for the register preload', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
  });
  afterAll(() => cluster.close());

  const APP = `import { lookup } from 'node:dns/promises'; console.log((await lookup('kubia-1.kubia.default.svc.cluster.local', 4)).address);`;
  const app = (value: string): Promise<Exited> => exec(['--import', REGISTER, '--input-type=module', '-e', APP], { ...process.env, HEADLESS_DNS: value });

  it('takes localhost:PORT', async () => {
    // Before: the preload crashed with ERR_INVALID_IP_ADDRESS from Resolver#setServers.
    expect(await app(`localhost:${cluster.dns.port}`)).toMatchObject({ code: 0, stdout: '127.10.0.2\n' });
  });

  it('refuses nonsense in one line naming the variable, before the app runs', async () => {
    const result = await app('nonsense');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'INVALID_OPTION: HEADLESS_DNS="nonsense": "nonsense" is not an IP address or localhost; write HOST:PORT, e.g. 127.0.0.1:1053, localhost:5353 or [::1]:1053 (read by headless-dns/register)\n',
    );
  });
});
