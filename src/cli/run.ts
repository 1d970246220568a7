// `headless-dns run --sts kubia --ordinal 1 --port 8081 -- node app.js`: a local
// process takes a StatefulSet member's place. It registers the pod with its real
// address and port(s), starts the command with the pod's environment, marks the
// pod Ready once the port accepts connections (a readiness probe), holds a Lease
// while it lives, and takes the pod out of DNS when the command exits. A pod the
// StatefulSet no longer wants (scaled down, deleted) stops the command.

import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { hostname as machineName } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HeadlessDnsError } from '../errors.js';
import { LEASE_ANNOTATION, LOCAL_PROCESS_ANNOTATION } from '../controllers/leases.js';
import { ipFamily } from '../model/ip.js';
import { runningConditions, nowTimestamp } from '../model/pods.js';
import type { Container, Pod, StatefulSet } from '../model/types.js';

export const RUN_HELP = `Usage: headless-dns run --sts NAME --ordinal N --port [NAME=]PORT [options] -- COMMAND [ARGS...]

Runs COMMAND as member N of a StatefulSet in a running headless-dns: the pod
<sts>-<N> gets this process's address and port(s), so it appears in SRV and A
answers under the member's name once the port accepts connections, and leaves
them when COMMAND exits (or, if this process dies, when its lease runs out).

The command gets POD_NAME, POD_NAMESPACE, POD_IP, HOSTNAME, PORT, HEADLESS_DNS,
HEADLESS_DNS_ZONE, and (for node) NODE_OPTIONS=--import headless-dns/register, so
its own lookups of cluster names go to headless-dns.

Options:
      --sts NAME          the StatefulSet (required)
      --ordinal N         the member's ordinal (required)
      --port [NAME=]PORT  a port the command listens on; NAME is the container port
                          name it stands for (default: the template's first named
                          port, else "http"); repeatable; the first is probed
      --ip ADDR           the address the command listens on. Default 127.0.0.1.
  -n, --namespace NS      Default default.
      --api URL           the headless-dns API. Default $HEADLESS_DNS_API or
                          http://127.0.0.1:8053.
      --token T           bearer token for the API. Default $HEADLESS_DNS_TOKEN.
      --lease-seconds S   lease duration; renewed every S/3. Default 5.
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
    command,
  };
}

/** A small client for the few API calls `run` makes. */
class Api {
  constructor(private readonly base: string, private readonly token?: string) {}

  async call<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T | undefined> {
    const response = await fetch(`${this.base}${path}`, {
      method,
      headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': contentType } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status === 404 && method === 'GET') return undefined;
    const payload = (await response.json()) as T & { kind?: string; message?: string };
    if (!response.ok) throw new HeadlessDnsError(response.status === 404 ? 'NOT_FOUND' : 'INVALID_OBJECT', `${method} ${path}: ${payload.message ?? response.statusText}`);
    return payload;
  }
}

function probe(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
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

export async function run(args: readonly string[], io: { stdout: (line: string) => void; stderr: (line: string) => void }): Promise<number> {
  const options = parseRunArgs(args);
  if (!options) {
    io.stdout(RUN_HELP.trimEnd());
    return 0;
  }
  const api = new Api(options.api, options.token);
  const info = await api.call<{ dns: string; zone: string }>('GET', '/headless-dns/v1/info').catch((error: Error) => {
    throw new HeadlessDnsError('NOT_FOUND', `no headless-dns API at ${options.api}: ${error.message}`);
  });
  if (!info?.dns) throw new HeadlessDnsError('NOT_FOUND', `no headless-dns API at ${options.api}`);
  const ns = options.namespace;
  const set = await api.call<StatefulSet>('GET', `/apis/apps/v1/namespaces/${ns}/statefulsets/${options.sts}`);
  if (!set) throw new HeadlessDnsError('NOT_FOUND', `StatefulSet "${ns}/${options.sts}" not found`);
  const start = set.spec.ordinals?.start ?? 0;
  const end = start + (set.spec.replicas ?? 1);
  if (options.ordinal < start || options.ordinal >= end) {
    throw invalid(`ordinal ${options.ordinal} is outside ${options.sts}'s ordinals ${start}..${end - 1}; scale it first (kubectl scale sts ${options.sts} --replicas=${options.ordinal - start + 1})`);
  }
  const name = `${options.sts}-${options.ordinal}`;
  const podPath = `/api/v1/namespaces/${ns}/pods/${name}`;
  const leaseName = name;
  const identity = `${machineName()}/${process.pid}`;
  const annotations = { [LOCAL_PROCESS_ANNOTATION]: identity, [LEASE_ANNOTATION]: leaseName };
  const containers = withPorts(set.spec.template.spec.containers, options.ports);

  const existing = await api.call<Pod>('GET', podPath);
  const pod = existing
    ? await api.call<Pod>('PATCH', podPath, { metadata: { annotations }, spec: { containers } }, 'application/merge-patch+json')
    : await api.call<Pod>('POST', `/api/v1/namespaces/${ns}/pods`, {
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
  const uid = pod!.metadata.uid;
  const setReady = async (ready: boolean, terminated = false): Promise<void> => {
    const at = nowTimestamp();
    await api.call('PATCH', `${podPath}/status`, {
      status: {
        phase: 'Running',
        hostIP: options.ip,
        podIP: options.ip,
        podIPs: [{ ip: options.ip }],
        startTime: at,
        conditions: runningConditions(ready, at),
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready,
          started: !terminated,
          restartCount: 0,
          state: terminated ? { terminated: { exitCode: 0, finishedAt: at } } : { running: { startedAt: at } },
        })),
      },
    }, 'application/merge-patch+json');
  };
  await setReady(false);
  const renewLease = (): Promise<unknown> =>
    api.call('PATCH', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${leaseName}`, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: leaseName, namespace: ns },
      spec: { holderIdentity: identity, leaseDurationSeconds: options.leaseSeconds, renewTime: new Date().toISOString() },
    }, 'application/apply-patch+yaml');
  await renewLease();
  io.stderr(`${name}: registered at ${options.ip} (${options.ports.map((p) => p.port).join(', ')}); starting ${options.command.join(' ')}`);

  const register = fileURLToPath(new URL('../register.js', import.meta.url));
  const isNode = /(^|\/)node(\.exe)?$/.test(options.command[0]!) || options.command[0] === process.execPath;
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
    ...(isNode ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${JSON.stringify(register)}`.trim() } : {}),
  };
  const child: ChildProcess = spawn(options.command[0]!, options.command.slice(1), { stdio: 'inherit', env });
  if (child.pid) io.stderr(`${name}: command running as pid ${child.pid}`);
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);

  let ready = false;
  let stopping = false;
  const probeLoop = async (): Promise<void> => {
    while (!stopping) {
      const ok = await probe(options.ip, options.ports[0]!.port);
      if (stopping) break;
      if (ok !== ready) {
        ready = ok;
        await setReady(ok).catch((error: Error) => io.stderr(`${name}: ${error.message}`));
        io.stderr(`${name}: ${ok ? 'ready' : 'not ready'}`);
      }
      await new Promise((resolve) => setTimeout(resolve, ready ? 1000 : 100));
    }
  };
  const leaseLoop = async (): Promise<void> => {
    while (!stopping) {
      await new Promise((resolve) => setTimeout(resolve, (options.leaseSeconds * 1000) / 3));
      if (stopping) break;
      const current = await api.call<Pod>('GET', podPath).catch(() => undefined);
      if (!current || current.metadata.uid !== uid || current.metadata.deletionTimestamp) {
        io.stderr(`${name}: the pod was deleted or replaced; stopping the command`);
        child.kill('SIGTERM');
        break;
      }
      await renewLease().catch((error: Error) => io.stderr(`${name}: lease renewal failed: ${error.message}`));
    }
  };
  void probeLoop();
  void leaseLoop();

  const exitCode = await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      io.stderr(`${name}: cannot start ${options.command[0]}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 1) : 1)));
  });
  stopping = true;
  process.off('SIGINT', forward);
  process.off('SIGTERM', forward);
  const current = await api.call<Pod>('GET', podPath).catch(() => undefined);
  if (current?.metadata.uid === uid) await setReady(false, true).catch(() => undefined);
  await api.call('DELETE', `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${leaseName}`).catch(() => undefined);
  io.stderr(`${name}: command exited (${exitCode}); out of DNS`);
  return exitCode;
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal];
}
