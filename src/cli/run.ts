// `headless-dns run --sts kubia --ordinal 1 --port 8081 -- node app.js`: a local
// process takes a StatefulSet member's place, and `run` is its kubelet. It holds
// the member's Lease (a second `run` for the same ordinal is refused unless it
// says --take-over), checks the port is free, registers the pod with its real
// address and port(s), starts the command with the pod's environment under a
// watchdog (the command dies with `run`, even when `run` is SIGKILLed), marks the
// pod Ready once the port accepts connections (a readiness probe, given up after
// --ready-timeout), and takes the pod out of DNS when the command exits. A pod
// the StatefulSet no longer wants (scaled down, deleted, replaced) stops the
// command; an API that is only unreachable does not: the command keeps running
// and the pod is registered again when the API is back, as a kubelet keeps its
// containers while the API server is away.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { hostname as machineName } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { HeadlessDnsError } from '../errors.js';
import { LEASE_ANNOTATION, LOCAL_PROCESS_ANNOTATION } from '../controllers/leases.js';
import { probeOnce, signalGroup } from '../kubelet/probes.js';
import { podDnsEnv } from '../kubelet/env.js';
import { Watchdog } from '../kubelet/watchdog.js';
import { ipFamily } from '../model/ip.js';
import { runningConditions, nowTimestamp } from '../model/pods.js';
import type { Container, Lease, Namespace, Pod, Probe, Service, StatefulSet } from '../model/types.js';

const DEFAULT_READY_TIMEOUT_SECONDS = 60;
/** kubelet's default terminationGracePeriodSeconds, when the template names none. */
const DEFAULT_GRACE_SECONDS = 30;

export const RUN_HELP = `Usage: headless-dns run --sts NAME --ordinal N --port [NAME=]PORT [options] -- COMMAND [ARGS...]

Runs COMMAND as member N of a StatefulSet in a running headless-dns: the pod
<sts>-<N> gets this process's address and port(s), so it appears in SRV and A
answers under the member's name once the port accepts connections, and leaves
them when COMMAND exits (or, if this process dies, when its lease runs out).

The command gets POD_NAME, POD_NAMESPACE, POD_IP, HOSTNAME, PORT, HEADLESS_DNS,
HEADLESS_DNS_ZONE, and NODE_OPTIONS with --import headless-dns/register added to
what it had, so every Node process it starts (node, npm start, npx tsx, pnpm dev)
sends its lookups of cluster names to headless-dns.

The command runs in its own process group, stdin closed, and dies with this
process: SIGINT or SIGTERM is passed on to the group (a second one kills it);
if this process is killed outright, a watchdog sends the group SIGTERM, then
SIGKILL after the pod's terminationGracePeriodSeconds (default ${DEFAULT_GRACE_SECONDS}).

One run per member: a second run for an ordinal whose lease is held and renewed
is refused (exit 1) unless it passes --take-over. The port must be free before
the command starts. If the API goes away, the command keeps running and the pod
is registered again when the API is back; if the pod is deleted or replaced, or
the StatefulSet scaled below the ordinal, the command is stopped.

Options:
      --sts NAME          the StatefulSet (required)
      --ordinal N         the member's ordinal (required)
      --port [NAME=]PORT  a port the command listens on; NAME is the container port
                          name it stands for (default: the template's first named
                          port, else "http"); repeatable; the first is probed
      --ip ADDR           the address the command listens on. Default 127.0.0.1.
  -n, --namespace NS      the namespace of the StatefulSet and its pod. Default
                          default.
      --api URL           the headless-dns API. Default $HEADLESS_DNS_API or
                          http://127.0.0.1:8053.
      --token T           bearer token for the API (the one serve was given with
                          --token). Default $HEADLESS_DNS_TOKEN.
      --lease-seconds S   lease duration; renewed every S/3. Default 5.
      --ready-timeout S   seconds to wait for the first port to accept connections,
                          printing progress every second; then the command is
                          stopped and run exits 1. 0 waits forever. Default ${DEFAULT_READY_TIMEOUT_SECONDS}.
      --take-over         take the member over from the run holding its lease: that
                          run stops its command, this one starts once the port is
                          free.
  -h, --help              show this help.
`;

interface RunOptions {
  sts: string;
  ordinal: number;
  ports: { name?: string; port: number }[];
  ip: string;
  namespace: string;
  api: string;
  token?: string;
  leaseSeconds: number;
  readyTimeoutSeconds: number;
  takeOver: boolean;
  command: string[];
}

function invalid(message: string): HeadlessDnsError {
  return new HeadlessDnsError('INVALID_OPTION', message);
}

export function parseRunArgs(args: readonly string[]): RunOptions | undefined {
  const split = args.indexOf('--');
  const own = split >= 0 ? args.slice(0, split) : [...args];
  const command = split >= 0 ? args.slice(split + 1) : [];
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      strict: true,
      allowPositionals: false,
      options: {
        sts: { type: 'string' },
        ordinal: { type: 'string' },
        port: { type: 'string', multiple: true },
        ip: { type: 'string' },
        namespace: { type: 'string', short: 'n' },
        api: { type: 'string' },
        token: { type: 'string' },
        'lease-seconds': { type: 'string' },
        'ready-timeout': { type: 'string' },
        'take-over': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw invalid((error as Error).message.split('\n')[0] ?? 'invalid option');
  }
  const v = parsed.values;
  if (v.help) return undefined;
  if (!v.sts) throw invalid('run needs --sts NAME');
  if (!v.ordinal || !/^\d+$/.test(v.ordinal)) throw invalid('run needs --ordinal N (a whole number)');
  if (!v.port?.length) throw invalid('run needs --port [NAME=]PORT');
  const ports = v.port.map((text) => {
    const match = /^(?:([a-z0-9-]{1,15})=)?(\d{1,5})$/.exec(text);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) throw invalid(`--port must be [NAME=]PORT with a port from 1 to 65535, got "${text}"`);
    return { ...(match[1] ? { name: match[1] } : {}), port };
  });
  const ip = v.ip ?? '127.0.0.1';
  if (!ipFamily(ip)) throw invalid(`--ip must be an IP address, got "${ip}"`);
  const leaseSeconds = Number(v['lease-seconds'] ?? 5);
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1) throw invalid('--lease-seconds must be a whole number of seconds, at least 1');
  const readyTimeoutSeconds = Number(v['ready-timeout'] ?? DEFAULT_READY_TIMEOUT_SECONDS);
  if (!Number.isFinite(readyTimeoutSeconds) || readyTimeoutSeconds < 0) throw invalid('--ready-timeout must be a number of seconds, 0 or more');
  if (command.length === 0) throw invalid('run needs a command after --, e.g. -- node app.js');
  const token = v.token ?? process.env.HEADLESS_DNS_TOKEN;
  return {
    sts: v.sts,
    ordinal: Number(v.ordinal),
    ports,
    ip,
    namespace: v.namespace ?? 'default',
    api: (v.api ?? process.env.HEADLESS_DNS_API ?? 'http://127.0.0.1:8053').replace(/\/$/, ''),
    ...(token ? { token } : {}),
    leaseSeconds,
    readyTimeoutSeconds,
    takeOver: v['take-over'] ?? false,
    command,
  };
}

/** The API could not be reached at all (refused, reset, timed out, or a 5xx from something in between). */
class ApiUnreachableError extends Error {}

/** The API answered with an error status. */
class ApiStatusError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A small client for the few API calls `run` makes. */
class Api {
  constructor(readonly base: string, private readonly token?: string) {}

  private async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; payload: unknown }> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.base}${path}`, {
        method,
        headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': contentType } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        // A stopped server refuses at once; a hung one must not hang `run`'s loops.
        signal: AbortSignal.timeout(5000),
      });
      text = await response.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new ApiUnreachableError(cause?.code ?? cause?.message ?? (error as Error).message);
    }
    if (response.status >= 502 && response.status <= 504) throw new ApiUnreachableError(`HTTP ${response.status}`);
    let payload: unknown;
    try {
      payload = text ? JSON.parse(text) : undefined;
    } catch {
      payload = undefined;
    }
    return { status: response.status, payload };
  }

  /** GET; undefined for 404. */
  async get<T>(path: string): Promise<T | undefined> {
    const { status, payload } = await this.request('GET', path);
    if (status === 404) return undefined;
    if (status >= 400) throw this.failure('GET', path, status, payload);
    return payload as T;
  }

  async send<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const { status, payload } = await this.request(method, path, body, contentType);
    if (status >= 400) throw this.failure(method, path, status, payload);
    return payload as T;
  }

  private failure(method: string, path: string, status: number, payload: unknown): ApiStatusError {
    const message = (payload as { message?: string } | undefined)?.message ?? `HTTP ${status}`;
    return new ApiStatusError(status, `${method} ${path}: ${message}`);
  }
}

/** The readiness check: a kubelet tcpSocket probe of the first port (kubelet/probes.ts, as local members use). */
function probe(ip: string, port: number): Promise<boolean> {
  return probeOnce({ tcpSocket: { port }, timeoutSeconds: 1 } as Probe, { ip, ports: [], env: process.env, cwd: process.cwd() });
}

/** Whether ip:port can be bound now: undefined if so, else the error code (EADDRINUSE, EADDRNOTAVAIL, EACCES). */
function bindProblem(ip: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    // exclusive: a cluster worker's bind must not be shared with a primary's handle.
    server.listen({ host: ip, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

function hostPort(ip: string, port: number): string {
  return ipFamily(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Waits ms, or until `halt` is aborted. */
function sleep(ms: number, halt?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      halt?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    halt?.addEventListener('abort', done);
  });
}

function withPorts(containers: Container[], ports: RunOptions['ports']): Container[] {
  const out = structuredClone(containers);
  const firstNamed = out.flatMap((c) => c.ports ?? []).find((p) => p.name)?.name ?? 'http';
  for (const { name = firstNamed, port } of ports) {
    const owner = out.find((c) => c.ports?.some((p) => p.name === name)) ?? out[0]!;
    owner.ports = [...(owner.ports ?? []).filter((p) => p.name !== name), { name, containerPort: port, protocol: 'TCP' }];
  }
  return out;
}

/** The published ports as name → number (names filled in as withPorts fills them). */
function namedPorts(containers: Container[], ports: RunOptions['ports']): { name: string; port: number }[] {
  const all = containers.flatMap((c) => c.ports ?? []);
  return ports.map(({ port }) => ({ name: all.find((p) => p.containerPort === port)?.name ?? 'http', port }));
}

function leaseExpiry(lease: Lease): number {
  const renewed = Date.parse(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? '');
  const seconds = lease.spec?.leaseDurationSeconds ?? 0;
  return Number.isNaN(renewed) ? 0 : renewed + seconds * 1000;
}

/**
 * Whether a holder identity (`host/pid`, as `run` writes it) names a process of
 * this machine that no longer exists: a `run` killed outright leaves its lease
 * unexpired for up to --lease-seconds, and the next `run` need not wait for it.
 */
function holderGone(holder: string): boolean {
  const slash = holder.lastIndexOf('/');
  if (slash < 0 || holder.slice(0, slash) !== machineName()) return false;
  const pid = Number(holder.slice(slash + 1));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The holder of a lease that is still being renewed by a live process, if it is not `identity`. */
function otherLiveHolder(lease: Lease | undefined, identity: string): string | undefined {
  const holder = lease?.spec?.holderIdentity;
  if (!lease || !holder || holder === identity) return undefined;
  return leaseExpiry(lease) > Date.now() && !holderGone(holder) ? holder : undefined;
}

/** Warnings for the Services that select the pod but would publish a port other than the one this process listens on. */
export function targetPortWarnings(pod: Pod, services: readonly Service[], published: readonly { name: string; port: number }[]): string[] {
  const labels = pod.metadata.labels ?? {};
  const containerPorts = pod.spec.containers.flatMap((c) => c.ports ?? []);
  const listens = published.map((p) => `${p.name}=${p.port}`).join(', ');
  const warnings: string[] = [];
  for (const service of services) {
    const selector = service.spec.selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    if (!Object.entries(selector).every(([key, value]) => labels[key] === value)) continue;
    const serviceName = `${service.metadata.namespace ?? 'default'}/${service.metadata.name}`;
    for (const port of service.spec.ports ?? []) {
      if ((port.protocol ?? 'TCP') !== 'TCP') continue;
      const suggestion = published.find((p) => p.name === port.name) ?? published[0]!;
      const label = `port ${port.port}${port.name ? ` ("${port.name}")` : ''}`;
      const target = port.targetPort ?? port.port;
      if (typeof target === 'number' || /^\d+$/.test(target)) {
        const number = Number(target);
        if (published.some((p) => p.port === number)) continue;
        // The API server fills in a missing targetPort with the port, so both read the same here.
        const why = `targetPort ${number}${number === port.port ? ' (the default when none is given: the port itself)' : ''}`;
        warnings.push(
          `warning: Service ${serviceName} ${label} has ${why}: its endpoints and SRV records say ${number}, but ${pod.metadata.name} listens on ${listens}. ` +
            `To publish the port this process listens on, name the container port in the Service: targetPort: ${suggestion.name}`,
        );
      } else if (!containerPorts.some((p) => p.name === target)) {
        warnings.push(
          `warning: Service ${serviceName} ${label} has targetPort "${target}", which names no container port of ${pod.metadata.name} (it listens on ${listens}), so the Service publishes no endpoint port for it. ` +
            `Use targetPort: ${suggestion.name}, or --port ${target}=${suggestion.port}`,
        );
      }
    }
  }
  return warnings;
}

type Io = { stdout: (line: string) => void; stderr: (line: string) => void };

export async function run(args: readonly string[], io: Io): Promise<number> {
  const options = parseRunArgs(args);
  if (!options) {
    io.stdout(RUN_HELP.trimEnd());
    return 0;
  }
  try {
    return await supervise(options, io);
  } catch (error) {
    // What the API said while registering, as the CLI reports errors: CODE: message.
    if (error instanceof ApiStatusError) {
      throw new HeadlessDnsError(error.status === 404 ? 'NOT_FOUND' : error.status === 409 ? 'CONFLICT' : 'INVALID_OBJECT', error.message);
    }
    if (error instanceof ApiUnreachableError) throw new HeadlessDnsError('NOT_FOUND', `lost the headless-dns API at ${options.api} while registering (${error.message})`);
    throw error;
  }
}

async function supervise(options: RunOptions, io: Io): Promise<number> {
  const api = new Api(options.api, options.token);
  const info = await api.get<{ dns: string; zone: string }>('/headless-dns/v1/info').catch((error: Error) => {
    if (error instanceof ApiUnreachableError) {
      throw new HeadlessDnsError('NOT_FOUND', `no headless-dns API at ${options.api} (cannot connect: ${error.message}): is \`headless-dns serve\` running there? (--api URL, or $HEADLESS_DNS_API)`);
    }
    if (error instanceof ApiStatusError && error.status === 401) {
      throw invalid(
        options.token
          ? `the headless-dns API at ${options.api} rejected the token: pass the one serve was started with (--token T, or $HEADLESS_DNS_TOKEN)`
          : `the headless-dns API at ${options.api} needs a token: pass the one serve was started with (--token T, or $HEADLESS_DNS_TOKEN)`,
      );
    }
    throw new HeadlessDnsError('NOT_FOUND', `no headless-dns API at ${options.api}: ${error.message}`);
  });
  if (!info?.dns) throw new HeadlessDnsError('NOT_FOUND', `no headless-dns API at ${options.api}`);
  const ns = options.namespace;
  const name = `${options.sts}-${options.ordinal}`;
  const log = (message: string): void => io.stderr(`${name}: ${message}`);
  const podPath = `/api/v1/namespaces/${ns}/pods/${name}`;
  const leaseName = name;
  const leasesPath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
  const leasePath = `${leasesPath}/${leaseName}`;
  const identity = `${machineName()}/${process.pid}`;
  const annotations = { [LOCAL_PROCESS_ANNOTATION]: identity, [LEASE_ANNOTATION]: leaseName };
  const target = hostPort(options.ip, options.ports[0]!.port);

  /** The StatefulSet, checked to want this ordinal. */
  const wantedSet = async (): Promise<StatefulSet> => {
    const set = await api.get<StatefulSet>(`/apis/apps/v1/namespaces/${ns}/statefulsets/${options.sts}`);
    if (!set) throw new HeadlessDnsError('NOT_FOUND', `StatefulSet "${ns}/${options.sts}" not found`);
    const start = set.spec.ordinals?.start ?? 0;
    const end = start + (set.spec.replicas ?? 1);
    if (options.ordinal < start || options.ordinal >= end) {
      throw invalid(`ordinal ${options.ordinal} is outside ${options.sts}'s ordinals ${start}..${end - 1}; scale it first (kubectl scale sts ${options.sts} --replicas=${options.ordinal - start + 1})`);
    }
    return set;
  };

  const writeLease = (existing: Lease | undefined): Promise<Lease> => {
    const now = new Date().toISOString();
    const same = existing?.spec?.holderIdentity === identity;
    const body = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      // The resourceVersion makes the write conditional: two runs racing for one
      // lease cannot both win (the loser gets 409 Conflict, or AlreadyExists on create).
      metadata: { name: leaseName, namespace: ns, ...(existing?.metadata.resourceVersion ? { resourceVersion: existing.metadata.resourceVersion } : {}) },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: options.leaseSeconds,
        acquireTime: same ? (existing?.spec?.acquireTime ?? now) : now,
        renewTime: now,
        leaseTransitions: (existing?.spec?.leaseTransitions ?? 0) + (existing && !same ? 1 : 0),
      },
    };
    return existing ? api.send<Lease>('PUT', leasePath, body) : api.send<Lease>('POST', leasesPath, body);
  };

  // 1. The lease: refuse a second run for a member whose holder is alive.
  let set = await wantedSet();
  const graceSeconds = Number(set.spec.template.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS);
  const heldLease = await api.get<Lease>(leasePath);
  const previousHolder = otherLiveHolder(heldLease, identity);
  if (previousHolder && !options.takeOver) {
    const age = Math.max(0, Math.round((Date.now() - Date.parse(heldLease!.spec?.renewTime ?? '')) / 1000));
    throw new HeadlessDnsError(
      'ALREADY_EXISTS',
      `${name} is already run by ${previousHolder} (its lease ${ns}/${leaseName} was renewed ${age} s ago): stop that run first, or pass --take-over to hand the member over to this one`,
    );
  }
  // 2. The port: an app left running (or anything else) there would answer the
  // readiness probe for a command that then fails with EADDRINUSE.
  let busyPort = 0;
  const portProblems = async (): Promise<string[]> => {
    const problems: string[] = [];
    for (const { port } of options.ports) {
      const code = await bindProblem(options.ip, port);
      if (code === 'EADDRINUSE') busyPort = port;
      if (code) problems.push(`${hostPort(options.ip, port)} (${code})`);
    }
    return problems;
  };
  if (!previousHolder) {
    const problems = await portProblems();
    if (problems.length > 0) {
      throw new HeadlessDnsError(
        'LISTEN_FAILED',
        `cannot start ${name}: ${problems.join(', ')} ${busyPort ? 'is already in use' : 'cannot be bound'}; ` +
          (busyPort
            ? `something still listens there (an app left from an earlier run? find it with \`ss -ltnp 'sport = :${busyPort}'\` or \`lsof -i :${busyPort}\`): stop it, or give another --port`
            : `give an --ip this machine has and a --port you may bind`),
      );
    }
  }
  try {
    await writeLease(heldLease);
  } catch (error) {
    if (error instanceof ApiStatusError && error.status === 409) {
      const now = await api.get<Lease>(leasePath);
      throw new HeadlessDnsError('ALREADY_EXISTS', `${name} was just taken by ${now?.spec?.holderIdentity ?? 'another run'} (lease ${ns}/${leaseName}); stop that run first, or pass --take-over`);
    }
    throw error;
  }
  if (previousHolder) {
    // The old holder sees its lease taken on its next renewal (a third of its
    // lease) and stops its command; wait for the port it leaves.
    log(`took the lease over from ${previousHolder}; waiting for its command to stop`);
    const deadline = Date.now() + ((heldLease!.spec?.leaseDurationSeconds ?? options.leaseSeconds) + graceSeconds) * 1000 + 2000;
    let problems = await portProblems();
    let lastNote = Date.now();
    while (problems.length > 0 && Date.now() < deadline) {
      if (Date.now() - lastNote >= 1000) {
        log(`waiting for ${problems.join(', ')} to be free ...`);
        lastNote = Date.now();
      }
      await sleep(100);
      problems = await portProblems();
    }
    if (problems.length > 0) {
      await releaseLease(api, leasePath, identity);
      throw new HeadlessDnsError('LISTEN_FAILED', `cannot start ${name}: ${problems.join(', ')} still in use after the previous holder was asked to stop; stop what listens there, or give another --port`);
    }
  }

  // 3. The pod.
  let containers = withPorts(set.spec.template.spec.containers, options.ports);
  let uid = '';
  let namespaceUid: string | undefined;
  let dns = info.dns;
  const register = async (): Promise<Pod> => {
    namespaceUid = (await api.get<Namespace>(`/api/v1/namespaces/${ns}`))?.metadata.uid;
    containers = withPorts(set.spec.template.spec.containers, options.ports);
    const existing = await api.get<Pod>(podPath);
    const pod = existing
      ? await api.send<Pod>('PATCH', podPath, { metadata: { annotations }, spec: { containers } }, 'application/merge-patch+json')
      : await api.send<Pod>('POST', `/api/v1/namespaces/${ns}/pods`, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name,
            namespace: ns,
            labels: { ...(set.spec.template.metadata?.labels ?? {}), 'statefulset.kubernetes.io/pod-name': name, 'apps.kubernetes.io/pod-index': String(options.ordinal) },
            annotations: { ...(set.spec.template.metadata?.annotations ?? {}), ...annotations },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: options.sts, uid: set.metadata.uid, controller: true, blockOwnerDeletion: true }],
          },
          spec: { ...set.spec.template.spec, containers, hostname: name, ...(set.spec.serviceName ? { subdomain: set.spec.serviceName } : {}), nodeName: machineName() },
        });
    uid = pod.metadata.uid ?? '';
    return pod;
  };
  let ready = false;
  let terminated = false;
  const started = nowTimestamp();
  const pushStatus = async (): Promise<void> => {
    const at = nowTimestamp();
    await api.send('PATCH', `${podPath}/status`, {
      status: {
        phase: 'Running',
        hostIP: options.ip,
        podIP: options.ip,
        podIPs: [{ ip: options.ip }],
        startTime: started,
        conditions: runningConditions(ready, at),
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready,
          started: !terminated,
          restartCount: 0,
          state: terminated ? { terminated: { exitCode: 0, finishedAt: at } } : { running: { startedAt: started } },
        })),
      },
    }, 'application/merge-patch+json');
  };
  const pod = await register();
  await pushStatus();
  io.stderr(`${name}: registered at ${options.ip} (${options.ports.map((p) => p.port).join(', ')}); starting ${options.command.join(' ')}`);
  const published = namedPorts(containers, options.ports);
  const services = await api.get<{ items: Service[] }>(`/api/v1/namespaces/${ns}/services`).catch(() => undefined);
  for (const warning of targetPortWarnings(pod, services?.items ?? [], published)) log(warning);

  // 4. The command, with the pod's environment and the register preload in
  // NODE_OPTIONS: every Node descendant (npm start, npx tsx, pnpm dev) reads it.
  const registerUrl = pathToFileURL(fileURLToPath(new URL('../register.js', import.meta.url))).href;
  const inherited = process.env.NODE_OPTIONS ?? '';
  const nodeOptions = inherited.includes(registerUrl) ? inherited : `${inherited} --import ${JSON.stringify(registerUrl)}`.trim();
  const env = {
    ...process.env,
    POD_NAME: name,
    POD_NAMESPACE: ns,
    POD_IP: options.ip,
    HOSTNAME: name,
    PORT: String(options.ports[0]!.port),
    HEADLESS_DNS: info.dns,
    HEADLESS_DNS_ZONE: info.zone,
    HEADLESS_DNS_API: options.api,
    NODE_OPTIONS: nodeOptions,
    // Short names as in the pod: its search list for the preload and glibc (as local members get it).
    ...podDnsEnv(pod, info.zone),
  };
  // Process groups (and so the watchdog) are POSIX; on Windows the command is a plain child.
  const groups = process.platform !== 'win32';
  const child: ChildProcess = spawn(options.command[0]!, options.command.slice(1), {
    // Its own process group, so the whole tree (npm → sh → node) can be signalled
    // at once; a background group must not read the terminal (SIGTTIN would stop
    // it), hence stdin is closed.
    stdio: groups ? ['ignore', 'inherit', 'inherit'] : 'inherit',
    env,
    detached: groups,
  });
  // The same watchdog as local members have (kubelet/watchdog.ts): if run dies, even by SIGKILL, the group is stopped.
  let watchdog: Watchdog | undefined;
  if (groups && child.pid) {
    watchdog = new Watchdog();
    watchdog.watch(child.pid, graceSeconds * 1000);
  }
  if (child.pid) log(`command running as pid ${child.pid}${watchdog ? ' (process group; the watchdog stops it if run dies)' : ''}`);
  const signalCommand = (signal: NodeJS.Signals): void => signalGroup(child, signal);
  let killTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  /** Stops the command as kubelet stops a container: SIGTERM, SIGKILL after the grace period. */
  const stopCommand = (message: string): void => {
    if (stopping) return;
    stopping = true;
    log(message);
    signalCommand('SIGTERM');
    killTimer = setTimeout(() => signalCommand('SIGKILL'), graceSeconds * 1000);
    killTimer.unref();
  };
  let signals = 0;
  const forward = (signal: NodeJS.Signals): void => {
    signals += 1;
    stopping = true;
    signalCommand(signals > 1 ? 'SIGKILL' : signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);

  // 5. Readiness: probe the first port; until it first answers, say so every
  // second and give up after --ready-timeout.
  let statusStale = false;
  let timedOut = false;
  // Ends the loops' waits when the command has exited, so the last writes are the exit path's.
  const halt = new AbortController();
  const probeLoop = async (): Promise<void> => {
    const since = Date.now();
    let everReady = false;
    let lastNote = since;
    while (!stopping) {
      const ok = await probe(options.ip, options.ports[0]!.port);
      if (stopping) break;
      if (ok !== ready) {
        ready = ok;
        everReady ||= ok;
        log(ok ? `ready (${target} accepts connections)` : `not ready (${target} refuses connections)`);
        await pushStatus().catch((error: Error) => {
          statusStale = true;
          if (!(error instanceof ApiUnreachableError)) log(error.message);
        });
      }
      if (!everReady) {
        const waited = Date.now() - since;
        if (options.readyTimeoutSeconds > 0 && waited >= options.readyTimeoutSeconds * 1000) {
          timedOut = true;
          stopCommand(`${target} did not accept connections within ${options.readyTimeoutSeconds} s (--ready-timeout); stopping the command`);
          break;
        }
        if (Date.now() - lastNote >= 1000) {
          lastNote = Date.now();
          log(`waiting for ${target} ... ${Math.floor(waited / 1000)} s${options.readyTimeoutSeconds > 0 ? ` of ${options.readyTimeoutSeconds}` : ''}`);
        }
      }
      await sleep(ready ? 1000 : 100, halt.signal);
    }
  };

  // 6. Supervision: renew the lease; stop the command if the member was handed
  // over, deleted or replaced; keep it through an API outage and register again.
  let lostLease = false;
  let unreachable = false;
  const tick = async (): Promise<void> => {
    const [namespace, lease, current] = await Promise.all([
      api.get<Namespace>(`/api/v1/namespaces/${ns}`),
      api.get<Lease>(leasePath),
      api.get<Pod>(podPath),
    ]);
    const holder = otherLiveHolder(lease, identity);
    if (holder) {
      lostLease = true;
      stopCommand(`the lease ${ns}/${leaseName} was taken over by ${holder} (run --take-over); stopping the command`);
      return;
    }
    // A serve restarted without --state has a new store: every uid is new, and
    // a pod of a different uid there is no replacement of ours.
    const freshStore = namespace?.metadata.uid !== namespaceUid;
    if (unreachable || freshStore) {
      log(`the API is back${freshStore ? ' with a fresh store' : ''}; registering ${name} again`);
      try {
        set = await wantedSet();
      } catch (error) {
        stopCommand(`${(error as Error).message}; stopping the command`);
        return;
      }
      await writeLease(lease);
      await register();
      await pushStatus();
      unreachable = false;
      statusStale = false;
      const now = await api.get<{ dns: string }>('/headless-dns/v1/info');
      if (now?.dns && now.dns !== dns) {
        log(`warning: the DNS server moved from ${dns} to ${now.dns}; the command still sends its lookups to ${dns} (restart it, or give serve the same --dns-port)`);
        dns = now.dns;
      }
      log(`registered again at ${options.ip}${ready ? ', ready' : ''}`);
      return;
    }
    if (!current || current.metadata.uid !== uid || current.metadata.deletionTimestamp) {
      stopCommand('the pod was deleted or replaced; stopping the command');
      return;
    }
    await writeLease(lease);
    if (statusStale) {
      await pushStatus();
      statusStale = false;
    }
  };
  const leaseLoop = async (): Promise<void> => {
    const period = (options.leaseSeconds * 1000) / 3;
    let backoff = 250;
    let lastProblem = '';
    while (!stopping) {
      await sleep(unreachable ? backoff : period, halt.signal);
      if (stopping) break;
      try {
        await tick();
        backoff = 250;
        lastProblem = '';
      } catch (error) {
        if (error instanceof ApiUnreachableError) {
          if (!unreachable) {
            log(`the API at ${options.api} is unreachable (${error.message}); keeping ${name} running (pid ${child.pid}), will register it again when the API is back`);
          }
          unreachable = true;
          backoff = Math.min(backoff * 2, Math.max(1000, period));
        } else {
          // An answer we did not expect (a conflict with a concurrent write, a
          // changed token): say so (once) and try again on the next renewal.
          const problem = (error as Error).message;
          if (problem !== lastProblem) log(`${problem}; trying again`);
          lastProblem = problem;
        }
      }
    }
  };
  const loops = Promise.all([probeLoop(), leaseLoop()]);

  const exitCode = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      log(`cannot start ${options.command[0]}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 1) : 1)));
  });
  stopping = true;
  halt.abort();
  await loops;
  clearTimeout(killTimer);
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  // What the command left in its group goes with it, as a container's processes do.
  signalCommand('SIGTERM');
  watchdog?.close();
  terminated = true;
  ready = false;
  if (!lostLease) {
    // Only the holder may take the member out: after a hand-over the pod is the new run's.
    let reached = true;
    const unreached = (): undefined => {
      reached = false;
      return undefined;
    };
    const lease = await api.get<Lease>(leasePath).catch(unreached);
    const current = await api.get<Pod>(podPath).catch(unreached);
    if (reached && !otherLiveHolder(lease, identity) && current?.metadata.uid === uid && current.metadata.annotations?.[LOCAL_PROCESS_ANNOTATION] === identity) {
      await pushStatus().catch(unreached);
    }
    if (reached) await releaseLease(api, leasePath, identity);
    log(reached ? `command exited (${exitCode}); out of DNS` : `command exited (${exitCode}); the API is unreachable, so the pod leaves DNS when its lease runs out`);
  } else {
    log(`command exited (${exitCode}); the member is now run by the lease's new holder`);
  }
  return timedOut ? 1 : exitCode;
}

/** Deletes the lease if this run still holds it (conditional on its resourceVersion). */
async function releaseLease(api: Api, leasePath: string, identity: string): Promise<void> {
  const lease = await api.get<Lease>(leasePath).catch(() => undefined);
  if (!lease || lease.spec?.holderIdentity !== identity) return;
  await api.send('DELETE', leasePath, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { resourceVersion: lease.metadata.resourceVersion } }).catch(() => undefined);
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal];
}
