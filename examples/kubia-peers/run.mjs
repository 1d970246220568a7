#!/usr/bin/env node
// Starts headless-dns with the kubia-peers manifests, three local instances of
// app.mjs as the StatefulSet's members, stores something on each, and prints
// what one of them finds in the cluster; then scales to two and prints again.
//   node examples/kubia-peers/run.mjs

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const cli = here('../../dist/cli/main.js');
const children = [];

function start(args, { quiet = true } = {}) {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', quiet ? 'ignore' : 'inherit'] });
  children.push(child);
  return child;
}

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function until(check, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  const server = start(['serve', '-f', here('./k8s'), '--dns-port', '0', '--api-port', '0']);
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /ready dns=(\S+) api=(\S+)/.exec(out);
      if (match) resolve({ dns: match[1], api: match[2] });
    });
    server.on('exit', () => reject(new Error('headless-dns did not start')));
  });
  console.log(`headless-dns: dns=${ready.dns} api=${ready.api}`);

  const ports = [await freePort(), await freePort(), await freePort()];
  ports.forEach((port, ordinal) =>
    start(['run', '--api', ready.api, '--sts', 'kubia', '--ordinal', String(ordinal), '--port', `http=${port}`, '--lease-seconds', '2', '--', process.execPath, here('./app.mjs')]),
  );
  const readyReplicas = async () => (await (await fetch(`${ready.api}/apis/apps/v1/namespaces/default/statefulsets/kubia`)).json()).status?.readyReplicas ?? 0;
  await until(async () => (await readyReplicas()) === 3, 'three ready members');

  for (const [ordinal, port] of ports.entries()) {
    await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: `hello from ${['the first', 'the second', 'the third'][ordinal]} instance` });
  }
  console.log(`\n$ curl kubia-0 (three members)\n${await (await fetch(`http://127.0.0.1:${ports[0]}/`)).text()}`);

  await fetch(`${ready.api}/apis/apps/v1/namespaces/default/statefulsets/kubia/scale`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { replicas: 2 } }),
  });
  await until(async () => (await readyReplicas()) === 2, 'two ready members');
  console.log(`$ curl kubia-0 (scaled to two)\n${await (await fetch(`http://127.0.0.1:${ports[0]}/`)).text()}`);
}

try {
  await main();
} finally {
  for (const child of children.reverse()) child.kill('SIGTERM');
}
