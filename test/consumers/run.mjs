#!/usr/bin/env node
// The package as other projects use it (`npm run test:consumers`; CI runs it
// after `npm test`): `npm pack` (which runs the build, as publishing does), the
// tarball installed from a file into fresh temporary projects next to test
// runners installed from the npm registry at pinned versions, and their tests
// run there. What only shows from outside: the "exports" conditions each
// loader picks (jest's own module system, which cannot load ESM; vitest's
// workers; mocha; node:test), the types each TypeScript module setting reads,
// and whether jest exits by itself with nothing left open.
//
// Four projects, installed in parallel, one per set of tools that must not
// share a node_modules (jest 29 and 30 both install as `jest`); each runs one
// or more consumers in its own subdirectories. Every consumer test starts a
// cluster with the packed package's examples.kubia, resolves SRV through
// cluster.resolver(), scales to 3, sees 3 records, and closes.
//
//   node test/consumers/run.mjs [--keep]    (--keep: leave the temp dir, print it)

import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KUBIA = 'kubia.default.svc.cluster.local';

/** The consumer tools, pinned: a new major is a deliberate change here. */
const TOOLS = {
  jest29: { jest: '29.7.0' },
  jest30: { jest: '30.5.2', 'ts-jest': '29.4.15', typescript: '5.9.3', '@types/jest': '30.0.0', '@types/node': '20.19.43' },
  vitest: { vitest: '4.1.12' },
  mocha: { mocha: '11.7.6' },
};

/** A step's limit: installs on a cold npm cache are the slow part. */
const INSTALL_TIMEOUT = 300_000;
const RUN_TIMEOUT = 180_000;

/** The environment for a child npm or node, without what `npm run` exported for this package. */
function childEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_(package_|lifecycle_|config_(local_|global_)?prefix$)/i.test(key) || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  // No colours, so that the output checks below read plain text.
  return { ...env, NO_COLOR: '1', FORCE_COLOR: '0', CI: 'true', ...extra };
}

function run(command, args, cwd, { timeout = RUN_TIMEOUT, env } = {}) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const seconds = (Date.now() - started) / 1000;
      const what = `${command} ${args.join(' ')} (in ${cwd})`;
      if (code === 0) resolve({ output, seconds });
      else reject(new Error(`${what}: ${signal === 'SIGKILL' ? `did not finish in ${timeout / 1000} s` : `exit ${code ?? signal}`}\n${output}`));
    });
  });
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

// --- the consumers' files that are not examples/ (those are copied as they are)

/** node:test, CommonJS: require() of both entry points, useCluster with node:test's hooks. */
const NODE_TEST_CJS = `const assert = require('node:assert/strict');
const { after, before, beforeEach, test } = require('node:test');
const { examples, startCluster } = require('headless-dns');
const { useCluster } = require('headless-dns/testing');

const KUBIA = '${KUBIA}';
const names = async (cluster) => (await cluster.resolver().resolveSrv(KUBIA)).map((r) => r.name).sort();

test('startCluster: SRV, scale to 3, close', async () => {
  const cluster = await startCluster({ manifests: [examples.kubia] });
  try {
    assert.deepEqual(await names(cluster), ['kubia-0.' + KUBIA, 'kubia-1.' + KUBIA]);
    cluster.scale('kubia', 3);
    assert.equal((await names(cluster)).length, 3);
  } finally {
    await cluster.close();
  }
});

const cluster = useCluster({ beforeAll: before, afterAll: after, beforeEach }, { manifests: [examples.kubia] });
test('useCluster: scaled in one test', async () => {
  cluster().scale('kubia', 3);
  assert.equal((await names(cluster())).length, 3);
});
test('useCluster: back to the manifests in the next', async () => {
  assert.equal((await names(cluster())).length, 2);
});
`;

/** mocha, ESM. */
const MOCHA_SPEC = `import assert from 'node:assert/strict';
import { examples, startCluster } from 'headless-dns';

const KUBIA = '${KUBIA}';

describe('headless-dns under mocha', function () {
  let cluster;
  before(async function () {
    cluster = await startCluster({ manifests: [examples.kubia] });
  });
  after(() => cluster.close());

  it('resolves SRV, and sees a scale to 3', async function () {
    const names = async () => (await cluster.resolver().resolveSrv(KUBIA)).map((r) => r.name).sort();
    assert.deepEqual(await names(), ['kubia-0.' + KUBIA, 'kubia-1.' + KUBIA]);
    cluster.scale('kubia', 3);
    assert.equal((await names()).length, 3);
  });
});
`;

/** ts-jest: TypeScript compiled to CommonJS and type-checked against dist-cjs's declarations. */
const TS_JEST_TEST = `import { examples, startCluster, type StartedCluster } from 'headless-dns';
import { useCluster } from 'headless-dns/testing';

const KUBIA = '${KUBIA}';
const names = async (cluster: StartedCluster): Promise<string[]> => (await cluster.resolver().resolveSrv(KUBIA)).map((r) => r.name).sort();

describe('startCluster', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [examples.kubia] });
  });
  afterAll(() => cluster.close());

  it('resolves SRV, and sees a scale to 3', async () => {
    expect(await names(cluster)).toEqual([\`kubia-0.\${KUBIA}\`, \`kubia-1.\${KUBIA}\`]);
    cluster.scale('kubia', 3);
    expect(await names(cluster)).toHaveLength(3);
  });
});

describe('useCluster', () => {
  const cluster = useCluster({ beforeAll, afterAll, beforeEach }, { manifests: [examples.kubia] });
  it('scales', async () => {
    cluster().scale('kubia', 3);
    expect(await names(cluster())).toHaveLength(3);
  });
});
`;

/**
 * What a TypeScript consumer writes, type-checked only. The @ts-expect-error
 * lines prove the types are real: were an import to resolve to nothing (any),
 * they would be unused, which is itself an error.
 */
const TYPES_CHECK = `import { examples, startCluster, type DnsCluster, type StartedCluster } from 'headless-dns';
import { useCluster, type Hooks } from 'headless-dns/testing';
import 'headless-dns/register';

declare const hooks: Hooks;

export async function peers(): Promise<string[]> {
  const cluster: StartedCluster = await startCluster({ manifests: [examples.kubia] });
  try {
    cluster.scale('kubia', 3);
    // @ts-expect-error replicas is a number
    cluster.scale('kubia', '3');
    return (await cluster.resolver().resolveSrv('${KUBIA}')).map((r) => r.name);
  } finally {
    await cluster.close();
  }
}

export const fixture: () => StartedCluster = useCluster(hooks, { manifests: [examples.kubia] });
// @ts-expect-error useCluster needs the runner's hooks
useCluster({}, {});

export async function dnsOnly(): Promise<number> {
  const cluster = await startCluster({ api: false, manifests: [examples.kubia] });
  // @ts-expect-error an api: false cluster has no api
  void cluster.api;
  const dns: DnsCluster = cluster;
  await dns.close();
  return dns.dns.port;
}
`;

/** The module settings checked, each in a "type": "module" and a CommonJS package. */
const TS_SETTINGS = [
  { module: 'node16', moduleResolution: 'node16' },
  { module: 'nodenext', moduleResolution: 'nodenext' },
  { module: 'esnext', moduleResolution: 'bundler' },
];

function tsconfig(settings) {
  return {
    compilerOptions: {
      ...settings,
      target: 'es2022',
      strict: true,
      noEmit: true,
      // As most projects have it; one setting below checks our declarations too.
      skipLibCheck: true,
      // Else a side-effect import that resolves to nothing passes unnoticed.
      noUncheckedSideEffectImports: true,
      types: ['node'],
    },
    files: ['check.ts'],
  };
}

// --- the projects

async function project(dir, name, type, tools, tarball) {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), json({ name: `consumer-${name}`, private: true, type }));
  const specs = Object.entries(tools).map(([tool, version]) => `${tool}@${version}`);
  // --prefer-offline: the tools are usually in the npm cache after the first run.
  const { seconds } = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--save-dev', tarball, ...specs], dir, {
    timeout: INSTALL_TIMEOUT,
  });
  return seconds;
}

/** Jest's output must not mention open handles, nor that it did not exit. */
function jestClean(output, label) {
  for (const bad of [/open handle/i, /did not exit/i, /forceExit/i]) {
    if (bad.test(output)) throw new Error(`${label}: jest reported ${bad}:\n${output}`);
  }
  const passed = /Tests:\s+(\d+) passed, (\d+) total/.exec(output);
  if (!passed || passed[1] !== passed[2] || passed[1] === '0') throw new Error(`${label}: not every test passed:\n${output}`);
  return `${passed[1]} tests`;
}

function countPassed(output, pattern, label) {
  const match = pattern.exec(output);
  if (!match || Number(match[1]) === 0) throw new Error(`${label}: no passing tests in:\n${output}`);
  return `${match[1]} tests`;
}

async function main() {
  const keep = process.argv.includes('--keep');
  const started = Date.now();
  const tmp = await realpath(await mkdtemp(join(tmpdir(), 'headless-dns-consumers-')));
  const results = [];
  const step = async (label, fn) => {
    const t = Date.now();
    const detail = await fn();
    results.push({ label, seconds: (Date.now() - t) / 1000, detail });
  };
  try {
    let tarball;
    // `npm run test:consumers` has just built (and test/integration/package.test.ts
    // checks that packing runs the build): packing again would only repeat it.
    await step('npm pack --ignore-scripts', async () => {
      await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp], ROOT, { timeout: INSTALL_TIMEOUT });
      const [file] = (await readdir(tmp)).filter((name) => name.endsWith('.tgz'));
      tarball = join(tmp, file);
      return file;
    });

    const dirs = Object.fromEntries(Object.keys(TOOLS).map((name) => [name, join(tmp, name)]));
    await step('npm install, 4 projects in parallel', async () => {
      const times = await Promise.all(
        Object.entries(TOOLS).map(([name, tools]) => project(dirs[name], name, name === 'vitest' || name === 'mocha' ? 'module' : 'commonjs', tools, tarball)),
      );
      return Object.keys(TOOLS)
        .map((name, i) => `${name} ${times[i].toFixed(1)} s`)
        .join(', ');
    });

    // Each consumer gets the project's node_modules by walking up from its subdirectory.
    const jestBin = (project) => join(dirs[project], 'node_modules', 'jest', 'bin', 'jest.js');
    const fixtureJest = join(ROOT, 'examples', 'fixture-jest');
    await cp(fixtureJest, join(dirs.jest29, 'default'), { recursive: true });
    await cp(fixtureJest, join(dirs.jest30, 'default'), { recursive: true });

    const ts = join(dirs.jest30, 'ts-jest');
    await mkdir(ts);
    await writeFile(join(ts, 'package.json'), json({ private: true, type: 'commonjs' }));
    await writeFile(join(ts, 'jest.config.js'), `module.exports = { preset: 'ts-jest', testEnvironment: 'node' };\n`);
    await writeFile(join(ts, 'tsconfig.json'), json({ compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, types: ['jest', 'node'] } }));
    await writeFile(join(ts, 'peers.test.ts'), TS_JEST_TEST);

    const typeDirs = [];
    for (const type of ['module', 'commonjs']) {
      for (const settings of TS_SETTINGS) {
        const dir = join(dirs.jest30, 'types', `${type}-${settings.moduleResolution}`);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, 'package.json'), json({ private: true, type }));
        const config = tsconfig(settings);
        // The strictest pairing also checks every declaration we ship, as
        // CommonJS (skipLibCheck off costs some 20 s of @types/node and fastify).
        if (type === 'commonjs' && settings.module === 'node16') config.compilerOptions.skipLibCheck = false;
        await writeFile(join(dir, 'tsconfig.json'), json(config));
        await writeFile(join(dir, 'check.ts'), TYPES_CHECK);
        const lib = config.compilerOptions.skipLibCheck ? '' : ', skipLibCheck off';
        typeDirs.push({ dir, label: `tsc --noEmit, "type": "${type}", module ${settings.module} / moduleResolution ${settings.moduleResolution}${lib}` });
      }
    }

    const vitestDir = join(dirs.vitest, 'tests');
    await mkdir(vitestDir);
    for (const file of ['peers.test.ts', 'peers.ts']) await cp(join(ROOT, 'examples', 'fixture-vitest', file), join(vitestDir, file));

    await writeFile(join(dirs.mocha, 'peers.spec.mjs'), MOCHA_SPEC);
    await writeFile(join(dirs.mocha, 'peers.test.cjs'), NODE_TEST_CJS);

    // The runs, each bounded; in parallel where they share nothing but the CPU.
    const jest = (project, cwd, args, label) =>
      step(label, async () => jestClean((await run(process.execPath, [jestBin(project), '--detectOpenHandles', '--ci', ...args], cwd)).output, label));
    await Promise.all([
      jest('jest29', join(dirs.jest29, 'default'), [], 'jest 29, default configuration (examples/fixture-jest)'),
      jest('jest30', join(dirs.jest30, 'default'), [], 'jest 30, default configuration (examples/fixture-jest)'),
    ]);
    await jest('jest30', ts, [], 'jest 30 with ts-jest (TypeScript, CommonJS)');
    for (const pool of ['threads', 'forks']) {
      await step(`vitest, pool '${pool}' (examples/fixture-vitest)`, async () => {
        const { output } = await run(process.execPath, [join(dirs.vitest, 'node_modules', 'vitest', 'vitest.mjs'), 'run', `--pool=${pool}`, '--dir', 'tests'], dirs.vitest);
        return countPassed(output, /Tests\s+(\d+) passed/, 'vitest');
      });
    }
    await step('node:test (CommonJS, require)', async () => {
      const { output } = await run(process.execPath, ['--test', 'peers.test.cjs'], dirs.mocha);
      if (!/# fail 0/.test(output)) throw new Error(`node --test:\n${output}`);
      return countPassed(output, /# pass (\d+)/, 'node:test');
    });
    await step('mocha (ESM, import)', async () => {
      const { output } = await run(process.execPath, [join(dirs.mocha, 'node_modules', 'mocha', 'bin', 'mocha.js'), 'peers.spec.mjs'], dirs.mocha);
      return countPassed(output, /(\d+) passing/, 'mocha');
    });
    const tsc = join(dirs.jest30, 'node_modules', 'typescript', 'bin', 'tsc');
    // One at a time: six in parallel on two cores only made each slower.
    for (const { dir, label } of typeDirs) {
      await step(label, async () => (await run(process.execPath, [tsc, '-p', 'tsconfig.json'], dir)).output.trim() || 'no errors');
    }

    // The preload, both ways, from the installed copy: an unchanged CommonJS
    // app's dns.lookup of a member name goes to the cluster.
    await step('node --require / --import headless-dns/register', async () => {
      const { startCluster, examples } = await import(pathToFileURL(join(dirs.mocha, 'node_modules', 'headless-dns', 'dist', 'index.js')).href);
      const cluster = await startCluster({ manifests: [examples.kubia] });
      try {
        const app = join(dirs.mocha, 'app.cjs');
        await writeFile(app, `require('node:dns').lookup('kubia-1.${KUBIA}', (e, a) => console.log(e ? e.code : a));\n`);
        const expected = cluster.get('Pod', 'kubia-1').status.podIP;
        for (const flag of ['--require', '--import']) {
          const { output } = await run(process.execPath, [flag, 'headless-dns/register', app], dirs.mocha, { env: { HEADLESS_DNS: cluster.dnsServer } });
          if (output.trim() !== expected) throw new Error(`node ${flag} headless-dns/register: printed ${JSON.stringify(output)}, not ${expected}`);
        }
        return `kubia-1 → ${expected}, both ways`;
      } finally {
        await cluster.close();
      }
    });
  } finally {
    if (keep) console.log(`kept ${tmp}`);
    else await rm(tmp, { recursive: true, force: true });
    for (const { label, seconds, detail } of results) console.log(`ok  ${seconds.toFixed(1).padStart(6)} s  ${label}${detail ? `: ${detail}` : ''}`);
  }
  console.log(`consumers: ${results.length} steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
