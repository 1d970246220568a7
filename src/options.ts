// Options for a cluster, validated once and frozen. Defaults are the kubeadm
// profile (semantics §1): zone cluster.local, TTL 30, pods insecure, reverse
// zones owned; and loopback only.

import { HeadlessDnsError } from './errors.js';
import { ipFamily } from './model/ip.js';
import { editDistance } from './model/manifest.js';
import { dns1123SubdomainProblem } from './model/names.js';
import type { PodMode } from './records/build.js';
import type { Upstream } from './dns/forward.js';
import { defaultMaxTcpConnections, TCP_DEFAULTS } from './dns/transport.js';
import { UDP_MAX_SIZE_DEFAULT, UDP_MAX_SIZE_MAX, UDP_MAX_SIZE_MIN } from './dns/wire.js';
import { type Cidr, parseCidr } from './store/allocator.js';
import type { Clock } from './model/clock.js';
import { type ExecMap, validateExecMap } from './kubelet/exec.js';

export interface ClusterOptions {
  /** Manifests to apply at start: files, directories, http(s) URLs, or `-` for stdin (as kubectl -f). Default: none. */
  manifests?: readonly string[];
  /** Read the subdirectories of manifest directories too (kubectl -R). Default false. */
  recursive?: boolean;
  /** Address the DNS server and the API bind: an IP address, or `localhost` (127.0.0.1). Default `127.0.0.1`. */
  host?: string;
  /** DNS port, UDP and TCP alike; 0 picks a free one. Default 1053 (the CLI), 0 (startCluster). */
  dnsPort?: number;
  /** Cluster domain. Default `cluster.local`. */
  zone?: string;
  /** TTL of every record, 0–3600 seconds. Default 30 (kubeadm; CoreDNS's own default is 5). */
  ttl?: number;
  /** Pod records `a-b-c-d.<ns>.pod.<zone>`. Default `insecure` (kubeadm). */
  pods?: PodMode;
  /** Where out-of-zone queries (and reverse misses) go; without it they are REFUSED. */
  upstream?: string | Upstream;
  /** CoreDNS `namespaces`: only these namespaces are answered for; the others are NXDOMAIN. Default: all. */
  namespaces?: readonly string[];
  /** CoreDNS `endpoint_pod_names`: endpoints without a hostname are named by their pod (`web-7c9f-x2k.svc...`), not their dashed IP. Default false. */
  endpointPodNames?: boolean;
  /** CoreDNS `ignore empty_service`: a ClusterIP Service with no ready endpoint answers NXDOMAIN. Default false. */
  ignoreEmptyService?: boolean;
  /** The reverse zones answered (PTR, and the SOA of their negative answers), e.g. `0.10.in-addr.arpa`. Default `in-addr.arpa`, `ip6.arpa` (kubeadm). */
  reverseZones?: readonly string[];
  /**
   * CoreDNS `fallthrough [ZONES...]`: an NXDOMAIN in these zones goes to `upstream`
   * instead; `true` for every zone. Default: the reverse zones (kubeadm's
   * `fallthrough in-addr.arpa ip6.arpa`).
   */
  fallthrough?: readonly string[] | true;
  /** Ranges cluster IPs are allocated from. Default 10.96.0.0/16 and fd00:10:96::/112. */
  serviceCidrs?: readonly string[];
  /**
   * Serve the Kubernetes API. `false` is for tests that only need DNS: no API
   * socket is bound and its code is never loaded, and the cluster has no `api`
   * (so `apiPort`, `token`, `tls` and `kubeconfig` cannot be given). Default true.
   */
  api?: boolean;
  /** Kubernetes API port; 0 picks a free one. Default 8053 (the CLI), 0 (startCluster). */
  apiPort?: number;
  /**
   * Merge a cluster, user and context named `headless-dns` into this kubeconfig
   * (created if missing, mode 0600), keeping its other entries; they are taken
   * out again on close. Default: none.
   */
  kubeconfig?: string;
  /** Make the `headless-dns` context the kubeconfig's current-context (it is anyway when the file names none). Default false. */
  kubeconfigSetCurrent?: boolean;
  /**
   * Bearer token the API requires: at least 8 printable ASCII characters, no
   * spaces. Needed when the API is bound to a non-loopback address. With `tls`
   * and no token, one is generated (`api.token`). Default: none.
   */
  token?: string;
  /**
   * Serve the API over HTTPS, with a CA and serving certificate made at start
   * (kept in `<state>.tls/` with `state`); `api.ca` is the CA's PEM. kubectl
   * sends a token only over TLS. Default false here; `serve` turns it on with
   * --tls, --token or a non-loopback --host.
   */
  tls?: boolean;
  /** Where emulated pods get their IPs. Default 127.10.0.0/16: loopback, so local processes can bind a pod's IP on Linux. */
  podCidr?: string;
  /** New pods start unready, so readiness can be driven by hand. Default false (Ready at once). */
  startUnready?: boolean;
  /** Grace period of pod deletions that do not name one, in seconds. Default 0. */
  podGraceSeconds?: number;
  /**
   * Nodes, 1–100: `headless-dns`, then `headless-dns-m02`, `headless-dns-m03`, ...
   * (minikube's names); pods are spread over them. Default 1.
   */
  nodes?: number;
  /**
   * How long a pod stays on a failed node before it is evicted, in seconds: the
   * `tolerationSeconds` of the not-ready and unreachable tolerations every new pod
   * gets at admission (kube-apiserver's --default-not-ready-toleration-seconds and
   * --default-unreachable-toleration-seconds). Default 300, as in Kubernetes.
   */
  podEvictionSeconds?: number;
  /**
   * The clock everything that waits asks (evictions, ...): a `ManualClock` from
   * `headless-dns/testing` lets a test move time instead of sleeping. Default: the system clock.
   */
  clock?: Clock;
  /** Idle TCP connections are closed after this many milliseconds. Default 10000. */
  tcpIdleTimeoutMs?: number;
  /**
   * A TCP query must arrive whole within this many milliseconds of its first
   * byte (a slow drip cannot hold a connection; CoreDNS's read timeout). Default 2000.
   */
  tcpFrameTimeoutMs?: number;
  /**
   * Concurrent DNS TCP connections. At the cap a new connection closes the
   * least recently used idle one, or is refused if none is idle. Default 1000,
   * or fewer where the open-file limit is low: on Linux it keeps min(256,
   * limit / 2) descriptors for the API, UDP and files (a 1024 limit gives 768).
   */
  maxTcpConnections?: number;
  /**
   * Unsent reply bytes one TCP connection may have queued; past it the
   * connection is closed. Reading a connection pauses from 64 KiB queued until
   * its replies drain, so only late (upstream) replies get this far. Default 1 MiB.
   */
  tcpMaxQueuedBytes?: number;
  /**
   * The largest UDP reply, 512–4096 bytes: a query advertising a larger EDNS
   * buffer is answered as if it advertised this (CoreDNS's bufsize plugin), and
   * what does not fit is truncated (TC) for the client to ask again over TCP.
   * Default 1232 (DNS Flag Day 2020).
   */
  udpMaxSize?: number;
  /**
   * Keep the store in this file, so a restart serves the same names and pod IPs.
   * When the file holds a state, it is the truth: `manifests` are applied only
   * on the first start (an empty or new file), unless `reapply` is set.
   * Default: nothing is written.
   */
  state?: string;
  /** With `state`: apply `manifests` over a restored state too, as `kubectl apply` would. Default false. */
  reapply?: boolean;
  /**
   * Containers that run as local processes: image (with or without a tag) →
   * a shell command (`'node app.js'`), an argv array, or `true` for the
   * manifest's own `command`/`args`. Giving `exec` (even `{}`) also runs what
   * manifests ask for with the `headless-dns.io/exec` annotation, as manifests
   * carrying that annotation at start do by themselves. A cluster that runs
   * commands serves its API only over HTTPS with a token (generated unless
   * `token` is given). Default: none; every container is emulated.
   */
  exec?: ExecMap;
  /**
   * Keep a query log: every DNS query (client, transport, name as asked, type,
   * rcode, answers, truncation, latency) in a ring of the last 10,000, for
   * `cluster.queries()` and `GET /debug/queries`. Default false: nothing is
   * recorded and the answer path does no extra work.
   */
  queryLog?: boolean;
  /**
   * Each query as a CoreDNS `log` plugin line (implies `queryLog`); serve
   * --log-queries prints them on stderr. Called in batches (every 50 ms; close()
   * gives the last), lines joined by newlines (no newline after the last).
   */
  queryLogLines?: (line: string) => void;
  /**
   * Each query as a CoreDNS `log` plugin line, as bytes (implies `queryLog`):
   * a stream such as process.stderr or fs.createWriteStream() is written a
   * chunk of whole lines, each ending in a newline, every 50 ms (close()
   * writes the last). Unlike `queryLogLines`, no string is made of a batch
   * (and encoded again by the stream); serve --log-queries writes stderr this way.
   */
  queryLogOutput?: { write(chunk: Uint8Array): unknown };
  /**
   * Local members see each volume at its `mountPath` (/var/data), in a user and
   * mount namespace of their own (Linux, where unprivileged user namespaces are
   * allowed); elsewhere they find it through HEADLESS_DNS_VOLUME_<NAME> as
   * always. Default false.
   */
  mountVolumes?: boolean;
  /** DNS fault rules in force from the start (serve --fault), as `cluster.faults.add` takes them. Default: none. */
  faults?: readonly object[];
  /** Each line a local process writes (stdout and stderr), e.g. to print it. Default: kept for `kubectl logs` only. */
  podOutput?: (pod: string, container: string, line: string) => void;
  /** Where log lines go. Default: nowhere (the CLI logs to stderr). */
  log?: (message: string) => void;
}

export interface ResolvedOptions {
  readonly manifests: readonly string[];
  readonly recursive: boolean;
  readonly host: string;
  readonly dnsPort: number;
  /** Lower case, with the trailing dot. */
  readonly zone: string;
  readonly ttl: number;
  readonly pods: PodMode;
  readonly upstream?: Upstream;
  readonly namespaces?: readonly string[];
  readonly endpointPodNames: boolean;
  readonly ignoreEmptyService: boolean;
  /** With trailing dots. */
  readonly reverseZones?: readonly string[];
  /** With trailing dots; [] for every zone. */
  readonly fallthrough?: readonly string[];
  readonly serviceCidrs?: readonly string[];
  readonly api: boolean;
  readonly apiPort: number;
  readonly kubeconfig?: string;
  readonly kubeconfigSetCurrent: boolean;
  readonly token?: string;
  readonly tls: boolean;
  readonly podCidr: Cidr;
  readonly startUnready: boolean;
  readonly podGraceSeconds: number;
  readonly nodes: number;
  readonly podEvictionSeconds: number;
  readonly clock?: Clock;
  readonly tcpIdleTimeoutMs: number;
  readonly tcpFrameTimeoutMs: number;
  readonly maxTcpConnections: number;
  readonly tcpMaxQueuedBytes: number;
  readonly udpMaxSize: number;
  readonly state?: string;
  readonly reapply: boolean;
  readonly exec: ExecMap;
  /** `exec` was given: annotations are honoured whatever the manifests hold. */
  readonly execGiven: boolean;
  readonly podOutput?: (pod: string, container: string, line: string) => void;
  readonly queryLog: boolean;
  readonly mountVolumes: boolean;
  readonly faults: readonly object[];
  readonly queryLogLines?: (line: string) => void;
  readonly queryLogOutput?: { write(chunk: Uint8Array): unknown };
  readonly log: (message: string) => void;
}

export const DEFAULTS = {
  host: '127.0.0.1',
  dnsPort: 1053,
  apiPort: 8053,
  zone: 'cluster.local',
  ttl: 30,
  pods: 'insecure' as PodMode,
  tcpIdleTimeoutMs: 10_000,
  tcpFrameTimeoutMs: TCP_DEFAULTS.frameTimeoutMs,
  tcpMaxQueuedBytes: TCP_DEFAULTS.maxQueuedBytes,
  udpMaxSize: UDP_MAX_SIZE_DEFAULT,
  podCidr: '127.10.0.0/16',
  podGraceSeconds: 0,
  nodes: 1,
  podEvictionSeconds: 300,
} as const;

const POD_MODES: readonly PodMode[] = ['disabled', 'insecure', 'verified'];

/**
 * How messages name an option: as `serve` spells it (`--dns-port`), or as a
 * startCluster caller wrote it (`dnsPort`). Each is told about what it typed.
 */
export type OptionNames = 'cli' | 'library';

/** Every startCluster option, with the `serve` flag that sets it, where there is one. */
const SERVE_FLAGS = {
  manifests: '-f',
  recursive: '-R',
  host: '--host',
  dnsPort: '--dns-port',
  zone: '--zone',
  ttl: '--ttl',
  pods: '--pods',
  upstream: '--upstream',
  namespaces: '--namespaces',
  endpointPodNames: '--endpoint-pod-names',
  ignoreEmptyService: '--ignore-empty-service',
  reverseZones: '--reverse-zones',
  fallthrough: '--fallthrough',
  serviceCidrs: undefined,
  api: undefined,
  apiPort: '--api-port',
  kubeconfig: '--kubeconfig',
  kubeconfigSetCurrent: '--kubeconfig-set-current',
  token: '--token',
  tls: '--tls',
  podCidr: '--pod-cidr',
  startUnready: '--start-unready',
  podGraceSeconds: '--pod-grace-period',
  nodes: '--nodes',
  podEvictionSeconds: '--pod-eviction-seconds',
  clock: undefined,
  tcpIdleTimeoutMs: undefined,
  tcpFrameTimeoutMs: undefined,
  maxTcpConnections: '--max-tcp-connections',
  tcpMaxQueuedBytes: undefined,
  udpMaxSize: '--udp-max-size',
  state: '--state',
  reapply: '--reapply',
  exec: '--exec',
  podOutput: undefined,
  queryLog: undefined,
  mountVolumes: '--mount-volumes',
  faults: '--fault',
  queryLogLines: '--log-queries',
  queryLogOutput: '--log-queries',
  log: undefined,
};
// Typed through the variable: an option added to ClusterOptions but not above
// fails to compile, instead of being refused at run time as unknown.
const FLAGS: Readonly<Record<keyof ClusterOptions, string | undefined>> = SERVE_FLAGS;

/**
 * The candidate `word` was probably meant to be, for "did you mean": the
 * closest by edits, ignoring case, dashes and underscores (so `dns-port` finds
 * `dnsPort`), at most one edit away for short words and two for longer ones;
 * else the one candidate `word` begins, if it is at least 3 characters.
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const plain = (text: string): string => text.toLowerCase().replace(/[-_]/g, '');
  const wanted = plain(word);
  let best: { candidate: string; distance: number } | undefined;
  const extending: string[] = [];
  for (const candidate of candidates) {
    const other = plain(candidate);
    if (wanted.length >= 3 && other.startsWith(wanted)) extending.push(candidate);
    const distance = editDistance(wanted, other);
    if (distance > (other.length <= 4 ? 1 : 2)) continue;
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  return best?.candidate ?? (extending.length === 1 ? extending[0] : undefined);
}

/** A misspelt key would otherwise be ignored, and its default silently used. */
function checkOptionKeys(input: object): void {
  for (const key of Object.keys(input)) {
    if (Object.hasOwn(FLAGS, key)) continue;
    const guess = closestMatch(key, Object.keys(FLAGS));
    throw invalid(`unknown option "${key}"${guess ? `; did you mean "${guess}"?` : ''}`);
  }
}

function invalid(message: string): HeadlessDnsError {
  return new HeadlessDnsError('INVALID_OPTION', message);
}

function port(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw invalid(`${what} must be a port number from 0 to 65535, got ${String(value)}`);
  }
  return value;
}

/** `name`: the option as the caller spelled it, for messages. */
export function parseUpstream(value: string | Upstream, name = 'upstream'): Upstream {
  if (typeof value !== 'string') {
    if (!ipFamily(value.host)) throw invalid(`${name} host ${value.host} is not an IP address`);
    return { host: value.host, port: port(value.port, `${name} port`) };
  }
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:]+):(\d+)$/.exec(value) ?? /^([^:]+|\[[^\]]+\])$/.exec(value);
  const host = match?.[1]?.replace(/^\[|\]$/g, '');
  if (!host || !ipFamily(host)) throw invalid(`${name} must be HOST:PORT with an IP address, e.g. 127.0.0.53:53, got "${value}"`);
  const portText = match?.[2];
  return { host, port: portText === undefined ? 53 : port(Number(portText), `${name} port`) };
}

export function isLoopback(host: string): boolean {
  return host === '::1' || host.startsWith('127.') || host.toLowerCase() === 'localhost';
}

/**
 * `defaults.names`: how messages name options, `library` (the keys, as
 * startCluster callers write them) unless the caller is the CLI.
 */
export function resolveOptions(
  input: ClusterOptions = {},
  defaults: { dnsPort: number; apiPort: number; names?: OptionNames } = { dnsPort: 0, apiPort: 0 },
): ResolvedOptions {
  if (typeof input !== 'object' || input === null) throw invalid(`options must be an object, got ${input === null ? 'null' : typeof input}`);
  checkOptionKeys(input);
  const names = defaults.names ?? 'library';
  const nameOf = (key: keyof ClusterOptions): string => (names === 'cli' ? (FLAGS[key] ?? key) : key);
  const given = input.host ?? DEFAULTS.host;
  // What people type; binding it through the OS could pick ::1, or both, so it means our default.
  const host = typeof given === 'string' && given.toLowerCase() === 'localhost' ? DEFAULTS.host : given;
  if (typeof host !== 'string' || !ipFamily(host)) throw invalid(`${nameOf('host')} must be an IP address or localhost, got "${String(host)}"`);
  const zoneText = (input.zone ?? DEFAULTS.zone).toLowerCase().replace(/\.$/, '');
  const zoneProblem = dns1123SubdomainProblem(zoneText);
  if (zoneProblem) throw invalid(`${nameOf('zone')} "${input.zone}" is not a domain name: ${zoneProblem}`);
  const ttl = input.ttl ?? DEFAULTS.ttl;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > 3600) throw invalid(`${nameOf('ttl')} must be a whole number of seconds from 0 to 3600, got ${String(ttl)}`);
  const pods = input.pods ?? DEFAULTS.pods;
  if (!POD_MODES.includes(pods)) throw invalid(`${nameOf('pods')} must be one of ${POD_MODES.join(', ')}, got "${String(pods)}"`);
  const idle = input.tcpIdleTimeoutMs ?? DEFAULTS.tcpIdleTimeoutMs;
  if (!Number.isInteger(idle) || idle <= 0) throw invalid(`${nameOf('tcpIdleTimeoutMs')} must be a positive whole number, got ${String(idle)}`);
  const frameTimeout = input.tcpFrameTimeoutMs ?? DEFAULTS.tcpFrameTimeoutMs;
  if (!Number.isInteger(frameTimeout) || frameTimeout <= 0) throw invalid(`${nameOf('tcpFrameTimeoutMs')} must be a positive whole number, got ${String(frameTimeout)}`);
  const maxTcp = input.maxTcpConnections ?? defaultMaxTcpConnections();
  if (!Number.isInteger(maxTcp) || maxTcp <= 0) throw invalid(`${nameOf('maxTcpConnections')} must be a positive whole number, got ${String(maxTcp)}`);
  const maxQueued = input.tcpMaxQueuedBytes ?? DEFAULTS.tcpMaxQueuedBytes;
  if (!Number.isInteger(maxQueued) || maxQueued < 65536) throw invalid(`${nameOf('tcpMaxQueuedBytes')} must be a whole number of bytes from 65536 up, got ${String(maxQueued)}`);
  const api = input.api ?? true;
  if (typeof api !== 'boolean') throw invalid(`${nameOf('api')} must be true or false, got ${String(api)}`);
  if (!api) {
    // Each of these only means something for an API; taking one silently would hide a mistake.
    const apiOnly = (['apiPort', 'token', 'tls', 'kubeconfig', 'kubeconfigSetCurrent'] as const).filter((key) => input[key] !== undefined);
    if (apiOnly.length) throw invalid(`api: false serves no API, so ${apiOnly.join(', ')} cannot be given`);
  }
  if (input.token !== undefined && !/^[\x21-\x7e]{8,}$/.test(input.token)) throw invalid(`${nameOf('token')} must be at least 8 printable characters without spaces`);
  // Only the API needs guarding off loopback: DNS answers are what any cluster member may ask.
  if (api && !isLoopback(host) && !input.token) {
    throw invalid(`${nameOf('host')} ${host} is not a loopback address: the API would be open to the network, so it needs ${names === 'cli' ? '--token' : 'a token'}`);
  }
  const podCidr = parseCidr(input.podCidr ?? DEFAULTS.podCidr);
  if (!podCidr) throw invalid(`${nameOf('podCidr')} must be an address range like 127.10.0.0/16, got "${input.podCidr}"`);
  const udpMaxSize = input.udpMaxSize ?? DEFAULTS.udpMaxSize;
  if (!Number.isInteger(udpMaxSize) || udpMaxSize < UDP_MAX_SIZE_MIN || udpMaxSize > UDP_MAX_SIZE_MAX) {
    throw invalid(`${nameOf('udpMaxSize')} must be a whole number of bytes from ${UDP_MAX_SIZE_MIN} to ${UDP_MAX_SIZE_MAX}, got ${String(udpMaxSize)}`);
  }
  const grace = input.podGraceSeconds ?? DEFAULTS.podGraceSeconds;
  if (!Number.isInteger(grace) || grace < 0) throw invalid(`${nameOf('podGraceSeconds')} must be a whole number of seconds from 0 up, got ${String(grace)}`);
  const nodes = input.nodes ?? DEFAULTS.nodes;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 100) throw invalid(`${nameOf('nodes')} must be a whole number from 1 to 100, got ${String(nodes)}`);
  const eviction = input.podEvictionSeconds ?? DEFAULTS.podEvictionSeconds;
  if (!Number.isInteger(eviction) || eviction < 0) throw invalid(`${nameOf('podEvictionSeconds')} must be a whole number of seconds from 0 up, got ${String(eviction)}`);
  const clock = input.clock;
  if (clock !== undefined && (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function' || typeof clock.setTimeout !== 'function')) {
    throw invalid(`${nameOf('clock')} must have now() and setTimeout(fn, ms), as ManualClock does`);
  }
  const zoneList = (value: unknown, key: 'reverseZones' | 'fallthrough'): string[] => {
    if (!Array.isArray(value) || !value.every((z) => typeof z === 'string')) throw invalid(`${nameOf(key)} must be a list of zones, e.g. 0.10.in-addr.arpa`);
    return value.map((z: string) => {
      const zone = z.toLowerCase().replace(/\.$/, '');
      const problem = dns1123SubdomainProblem(zone);
      if (problem) throw invalid(`${nameOf(key)}: "${z}" is not a domain name: ${problem}`);
      return `${zone}.`;
    });
  };
  const reverseZones = input.reverseZones === undefined ? undefined : zoneList(input.reverseZones, 'reverseZones');
  if (reverseZones?.some((z) => !z.endsWith('.in-addr.arpa.') && z !== 'in-addr.arpa.' && !z.endsWith('.ip6.arpa.') && z !== 'ip6.arpa.')) {
    throw invalid(`${nameOf('reverseZones')} must be zones under in-addr.arpa or ip6.arpa, got ${reverseZones.join(', ')}`);
  }
  const fallthrough = input.fallthrough === undefined ? undefined : input.fallthrough === true ? [] : zoneList(input.fallthrough, 'fallthrough');
  const namespaces = input.namespaces;
  if (namespaces !== undefined && (!Array.isArray(namespaces) || !namespaces.every((n) => typeof n === 'string' && n !== ''))) throw invalid(`${nameOf('namespaces')} must be a list of namespace names`);
  for (const key of ['endpointPodNames', 'ignoreEmptyService'] as const) {
    if (input[key] !== undefined && typeof input[key] !== 'boolean') throw invalid(`${nameOf(key)} must be true or false, got ${String(input[key])}`);
  }
  const exec = input.exec === undefined ? Object.freeze({}) : validateExecMap(input.exec, nameOf('exec'));
  if (input.queryLog !== undefined && typeof input.queryLog !== 'boolean') throw invalid(`${nameOf('queryLog')} must be true or false, got ${String(input.queryLog)}`);
  if (input.queryLogLines !== undefined && typeof input.queryLogLines !== 'function') throw invalid(`${nameOf('queryLogLines')} must be a function (line)`);
  const output = input.queryLogOutput as { write?: unknown } | null | undefined;
  if (output !== undefined && (typeof output !== 'object' || output === null || typeof output.write !== 'function')) throw invalid(`${nameOf('queryLogOutput')} must be a stream (an object with write(chunk))`);
  if (input.podOutput !== undefined && typeof input.podOutput !== 'function') throw invalid(`${nameOf('podOutput')} must be a function (pod, container, line)`);
  return Object.freeze({
    manifests: Object.freeze([...(input.manifests ?? [])]),
    recursive: input.recursive ?? false,
    host,
    dnsPort: port(input.dnsPort ?? defaults.dnsPort, nameOf('dnsPort')),
    api,
    apiPort: port(input.apiPort ?? defaults.apiPort, nameOf('apiPort')),
    ...(input.kubeconfig ? { kubeconfig: input.kubeconfig } : {}),
    kubeconfigSetCurrent: input.kubeconfigSetCurrent ?? false,
    ...(input.token ? { token: input.token } : {}),
    tls: input.tls ?? false,
    zone: `${zoneText}.`,
    ttl,
    pods,
    ...(input.upstream !== undefined ? { upstream: parseUpstream(input.upstream, nameOf('upstream')) } : {}),
    ...(namespaces?.length ? { namespaces: Object.freeze([...namespaces]) } : {}),
    endpointPodNames: input.endpointPodNames === true,
    ignoreEmptyService: input.ignoreEmptyService === true,
    ...(reverseZones ? { reverseZones: Object.freeze(reverseZones) } : {}),
    ...(fallthrough ? { fallthrough: Object.freeze(fallthrough) } : {}),
    ...(input.serviceCidrs ? { serviceCidrs: Object.freeze([...input.serviceCidrs]) } : {}),
    podCidr,
    startUnready: input.startUnready ?? false,
    podGraceSeconds: grace,
    nodes,
    podEvictionSeconds: eviction,
    ...(clock ? { clock } : {}),
    tcpIdleTimeoutMs: idle,
    tcpFrameTimeoutMs: frameTimeout,
    maxTcpConnections: maxTcp,
    tcpMaxQueuedBytes: maxQueued,
    udpMaxSize,
    ...(input.state ? { state: input.state } : {}),
    reapply: input.reapply === true,
    exec,
    execGiven: input.exec !== undefined,
    ...(input.podOutput ? { podOutput: input.podOutput } : {}),
    queryLog: input.queryLog === true || input.queryLogLines !== undefined || input.queryLogOutput !== undefined,
    mountVolumes: input.mountVolumes === true,
    faults: Object.freeze([...(input.faults ?? [])]),
    ...(input.queryLogLines ? { queryLogLines: input.queryLogLines } : {}),
    ...(input.queryLogOutput ? { queryLogOutput: input.queryLogOutput } : {}),
    log: input.log ?? (() => undefined),
  });
}
