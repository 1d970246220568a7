#!/usr/bin/env node
// Cold start, as a test runner's fresh worker pays it: each run is a new Node
// process that imports (or requires) the built package and starts its first
// cluster with the kubia example. Also the wall time of a whole
// `node -e "require(...)"` next to a bare `node -e 0`, so Node's own boot is
// visible beside ours.
//   npm run bench:cold [-- --runs 20]

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stats } from './stats.mjs';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
const root = fileURLToPath(new URL('../', import.meta.url));
const kubia = `${root}examples/kubia`;

// The child measures from before the import to the cluster being ready (DNS answering the kubia SRV).
const child = (load, extra = '') => `
const t0 = performance.now();
Promise.resolve(${load}).then(async ({ startCluster }) => {
  const t1 = performance.now();
  const cluster = await startCluster({ manifests: [${JSON.stringify(kubia)}]${extra} });
  const t2 = performance.now();
  const srv = await cluster.resolver().resolveSrv('kubia.default.svc.cluster.local');
  await cluster.close();
  if (srv.length !== 2) throw new Error('kubia SRV: ' + srv.length + ' records');
  process.stdout.write(JSON.stringify({ load: t1 - t0, start: t2 - t1, total: t2 - t0 }));
});`;

const variants = {
  'ESM: import() + first startCluster()': ['--input-type=module', '-e', child(`import(${JSON.stringify(`${root}dist-cjs/index.mjs`)})`)],
  'CommonJS: require() + first startCluster()': ['-e', child(`require(${JSON.stringify(`${root}dist-cjs/index.js`)})`)],
  // A test that needs only DNS: no API socket, no node:http.
  'CommonJS: require() + first startCluster({ api: false })': ['-e', child(`require(${JSON.stringify(`${root}dist-cjs/index.js`)})`, ', api: false')],
};

const fmt = (n) => `${n.toFixed(1)} ms`;

const rows = [];
for (const [name, args] of Object.entries(variants)) {
  const samples = { load: [], start: [], total: [] };
  for (let i = 0; i < runs; i++) {
    const out = JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
    for (const key of Object.keys(samples)) samples[key].push(out[key]);
  }
  const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, stats(v)]));
  rows.push(`| ${name} | ${fmt(s.load.median)} | ${fmt(s.start.median)} | **${fmt(s.total.median)}** | ${fmt(s.total.min)} – ${fmt(s.total.max)} (p90 ${fmt(s.total.p90)}) |`);
}

const wall = (args) => {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    execFileSync(process.execPath, args);
    samples.push(performance.now() - t0);
  }
  return stats(samples);
};
const bare = wall(['-e', '0']);
const required = wall(['-e', `require(${JSON.stringify(`${root}dist-cjs/index.js`)})`]);

const lines = [
  `# Cold start (${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${runs} fresh processes each)`,
  '',
  '| in a fresh process | load median | first startCluster() median | load + start median | spread |',
  '|---|---|---|---|---|',
  ...rows,
  '',
  '| whole process, wall | median | spread |',
  '|---|---|---|',
  `| \`node -e 0\` (Node's own boot) | ${fmt(bare.median)} | ${fmt(bare.min)} – ${fmt(bare.max)} |`,
  `| \`node -e "require('headless-dns')"\` | ${fmt(required.median)} | ${fmt(required.min)} – ${fmt(required.max)} |`,
  '',
  "Targets (issue 14): load + first start ≤ 60 ms median; require's whole process under 100 ms wall.",
];
console.log(lines.join('\n'));
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}cold-${new Date().toISOString().slice(0, 10)}.md`, `${lines.join('\n')}\n`);
