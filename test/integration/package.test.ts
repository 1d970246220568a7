// The package as another project gets it: `npm pack` (which runs the build, as
// publishing does), the tarball installed into a fresh project, and used from
// there. What only shows outside this repository: `headless-dns` resolving
// through node_modules rather than to itself, the example manifests found from
// the installed copy, relative manifest paths read from the consumer's working
// directory, source maps pointing at files that were shipped, and the LICENSE
// package.json names.

import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KUBIA = 'kubia.default.svc.cluster.local';

// Packing builds with tsc and installing may have to fetch from the registry on
// a cold npm cache: minutes are generous, tens of seconds are usual.
const SETUP_TIMEOUT = 240_000;

/**
 * The environment for a child npm or node: without what `npm test` exported
 * for this package (npm_package_*, npm_lifecycle_*, its prefixes), which would
 * otherwise make the child npm think it is working on this repository.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_(local_|global_)?prefix$)/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  return env;
}

function run(command: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env: childEnv(), maxBuffer: 64 * 1024 * 1024, timeout: SETUP_TIMEOUT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

// What the consumer runs besides the README's script: written here, not
// shipped, since it checks the package rather than showing how to use it.
const CHECK_SCRIPT = `
import { createRequire } from 'node:module';
import { examples, startCluster } from 'headless-dns';

const require = createRequire(import.meta.url);
const out = {
  examples,
  required: require.resolve('headless-dns/examples/kubia/kubia-statefulset.yaml'),
  imported: import.meta.resolve('headless-dns/examples/kubia/kubia-statefulset.yaml'),
};
const cluster = await startCluster({ manifests: ['k8s'] });
try {
  out.srv = (await cluster.resolver().resolveSrv('web.default.svc.cluster.local')).map((r) => r.name).sort();
} finally {
  await cluster.close();
}
try {
  await startCluster({ manifests: ['missing'] });
  out.missing = null;
} catch (error) {
  out.missing = { code: error.code, message: error.message };
}
console.log(JSON.stringify(out));
`;

// A manifest only the consumer's working directory has, so that finding its
// records proves where the relative path was read from.
const WEB_MANIFEST = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: None
  selector:
    app: web
  ports:
  - name: http
    port: 8080
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
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
`;

describe('the packed package, installed into another project', () => {
  let tmp: string;
  let tarball: string;
  /** The tarball's files, relative to its package/ folder. */
  let shipped: Set<string>;
  let app: string;
  let installed: string;

  beforeAll(async () => {
    tmp = await realpath(await mkdtemp(join(tmpdir(), 'headless-dns-package-')));
    const { stdout } = await run('npm', ['pack', '--pack-destination', tmp, '--json'], ROOT);
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string }];
    tarball = join(tmp, packed.filename);
    const listing = await run('tar', ['-tzf', tarball], tmp);
    shipped = new Set(listing.stdout.split('\n').filter(Boolean).map((entry) => entry.replace(/^package\//, '')));

    app = join(tmp, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // --prefer-offline: the dependencies are usually in the npm cache already.
    await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], app);
    installed = join(app, 'node_modules', 'headless-dns');
  }, SETUP_TIMEOUT);

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('ships the LICENSE package.json names, and the built-in examples', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).toBe('MIT');
    expect(shipped).toContain('LICENSE');
    expect(await readFile(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the headless-dns authors\n/);
    expect(shipped).toContain('examples/kubia/kubia-statefulset.yaml');
    expect(shipped).toContain('examples/installed/srv.mjs');
  });

  it("serves the web page from the installed copy (the files ship, nothing is built at install)", async () => {
    for (const file of ['ui/index.html', 'ui/app.js', 'ui/app.css']) expect(shipped).toContain(file);
    const child = spawn(process.execPath, [join(installed, 'dist/cli/main.js'), 'serve', '--dns-port', '0', '--api-port', '0'], { cwd: tmp });
    try {
      const api = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        child.stdout.on('data', (d) => {
          stdout += d;
          const match = /^ready dns=\S+ api=(\S+)\n/.exec(stdout);
          if (match) resolve(match[1]!);
        });
        child.on('close', (code) => reject(new Error(`serve exited (${code}) before its ready line`)));
      });
      const page = await fetch(`${api}/ui`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<script type="module" src="/ui/app.js">');
      const script = await fetch(`${api}/ui/app.js`);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect((await script.text()).length).toBeGreaterThan(1000);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('ships source maps that point at shipped files', () => {
    const scripts = [...shipped].filter((file) => file.startsWith('dist/') && file.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(10);
    return Promise.all(
      scripts.map(async (script) => {
        const code = await readFile(join(installed, script), 'utf8');
        const mapName = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(code)?.[1];
        expect(mapName, `${script} names its source map`).toBeDefined();
        const mapFile = posix.join(posix.dirname(script), mapName!);
        expect(shipped, `${script}'s map`).toContain(mapFile);
        const map = JSON.parse(await readFile(join(installed, mapFile), 'utf8')) as { sourceRoot?: string; sources: string[] };
        expect(map.sources.length).toBeGreaterThan(0);
        for (const source of map.sources) {
          expect(shipped, `${mapFile} names ${source}`).toContain(posix.join(posix.dirname(mapFile), map.sourceRoot ?? '', source));
        }
      }),
    );
  });

  it("runs the README's script there: examples.kubia, SRV through the cluster's resolver, close", async () => {
    await copyFile(join(ROOT, 'examples/installed/srv.mjs'), join(app, 'srv.mjs'));
    const { stdout } = await run(process.execPath, ['srv.mjs'], app);
    expect(stdout).toBe(`kubia-0.${KUBIA}:80\nkubia-1.${KUBIA}:80\n`);
  });

  it('resolves the example paths from the installed copy, and relative manifests from the working directory', async () => {
    await writeFile(join(app, 'check.mjs'), CHECK_SCRIPT);
    // The script lives in the project, the working directory is elsewhere:
    // `manifests: ['k8s']` must be read from the latter, as `serve -f k8s` is.
    const work = join(tmp, 'work');
    await mkdir(join(work, 'k8s'), { recursive: true });
    await writeFile(join(work, 'k8s', 'web.yaml'), WEB_MANIFEST);
    const { stdout } = await run(process.execPath, [join(app, 'check.mjs')], work);
    const out = JSON.parse(stdout) as {
      examples: { kubia: string; kubiaPeers: string; kubiaLocal: string };
      required: string;
      imported: string;
      srv: string[];
      missing: { code: string; message: string } | null;
    };

    expect(out.examples).toEqual({ kubia: join(installed, 'examples', 'kubia'), kubiaPeers: join(installed, 'examples', 'kubia-peers', 'k8s'), kubiaLocal: join(installed, 'examples', 'kubia-local') });
    expect(out.required).toBe(join(out.examples.kubia, 'kubia-statefulset.yaml'));
    expect(out.imported).toBe(pathToFileURL(out.required).href);
    expect(dirname(out.required)).toBe(out.examples.kubia);

    expect(out.srv).toEqual(['web-0.web.default.svc.cluster.local']);
    expect(out.missing).toEqual({
      code: 'MANIFEST_NOT_FOUND',
      message: `missing: no such file or directory (tried ${join(work, 'missing')}: relative paths are read from the working directory ${work})`,
    });
  });
});
