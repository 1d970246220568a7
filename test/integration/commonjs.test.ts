// The CommonJS build (dist-cjs/, scripts/build-cjs.mjs: one bundle, loaded with
// its V8 code cache, behind CommonJS and ESM entry points) as Node loads it: by
// `require` of the package's own name (a package may require itself through
// its "exports"), in child processes, so that what is checked is Node's
// resolution and module loader rather than vitest's. npm test builds first.
// test/consumers/run.mjs checks the same from the packed tarball under jest,
// mocha, node:test, vitest and tsc; this file is the quick check that needs
// no registry.

import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedCluster, startCluster } from '../../src/index.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KUBIA = 'kubia.default.svc.cluster.local';

/** Runs node asynchronously (a cluster in this process must keep answering). */
function node(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`node ${args.join(' ')}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

const ENTRY_POINTS = ['headless-dns', 'headless-dns/testing', 'headless-dns/register'];

describe('require("headless-dns")', () => {
  let tmp: string;
  let cluster: StartedCluster;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'hdns-cjs-'));
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
  });
  afterAll(async () => {
    await cluster?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('loads CommonJS files from dist-cjs, with the same exports as the ESM entry points', async () => {
    // HEADLESS_DNS for register: it only patches node:dns, nothing is asked.
    const script = `
      const entries = ${JSON.stringify(ENTRY_POINTS)};
      (async () => {
        const out = {};
        for (const entry of entries) {
          const file = require.resolve(entry);
          out[entry] = {
            file,
            commonjs: require.cache[file] === undefined && (require(entry), require.cache[file] !== undefined),
            required: Object.keys(require(entry)).sort(),
            imported: Object.keys(await import(entry)).filter((k) => k !== 'default' && k !== 'module.exports').sort(),
          };
        }
        out.examples = [require('headless-dns').examples, (await import('headless-dns')).examples];
        console.log(JSON.stringify(out));
      })();
    `;
    const { stdout, stderr } = await node(['-e', script], { HEADLESS_DNS: '127.0.0.1:1' });
    const out = JSON.parse(stdout) as Record<string, { file: string; commonjs: boolean; required: string[]; imported: string[] }> & {
      examples: [unknown, unknown];
    };
    for (const entry of ENTRY_POINTS) {
      const name = entry === 'headless-dns' ? 'index' : entry.slice('headless-dns/'.length);
      // Old code: "exports" had no require condition, and Node 20.19+ would
      // require() the ESM file (jest's loader cannot).
      expect(relative(ROOT, out[entry]!.file)).toBe(`dist-cjs/${name}.js`);
      expect(out[entry]!.commonjs, `${entry} is in require.cache: loaded as CommonJS`).toBe(true);
      expect(out[entry]!.required).toEqual(out[entry]!.imported);
    }
    expect(out['headless-dns']!.required).toEqual(expect.arrayContaining(['examples', 'startCluster', 'HeadlessDnsError']));
    expect(out['headless-dns/testing']!.required).toEqual(expect.arrayContaining(['startCluster', 'useCluster']));
    // The relative URLs built from import.meta.url find the same files from dist-cjs/.
    expect(out.examples[0]).toEqual(out.examples[1]);
    expect(out.examples[0]).toEqual({ kubia: join(ROOT, 'examples', 'kubia'), kubiaPeers: join(ROOT, 'examples', 'kubia-peers', 'k8s'), kubiaLocal: join(ROOT, 'examples', 'kubia-local') });
    expect(stderr).toBe('');
  });

  it('starts a cluster, resolves SRV, scales, and runs what the ESM code import()s lazily (the TLS module) from the bundle', async () => {
    const script = `
      const { examples, startCluster } = require('headless-dns');
      (async () => {
        // tls: the one option whose module is import()ed only when asked for.
        const cluster = await startCluster({ manifests: [examples.kubia], tls: true, log: () => {} });
        try {
          const srv = async () => (await cluster.resolver().resolveSrv('${KUBIA}')).map((r) => r.name).sort();
          const before = await srv();
          cluster.scale('kubia', 3);
          const after = await srv();
          const https = cluster.api.url.startsWith('https:');
          console.log(JSON.stringify({ before, after, https, loaded: Object.keys(require.cache).filter((f) => f.includes('/dist')).map((f) => f.slice(f.indexOf('dist'))).sort() }));
        } finally {
          await cluster.close();
        }
      })();
    `;
    const { stdout } = await node(['-e', script]);
    const out = JSON.parse(stdout) as { before: string[]; after: string[]; https: boolean; loaded: string[] };
    expect(out.before).toEqual([`kubia-0.${KUBIA}`, `kubia-1.${KUBIA}`]);
    expect(out.after).toEqual([`kubia-0.${KUBIA}`, `kubia-1.${KUBIA}`, `kubia-2.${KUBIA}`]);
    // import() in the ESM source became a require() inside the bundle: the
    // TLS module ran, and no file of the ESM build (dist/) was loaded.
    expect(out.https).toBe(true);
    expect(out.loaded).toEqual(['dist-cjs/index.js', 'dist-cjs/load.js']);
  });

  it('serves the openapi documents shipped in src/api/openapi/, found from the bundle', async () => {
    const script = `
      const { startCluster } = require('headless-dns');
      (async () => {
        const cluster = await startCluster({ manifests: [] });
        try {
          const response = await fetch(cluster.api.url + '/openapi/v3/apis/apps/v1');
          console.log(JSON.stringify({ status: response.status, statefulSet: 'io.k8s.api.apps.v1.StatefulSet' in (await response.json()).components.schemas }));
        } finally {
          await cluster.close();
        }
      })();
    `;
    expect(JSON.parse((await node(['-e', script])).stdout)).toEqual({ status: 200, statefulSet: true });
  });

  it.each(['--require', '--import'])('node %s headless-dns/register routes cluster names of an unchanged app', async (flag) => {
    const app = join(tmp, 'app.cjs');
    await writeFile(
      app,
      `const dns = require('node:dns');
       dns.lookup('kubia-1.${KUBIA}', (e, a) => dns.promises.resolveSrv('${KUBIA}').then((srv) =>
         console.log(JSON.stringify({ member: e ? e.code : a, srv: srv.map((r) => r.name).sort() }))));`,
    );
    const { stdout, stderr } = await node([flag, 'headless-dns/register', app], { HEADLESS_DNS: cluster.dnsServer });
    expect(JSON.parse(stdout)).toEqual({ member: cluster.get('Pod', 'kubia-1')?.status?.podIP, srv: [`kubia-0.${KUBIA}`, `kubia-1.${KUBIA}`] });
    expect(stderr).toBe('');
  });

  it('ships one bundle with a code cache this Node accepts, declarations for every entry point, and no CLI', async () => {
    const files = (await readdir(join(ROOT, 'dist-cjs'), { recursive: true })).map(String);
    expect(files.filter((f) => f.endsWith('.js')).sort()).toEqual(['bundle.js', 'index.js', 'load.js', 'register.js', 'testing.js']);
    for (const entry of ['index', 'testing', 'register']) expect(files).toContain(`${entry}.d.ts`);
    // Declarations the entry points' declarations import are there too.
    expect(files).toContain('cluster.d.ts');
    expect(files.filter((f) => f.startsWith('cli'))).toEqual([]);
    // V8 refuses a cache made by another V8 or with other flags and then
    // compiles from source; made by this build, this Node must take it.
    const { stdout } = await node(['-e', "const l = require('./dist-cjs/load.js'); console.log(JSON.stringify({ rejected: l.cacheRejected, parts: Object.keys(l.library) }))"]);
    expect(JSON.parse(stdout)).toEqual({ rejected: false, parts: ['index', 'testing'] });
  });

});
