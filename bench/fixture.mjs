#!/usr/bin/env node
// In-process fixture timings: startCluster() to ready, and close() with a TCP
// client connected, as a test file would see them. Medians over many runs.
//   npm run bench:fixture [-- --runs 50]

import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { stats } from './stats.mjs';
import { startCluster } from '../dist/index.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 50;
const kubia = fileURLToPath(new URL('../examples/kubia', import.meta.url));


const scenarios = {
  'empty cluster': {},
  'kubia example (manifests, StatefulSet makes 2 pods)': { manifests: [kubia] },
};

// Warm up module loading and JIT once, as the first test of a file pays that anyway.
await (await startCluster({ manifests: [kubia] })).close();

const rows = [];
for (const [name, options] of Object.entries(scenarios)) {
  const start = [];
  const close = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const cluster = await startCluster(options);
    start.push(performance.now() - t0);
    const client = connect({ port: cluster.dns.port, host: '127.0.0.1' });
    await new Promise((resolve) => client.on('connect', resolve));
    const t1 = performance.now();
    await cluster.close();
    close.push(performance.now() - t1);
    client.destroy();
  }
  rows.push({ name, start: stats(start), close: stats(close) });
}

// reset(): back to the kubia manifests after a test scaled the set and added a Service.
const resets = [];
{
  const cluster = await startCluster({ manifests: [kubia] });
  for (let i = 0; i < runs; i++) {
    cluster.scale('kubia', 5);
    cluster.apply([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'extra', namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: 'x' }, ports: [{ port: 80 }] } }]);
    const t0 = performance.now();
    cluster.reset();
    resets.push(performance.now() - t0);
    if (cluster.readyMembers('kubia').length !== 2) throw new Error('reset() did not bring kubia back to 2 members');
  }
  await cluster.close();
}
const reset = stats(resets);

const fmt = (n) => `${n.toFixed(2)} ms`;
const lines = [
  `# Fixture timings (${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${runs} runs each)`,
  '',
  '| scenario | start median | start p90 | close median (TCP client connected) | close p90 |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.name} | ${fmt(r.start.median)} | ${fmt(r.start.p90)} | ${fmt(r.close.median)} | ${fmt(r.close.p90)} |`),
  '',
  `reset() back to the kubia manifests (after a scale to 5 and an extra Service): median ${fmt(reset.median)}, p90 ${fmt(reset.p90)}.`,
  '',
  'All warm: the first cluster of the process is started (and closed) before timing. Cold figures: bench/cold.mjs.',
  'Targets: start under 50 ms, close under 20 ms (medians).',
];
console.log(lines.join('\n'));
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}fixture-${new Date().toISOString().slice(0, 10)}.md`, `${lines.join('\n')}\n`);
