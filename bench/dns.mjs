#!/usr/bin/env node
// DNS benchmark: headless-dns against dnsmasq (serving the same records,
// generated from our registry) and against the ceiling of one Node process (a
// dgram server answering a fixed precomputed reply), with dnsperf on loopback.
// Servers are pinned to core 0, dnsperf to core 1 (the scale section loads
// with every core free, then pins). Never part of `npm test`.
//   npm run bench [-- --seconds 10 --repeats 3 --scale]
//   node bench/dns.mjs --tail-only   (latency at 10k qps only, printed)

import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const SECONDS = Number(args[args.indexOf('--seconds') + 1] || 0) || 10;
const REPEATS = Number(args[args.indexOf('--repeats') + 1] || 0) || 3;
/** Seconds of the separate run per (mix, server) at a fixed rate that prints every answer, for tail latency. */
const LATENCY_SECONDS = 5;
/** The fixed rate of those runs (dnsperf -Q): tail latency is read where no server is saturated. */
const LATENCY_QPS = 10_000;
/** `--tail-only`: just the fixed-rate latency runs, for quick before/after comparisons. */
const TAIL_ONLY = args.includes('--tail-only');
/** Scale loads are measured this many times each (medians). */
const LOADS = 3;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'dist/cli/main.js');
const work = mkdtempSync(join(tmpdir(), 'hdns-bench-'));
const children = [];
const pin = cpus().length > 1;

function need(binary, pkg) {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
  } catch {
    console.error(`installing ${pkg} (Debian) for ${binary}...`);
    execFileSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`], { stdio: 'inherit' });
  }
}

function pinned(core, command, commandArgs, options = {}) {
  const child = pin ? spawn('taskset', ['-c', String(core), command, ...commandArgs], options) : spawn(command, commandArgs, options);
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

function statefulSetYaml(name, replicas) {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  clusterIP: None
  selector: {app: ${name}}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ${name}}
spec:
  serviceName: ${name}
  replicas: ${replicas}
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers: [{name: app, image: app, ports: [{name: http, containerPort: 8080}]}]
`;
}

async function startHeadless(dir, extra = [], { pinToCore = true } = {}) {
  const started = performance.now();
  const serveArgs = [CLI, 'serve', '-f', dir, '--dns-port', '0', '--api-port', '0', '--pod-cidr', '10.200.0.0/14', ...extra];
  const options = { stdio: ['ignore', 'pipe', 'ignore'] };
  const child = pinToCore ? pinned(0, process.execPath, serveArgs, options) : spawn(process.execPath, serveArgs, options);
  if (!pinToCore) children.push(child);
  const ready = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /ready dns=127\.0\.0\.1:(\d+) api=(\S+)/.exec(out);
      if (match) resolve({ port: Number(match[1]), api: match[2] });
    });
    child.on('exit', (code) => reject(new Error(`headless-dns exited ${code}`)));
  });
  return { ...ready, child, loadSeconds: (performance.now() - started) / 1000 };
}

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK; 100 on Linux). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU seconds a process has used (user and system, all its threads), from
 * /proc/PID/stat; NaN where there is none. A server's CPU per query is its
 * cost, steadier than QPS on a machine whose other load comes and goes.
 */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

function queryPacket(name, type, id = 1) {
  const types = { A: 1, SRV: 33, AAAA: 28 };
  const labels = name.split('.').filter(Boolean);
  const qname = Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const out = Buffer.alloc(12 + qname.length + 4);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(0x0100, 2);
  out.writeUInt16BE(1, 4);
  qname.copy(out, 12);
  out.writeUInt16BE(types[type], 12 + qname.length);
  out.writeUInt16BE(1, 12 + qname.length + 2);
  return out;
}

function askUdp(port, name, type) {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('timeout'));
    }, 2000);
    socket.on('message', (reply) => {
      clearTimeout(timer);
      socket.close();
      resolve(reply);
    });
    socket.send(queryPacket(name, type), port, '127.0.0.1');
  });
}

function askTcp(port, name, type) {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let data = Buffer.alloc(0);
    socket.on('connect', () => {
      const q = queryPacket(name, type);
      socket.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 255]), q]));
    });
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      if (data.length >= 2 && data.length >= 2 + data.readUInt16BE(0)) {
        socket.destroy();
        resolve(data.subarray(2, 2 + data.readUInt16BE(0)));
      }
    });
    socket.on('error', reject);
  });
}

/**
 * Runs dnsperf; returns QPS, average latency (ms), lost queries and rcode
 * counts from its summary. With `perQuery`, dnsperf prints every answer (-v)
 * and the latency percentiles are taken from those lines. That printing, and
 * this process reading it, cost CPU the servers and dnsperf need, so
 * throughput runs never ask for it.
 */
function dnsperf(port, file, seconds, tcp, perQuery = false, pid = undefined) {
  return new Promise((resolve) => {
    const cpuBefore = pid === undefined ? Number.NaN : cpuSeconds(pid);
    const flags = ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(seconds), ...(perQuery ? ['-v', '-Q', String(LATENCY_QPS)] : []), ...(tcp ? ['-m', 'tcp'] : [])];
    // Answers go to a file, read once dnsperf is done: a reader on the pipe
    // (this process, its collections) could stall dnsperf's writes, and so its clock.
    const out = join(work, `dnsperf-${port}-${Date.now()}.txt`);
    const fd = openSync(out, 'w');
    const child = pinned(1, 'dnsperf', flags, { stdio: ['ignore', fd, 'ignore'] });
    closeSync(fd);
    child.on('exit', () => {
      const cpu = pid === undefined ? Number.NaN : cpuSeconds(pid) - cpuBefore;
      const latencies = [];
      let summary = '';
      for (const line of readFileSync(out, 'utf8').split('\n')) {
        if (line.startsWith('> ')) latencies.push(Number(line.slice(line.lastIndexOf(' ') + 1)));
        else summary += `${line}\n`;
      }
      rmSync(out);
      latencies.sort((a, b) => a - b);
      const qps = Number(/Queries per second:\s+([\d.]+)/.exec(summary)?.[1] ?? 0);
      const lost = Number(/Queries lost:\s+(\d+)/.exec(summary)?.[1] ?? 0);
      const completed = Number(/Queries completed:\s+(\d+)/.exec(summary)?.[1] ?? 0);
      const avg = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(summary)?.[1] ?? NaN);
      // "Response codes:       NOERROR 1213065 (100.00%), NXDOMAIN 3 (0.00%)"
      const rcodes = {};
      for (const [, code, n] of (/Response codes:\s+(.*)/.exec(summary)?.[1] ?? '').matchAll(/([A-Z]+) (\d+) \(/g)) rcodes[code] = Number(n);
      const at = (q) => (latencies.length ? latencies[Math.floor(latencies.length * q)] * 1000 : NaN);
      resolve({ qps, avgMs: avg * 1000, p50Ms: at(0.5), p99Ms: at(0.99), p999Ms: at(0.999), lost, rcodes, cpuMicros: completed > 0 ? (cpu / completed) * 1e6 : Number.NaN });
    });
  });
}

async function startDnsmasq(records, port) {
  const lines = [
    `port=${port}`,
    'listen-address=127.0.0.1',
    'bind-interfaces',
    'no-resolv',
    'no-hosts',
    'no-poll',
    'local=/cluster.local/',
    'user=root',
    ...records.hosts.map(([name, ip]) => `host-record=${name},${ip}`),
    ...records.srv.map(([owner, target, port2, weight]) => `srv-host=${owner},${target},${port2},0,${weight}`),
  ];
  const conf = join(work, `dnsmasq-${port}.conf`);
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const child = pinned(0, 'dnsmasq', ['-k', `--conf-file=${conf}`], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try {
      await askUdp(port, 'nope.cluster.local', 'A');
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('dnsmasq did not start');
}

async function startCeiling(reply, port) {
  const file = join(work, `ceiling-${port}.bin`);
  writeFileSync(file, reply);
  const child = pinned(0, process.execPath, [join(ROOT, 'bench/ceiling.mjs'), file, String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    try {
      await askUdp(port, 'x', 'A');
      return child;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('ceiling server did not start');
}

async function api(base, method, path, body, type = 'application/merge-patch+json') {
  const response = await fetch(`${base}${path}`, { method, headers: body ? { 'content-type': type } : {}, body: body ? JSON.stringify(body) : undefined });
  return response.json();
}

async function main() {
  need('dnsperf', 'dnsperf');
  need('dnsmasq', 'dnsmasq-base');
  if (pin) need('taskset', 'util-linux');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });

  const dir = join(work, 'k8s');
  mkdirSync(dir);
  writeFileSync(join(dir, 'kubia.yaml'), statefulSetYaml('kubia', 3));
  writeFileSync(join(dir, 'big.yaml'), statefulSetYaml('big', 100));
  const server = await startHeadless(dir);
  // The same server with the query log on (the ring, and every query's CoreDNS line written to
  // stderr, here /dev/null): what the log costs is the QPS between the two.
  const logged = await startHeadless(dir, ['--log-queries']);
  const kept = await startHeadless(dir, ['--keep-queries']);

  // What our registry holds, for dnsmasq and for the query files.
  const pods = (await api(server.api, 'GET', '/api/v1/namespaces/default/pods')).items;
  const member = (pod) => `${pod.metadata.name}.${pod.spec.subdomain}.default.svc.cluster.local`;
  const hosts = pods.map((pod) => [member(pod), pod.status.podIP]);
  const srv = [];
  for (const svc of ['kubia', 'big']) {
    const members = pods.filter((p) => p.spec.subdomain === svc);
    const weight = Math.floor(100 / members.length) || 1;
    for (const owner of [`${svc}.default.svc.cluster.local`, `_http._tcp.${svc}.default.svc.cluster.local`]) {
      for (const pod of members) srv.push([owner, member(pod), 8080, weight]);
    }
  }
  const mixes = [
    { id: 'a', title: '(a) pod A names', queries: pods.map((p) => `${member(p)} A`) },
    { id: 'b', title: '(b) SRV of a 3-pod service (bare, _http._tcp)', queries: ['kubia.default.svc.cluster.local SRV', '_http._tcp.kubia.default.svc.cluster.local SRV'] },
    { id: 'c', title: '(c) NXDOMAIN names', queries: Array.from({ length: 1000 }, (_, i) => `nope-${i}.default.svc.cluster.local A`) },
    { id: 'd', title: '(d) SRV of a 100-pod service over TCP', queries: ['big.default.svc.cluster.local SRV'], tcp: true },
  ];
  for (const mix of mixes) {
    mix.file = join(work, `queries-${mix.id}.txt`);
    writeFileSync(mix.file, `${mix.queries.join('\n')}\n`);
  }

  const dnsmasqPort = await freePort();
  const dnsmasq = await startDnsmasq({ hosts, srv }, dnsmasqPort);

  // Every (mix, server) runs REPEATS times, interleaved, and the median run is reported:
  // this machine's neighbours make single runs swing by a third.
  const ceilings = [];
  for (const mix of mixes) {
    const [qname, qtype] = mix.queries[0].split(' ');
    const reply = mix.tcp ? await askTcp(server.port, qname, qtype) : await askUdp(server.port, qname, qtype);
    mix.ceilingPort = await freePort();
    const ceiling = await startCeiling(reply, mix.ceilingPort);
    mix.ceilingPid = ceiling.pid;
    ceilings.push(ceiling);
  }
  const servers = (mix) => [
    ['headless-dns', server.port, server.child.pid],
    ['headless-dns --log-queries', logged.port, logged.child.pid],
    ['headless-dns --keep-queries', kept.port, kept.child.pid],
    ['dnsmasq', dnsmasqPort, dnsmasq.pid],
    ['node ceiling', mix.ceilingPort, mix.ceilingPid],
  ];
  const runs = new Map();
  for (let repeat = 0; repeat < (TAIL_ONLY ? 0 : REPEATS); repeat++) {
    for (const mix of mixes) {
      for (const [name, port, pid] of servers(mix)) {
        const result = await dnsperf(port, mix.file, SECONDS, mix.tcp, false, pid);
        const key = `${mix.id}|${name}`;
        runs.set(key, [...(runs.get(key) ?? []), result]);
        process.stderr.write(`run ${repeat + 1}/${REPEATS} ${mix.title} ${name}: ${result.qps.toFixed(0)} qps, ${result.cpuMicros.toFixed(2)} CPU µs/query\n`);
      }
    }
  }
  // Tail latency from a run of its own at a fixed 10k queries/s, with every
  // answer written to a file (read afterwards). This process idles meanwhile,
  // on dnsperf's core, so it takes nothing from the servers' core.
  if (pin) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  const tails = new Map();
  for (const mix of mixes) {
    for (const [name, port] of servers(mix)) {
      // Every server is measured warm: in the full bench the throughput runs
      // came first; alone, each gets a short unmeasured run of the same mix.
      if (TAIL_ONLY) await dnsperf(port, mix.file, 2, mix.tcp);
      tails.set(`${mix.id}|${name}`, await dnsperf(port, mix.file, LATENCY_SECONDS, mix.tcp, true));
    }
  }
  for (const ceiling of ceilings) ceiling.kill();
  if (TAIL_ONLY) {
    // Quick loop while working on latency: only the fixed-rate runs, printed, nothing written.
    console.log(`| mix | server | p50 ms @10k | p99 ms @10k | p99.9 ms @10k | lost |\n|---|---|---|---|---|---|`);
    for (const mix of mixes) {
      for (const [name] of servers(mix)) {
        const t = tails.get(`${mix.id}|${name}`);
        console.log(`| ${mix.title} | ${name} | ${t.p50Ms.toFixed(3)} | ${t.p99Ms.toFixed(3)} | ${t.p999Ms.toFixed(3)} | ${t.lost} |`);
      }
    }
    return;
  }
  const median = (list) => [...list].sort((a, b) => a.qps - b.qps)[Math.floor(list.length / 2)];
  const rows = mixes.map((mix) => ({
    mix,
    results: Object.fromEntries(
      servers(mix).map(([name]) => {
        const key = `${mix.id}|${name}`;
        const tail = tails.get(key);
        const cpu = runs.get(key).map((r) => r.cpuMicros).sort((a, b) => a - b);
        return [name, { ...median(runs.get(key)), cpuMicros: cpu[Math.floor(cpu.length / 2)], p50Ms: tail.p50Ms, p99Ms: tail.p99Ms, p999Ms: tail.p999Ms, all: runs.get(key).map((r) => r.qps) }];
      }),
    ),
  }));

  // Membership changes while a load runs: events/s through the API, and how soon DNS shows one.
  const load = dnsperf(server.port, mixes[0].file, 6, false);
  const started = performance.now();
  let writes = 0;
  while (performance.now() - started < 5000) {
    await api(server.api, 'PATCH', '/api/v1/namespaces/default/pods/kubia-1/status', { status: { conditions: [{ type: 'Ready', status: writes % 2 ? 'True' : 'False' }] } });
    writes++;
  }
  const eventsPerSecond = writes / ((performance.now() - started) / 1000);
  await load;
  await api(server.api, 'PATCH', '/api/v1/namespaces/default/pods/kubia-1/status', { status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  const visible = [];
  for (let i = 0; i < 200; i++) {
    const replicas = i % 2 ? 3 : 4;
    await api(server.api, 'PATCH', '/apis/apps/v1/namespaces/default/statefulsets/kubia/scale', { spec: { replicas } });
    const t = performance.now();
    const reply = await askUdp(server.port, 'kubia.default.svc.cluster.local', 'SRV');
    if (reply.readUInt16BE(6) !== replicas) throw new Error('a scale event was not visible in the next answer');
    visible.push(performance.now() - t);
  }
  visible.sort((a, b) => a - b);
  const scaleToAnswer = visible[Math.floor(visible.length / 2)];
  const scaleCall = [];
  for (let i = 0; i < 100; i++) {
    const t = performance.now();
    await api(server.api, 'PATCH', '/apis/apps/v1/namespaces/default/statefulsets/kubia/scale', { spec: { replicas: i % 2 ? 3 : 4 } });
    scaleCall.push(performance.now() - t);
  }
  scaleCall.sort((a, b) => a - b);
  const serverRss = rss(server.child.pid);

  const date = new Date().toISOString().slice(0, 10);
  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '—');
  const lines = [
    `# DNS benchmark (${date})`,
    '',
    `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); servers on core 0, dnsperf on core 1; ${SECONDS} s per run, ${REPEATS} runs each, interleaved; the median run is shown (all runs' QPS in the last column; avg ms is that run's; p50/p99/p99.9 come from a separate ${LATENCY_SECONDS} s run at a fixed ${LATENCY_QPS} queries/s, dnsperf -Q, printing every answer); headless-dns RSS ${f(serverRss)} MB.`,
    '',
    '| mix | server | QPS (median) | CPU µs/query (median) | avg ms | p50 ms @10k | p99 ms @10k | p99.9 ms @10k | lost | rcodes | every run |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const { mix, results } of rows) {
    for (const [name, r] of Object.entries(results)) {
      lines.push(`| ${mix.title} | ${name} | ${f(r.qps)} | ${f(r.cpuMicros, 2)} | ${f(r.avgMs, 3)} | ${f(r.p50Ms, 3)} | ${f(r.p99Ms, 3)} | ${f(r.p999Ms, 3)} | ${r.lost} | ${Object.entries(r.rcodes).map(([k, v]) => `${k} ${v}`).join(', ')} | ${r.all.map((q) => f(q)).join(', ')} |`);
    }
  }
  lines.push('', '| mix | headless-dns / node ceiling | headless-dns / dnsmasq |', '|---|---|---|');
  for (const { mix, results } of rows) {
    const h = results['headless-dns'].qps;
    // A server that lost queries did not do the same work: no ratio against it.
    const ratio = (other) => (other.lost > 0 ? `— (${other.lost} queries lost)` : `${f(h / other.qps, 2)}×`);
    lines.push(`| ${mix.title} | ${ratio(results['node ceiling'])} | ${ratio(results.dnsmasq)} |`);
  }
  // What the query log costs. The three headless-dns servers run one after the
  // other in each repeat, so a repeat's ratio compares runs seconds apart; the
  // median of those ratios moves less with this machine's other load than a
  // ratio of medians. CPU per query is the cost itself: the QPS one core allows.
  lines.push(
    '',
    '| mix | --keep-queries: QPS / without (median of paired runs) | --keep-queries: QPS one core allows (CPU per query) / without | --log-queries: QPS / without (median of paired runs) | --log-queries: QPS one core allows (CPU per query) / without |',
    '|---|---|---|---|---|',
  );
  for (const { mix, results } of rows) {
    const base = runs.get(`${mix.id}|headless-dns`);
    const paired = (name) => {
      const ratios = runs.get(`${mix.id}|${name}`).map((r, i) => r.qps / base[i].qps).sort((a, b) => a - b);
      return `${f(ratios[Math.floor(ratios.length / 2)], 2)}× (${ratios.map((r) => f(r, 2)).join(', ')})`;
    };
    const perCore = (name) => `${f(results['headless-dns'].cpuMicros / results[name].cpuMicros, 2)}×`;
    lines.push(`| ${mix.title} | ${paired('headless-dns --keep-queries')} | ${perCore('headless-dns --keep-queries')} | ${paired('headless-dns --log-queries')} | ${perCore('headless-dns --log-queries')} |`);
  }
  lines.push(
    '',
    '| membership changes | value |',
    '|---|---|',
    `| readiness flips through the API while mix (a) runs | ${f(eventsPerSecond)} events/s |`,
    `| scale event: API call round trip (median) | ${f(scaleCall[Math.floor(scaleCall.length / 2)], 2)} ms |`,
    `| scale event: API call returned → next DNS answer shows it (median) | ${f(scaleToAnswer, 2)} ms |`,
  );
  if (args.includes('--scale')) {
    server.child.kill('SIGKILL');
    lines.push('', '| scale | pods | load, start to ready (median; runs) | RSS at ready (median) | QPS, pod A names | ÷ 3-pod QPS |', '|---|---|---|---|---|---|');
    const baseline = rows[0].results['headless-dns'].qps;
    for (const sets of [1000, 10000]) {
      const scaleDir = join(work, `scale-${sets}`);
      mkdirSync(scaleDir);
      writeFileSync(join(scaleDir, 'all.yaml'), Array.from({ length: sets }, (_, i) => statefulSetYaml(`s${i}`, 10)).join('---\n'));
      // Loading is measured as a user sees it (every core free), LOADS times, medians;
      // the last server is then pinned to core 0 for the queries, like the others.
      const loads = [];
      let big;
      for (let attempt = 0; attempt < LOADS; attempt++) {
        big?.child.kill('SIGKILL');
        big = await startHeadless(scaleDir, [], { pinToCore: false });
        loads.push({ seconds: big.loadSeconds, rss: rss(big.child.pid) });
        process.stderr.write(`scale ${sets * 10} pods: load ${big.loadSeconds.toFixed(1)} s, rss ${loads.at(-1).rss.toFixed(0)} MB\n`);
      }
      if (pin) execFileSync('taskset', ['-a', '-p', '-c', '0', String(big.child.pid)], { stdio: 'ignore' });
      const loadSeconds = loads.map((l) => l.seconds).sort((a, b) => a - b)[Math.floor(LOADS / 2)];
      const memory = loads.map((l) => l.rss).sort((a, b) => a - b)[Math.floor(LOADS / 2)];
      const names = Array.from({ length: 2000 }, (_, i) => `s${(i * 7919) % sets}-${i % 10}.s${(i * 7919) % sets}.default.svc.cluster.local A`);
      const file = join(work, `queries-scale-${sets}.txt`);
      writeFileSync(file, `${names.join('\n')}\n`);
      const atScale = [];
      for (let repeat = 0; repeat < REPEATS; repeat++) atScale.push(await dnsperf(big.port, file, SECONDS, false));
      const result = median(atScale);
      lines.push(`| ${sets} StatefulSets × 10 | ${sets * 10} | ${f(loadSeconds, 1)} s (${loads.map((l) => f(l.seconds, 1)).join(' / ')}) | ${f(memory)} MB | ${f(result.qps)} | ${f(result.qps / baseline, 2)}× |`);
      process.stderr.write(`scale ${sets * 10} pods: median load ${loadSeconds.toFixed(1)} s, rss ${memory.toFixed(0)} MB, ${result.qps.toFixed(0)} qps\n`);
      big.child.kill('SIGKILL');
    }
  }
  const text = lines.join('\n');
  console.log(text);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, `bench/results/dns-${date}.md`), `${text}\n`);
}

try {
  await main();
} finally {
  for (const child of children) child.kill('SIGKILL');
}
