// Issue 11 item 7 through the built command: `serve -f -` with a pipe, `-f URL`
// from a local HTTP server, `-R`, and the errors (exit code and first stderr
// line) for unknown kinds, empty inputs and bad JSON. Needs dist/ (npx tsc -p tsconfig.build.json).

import { type ChildProcess, spawn } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessDnsError } from '../../src/errors.js';
import { loadManifestSources } from '../../src/model/manifest.js';
import { startCluster } from '../../src/cluster.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const BIN = join(ROOT, pkg.bin['headless-dns']!);

const SERVICE = (name: string, ip: string): string =>
  `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: {clusterIP: ${ip}, ports: [{port: 80}]}\n`;
const DEPLOYMENT = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n';

interface Exit {
  code: number | null;
  stderr: string;
}

interface Serving {
  child: ChildProcess;
  dnsPort: number;
  stderr: () => string;
  stop: () => Promise<number | null>;
}

function spawnServe(args: string[]): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string; stdout: () => string } {
  const child = spawn(process.execPath, [BIN, 'serve', '--dns-port', '0', '--api-port', '0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, exited, stderr: () => stderr, stdout: () => stdout };
}

/** Starts `serve`, writes `stdin` to it (then closes it), and waits for the ready line. */
async function serve(args: string[], stdin?: string): Promise<Serving> {
  const run = spawnServe(args);
  if (stdin !== undefined) run.child.stdin!.end(stdin);
  const dnsPort = await new Promise<number>((resolve, reject) => {
    const check = (): void => {
      const match = /^ready dns=127\.0\.0\.1:(\d+) api=\S+\n/.exec(run.stdout());
      if (match) resolve(Number(match[1]));
    };
    run.child.stdout!.on('data', check);
    void run.exited.then(() => reject(new Error(`serve exited early: ${run.stderr()}`)));
  });
  return {
    child: run.child,
    dnsPort,
    stderr: run.stderr,
    stop: async () => {
      run.child.kill('SIGTERM');
      return run.exited;
    },
  };
}

/** Runs `serve` expecting it to refuse its input. */
async function refused(args: string[], stdin?: string): Promise<Exit> {
  const run = spawnServe(args);
  run.child.stdin!.end(stdin ?? '');
  const code = await Promise.race([run.exited, new Promise<'ready'>((resolve) => run.child.stdout!.on('data', () => resolve('ready')))]);
  if (code === 'ready') {
    run.child.kill('SIGTERM');
    throw new Error(`serve started instead of refusing: ${run.stderr()}`);
  }
  return { code, stderr: run.stderr() };
}

async function resolve4(port: number, name: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${port}`]);
  return resolver.resolve4(name);
}

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'hdns-input-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), text);
  }
  return root;
}

describe('serve -f - (stdin)', () => {
  it('serves the manifests piped in, naming skipped documents by <stdin>', async () => {
    const server = await serve(['-f', '-'], `${SERVICE('web', '10.96.0.50')}---\n${DEPLOYMENT}`);
    try {
      expect(await resolve4(server.dnsPort, 'web.default.svc.cluster.local')).toEqual(['10.96.0.50']);
      expect(server.stderr()).toContain('<stdin>: document 2: skipped Deployment "web"');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('refuses an empty pipe (MANIFEST_EMPTY), a bad document by its number, and - twice', async () => {
    const empty = await refused(['-f', '-'], '# nothing here\n');
    expect(empty).toEqual({ code: 1, stderr: 'MANIFEST_EMPTY: <stdin>: no objects\n' });
    const bad = await refused(['-f', '-'], `${SERVICE('web', '10.96.0.50')}---\n${SERVICE('Bad_Name', '10.96.0.51')}`);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^INVALID_OBJECT: <stdin>: document 2 \(Service "Bad_Name"\): metadata\.name/);
    const twice = await refused(['-f', '-', '-f', '-']);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^INVALID_OPTION: -f - \(stdin\) can be given only once/);
  });
});

describe('serve -f URL', () => {
  let http: Server;
  let base = '';
  beforeAll(async () => {
    http = createServer((req, res) => {
      if (req.url === '/k8s.yaml') res.end(`${SERVICE('remote', '10.96.0.60')}---\napiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: {name: prom}\n`);
      else if (req.url === '/moved') res.writeHead(302, { location: '/k8s.yaml' }).end();
      else if (req.url === '/broken.json') res.end('{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x",}}');
      else if (req.url === '/empty') res.end('');
      else if (req.url === '/fails') res.writeHead(503).end('try later');
      else if (req.url === '/slow') res.writeHead(200).write('apiVersion: v1\n'); // and never ends
      else res.writeHead(404).end('not here');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  });

  it('serves a manifest fetched over HTTP, following a redirect; a custom resource is a skip notice', async () => {
    const server = await serve(['-f', `${base}/moved`]);
    try {
      expect(await resolve4(server.dnsPort, 'remote.default.svc.cluster.local')).toEqual(['10.96.0.60']);
      expect(server.stderr()).toContain(`${base}/moved: document 2: skipped Prometheus "prom"`);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('startCluster takes URLs and recursive directories in `manifests` too', async () => {
    const root = tree({ 'a/b/svc.yaml': SERVICE('deep', '10.96.0.61') });
    const cluster = await startCluster({ manifests: [`${base}/k8s.yaml`, root], recursive: true });
    try {
      expect(cluster.get('Service', 'remote')?.metadata.name).toBe('remote');
      expect(cluster.get('Service', 'deep')?.metadata.name).toBe('deep');
      expect(cluster.skipped.map((s) => s.kind)).toEqual(['Prometheus']);
    } finally {
      await cluster.close();
    }
  });

  it('refuses a non-2xx answer naming the URL and the status', async () => {
    expect(await refused(['-f', `${base}/missing.yaml`])).toEqual({
      code: 1,
      stderr: `MANIFEST_NOT_FOUND: ${base}/missing.yaml: unable to read URL: server reported 404 Not Found\n`,
    });
    expect(await refused(['-f', `${base}/fails`])).toEqual({
      code: 1,
      stderr: `MANIFEST_UNREADABLE: ${base}/fails: unable to read URL: server reported 503 Service Unavailable\n`,
    });
  });

  it('names the URL in parse and emptiness errors', async () => {
    expect(await refused(['-f', `${base}/broken.json`])).toEqual({
      code: 1,
      stderr: `MANIFEST_UNREADABLE: ${base}/broken.json: line 1, column 68: invalid JSON: a comma before "}" (JSON allows no trailing comma)\n`,
    });
    expect(await refused(['-f', `${base}/empty`])).toEqual({ code: 1, stderr: `MANIFEST_EMPTY: ${base}/empty: no objects\n` });
  });

  it('gives up on a URL that does not finish within the timeout, or cannot be reached', async () => {
    const slow = await loadManifestSources([`${base}/slow`], { urlTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(HeadlessDnsError);
    expect(slow).toMatchObject({ code: 'MANIFEST_UNREADABLE', message: `${base}/slow: unable to read URL: no complete answer within 0.3 s` });
    const vacant = createServer();
    await new Promise<void>((resolve) => vacant.listen(0, '127.0.0.1', resolve));
    const port = (vacant.address() as AddressInfo).port;
    await new Promise((resolve) => vacant.close(resolve));
    const closed = await loadManifestSources([`http://127.0.0.1:${port}/k8s.yaml`]).catch((e: unknown) => e);
    expect(closed).toMatchObject({ code: 'MANIFEST_UNREADABLE', message: `http://127.0.0.1:${port}/k8s.yaml: unable to read URL: connect ECONNREFUSED 127.0.0.1:${port}` });
  });
});

describe('serve -R and the errors of -f', () => {
  it('-R reads nested directories; without it, a directory whose manifests are all nested is MANIFEST_EMPTY', async () => {
    const root = tree({ 'apps/web/svc.yaml': SERVICE('nested', '10.96.0.70'), 'apps/README.md': '# not a manifest' });
    const server = await serve(['-R', '-f', root]);
    try {
      expect(await resolve4(server.dnsPort, 'nested.default.svc.cluster.local')).toEqual(['10.96.0.70']);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    const flat = await refused(['-f', root]);
    expect(flat.code).toBe(1);
    expect(flat.stderr).toBe(`MANIFEST_EMPTY: ${root}: no manifests in the directory: recognized file extensions are .json, .yaml, .yml; its subdirectories are read only with -R (--recursive)\n`);
  });

  it('an unknown kind names the file, the document and the kind, with a did-you-mean', async () => {
    const root = tree({ 'web.yaml': `${DEPLOYMENT}---\n${SERVICE('web', '10.96.0.80').replace('kind: Service', 'kind: Servce')}` });
    expect(await refused(['-f', join(root, 'web.yaml')])).toEqual({
      code: 1,
      stderr: `INVALID_OBJECT: ${join(root, 'web.yaml')}: document 2 (Servce "web"): kind: no matches for kind "Servce" in version "v1"; did you mean "Service"?\n`,
    });
  });

  it('an empty file and a directory without manifests are MANIFEST_EMPTY', async () => {
    const root = tree({ 'empty.yaml': '---\n# todo\n', 'docs/notes.txt': 'x' });
    expect(await refused(['-f', join(root, 'empty.yaml')])).toEqual({ code: 1, stderr: `MANIFEST_EMPTY: ${join(root, 'empty.yaml')}: no objects in the file\n` });
    expect(await refused(['-f', join(root, 'docs')])).toEqual({
      code: 1,
      stderr: `MANIFEST_EMPTY: ${join(root, 'docs')}: no manifests in the directory: recognized file extensions are .json, .yaml, .yml\n`,
    });
  });

  it('a JSON file with a trailing comma is MANIFEST_UNREADABLE with its line and column', async () => {
    const root = tree({ 'svc.json': '{\n  "apiVersion": "v1",\n  "kind": "Service",\n  "metadata": {"name": "web"},\n  "spec": {"ports": [{"port": 80},]}\n}\n' });
    expect(await refused(['-f', join(root, 'svc.json')])).toEqual({
      code: 1,
      stderr: `MANIFEST_UNREADABLE: ${join(root, 'svc.json')}: line 5, column 35: invalid JSON: a comma before "]" (JSON allows no trailing comma)\n`,
    });
  });
});
