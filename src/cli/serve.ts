// `headless-dns serve`: load manifests, answer DNS, print one ready line.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type StartedCluster, startCluster } from '../cluster.js';
import { HeadlessDnsError } from '../errors.js';
import { UDP_MAX_SIZE_MAX, UDP_MAX_SIZE_MIN } from '../dns/wire.js';
import { defaultKubeconfigPath } from '../api/kubeconfig.js';
import { closestMatch, DEFAULTS, isLoopback } from '../options.js';
import type { PodMode } from '../records/build.js';
import { type ExecCommand, parseExecFlag } from '../kubelet/exec.js';
import { corefileSettings } from './corefile.js';

export const BUILTIN_EXAMPLE = fileURLToPath(new URL('../../examples/kubia', import.meta.url));

export const SERVE_HELP = `Usage: headless-dns serve [options]

Answers Kubernetes cluster DNS (CoreDNS's kubernetes plugin, kubeadm profile)
for the objects in the given manifests, and serves a Kubernetes-shaped API that
kubectl can drive (StatefulSets make pods, Services get EndpointSlices). Prints one line to stdout when it is
listening:  ready dns=HOST:PORT api=URL
Logs go to stderr. SIGINT or SIGTERM stops it.

The API is plain HTTP (api=http://...) on loopback without a token: that is the
default. With --tls, --token, a non-loopback --host or --exec it is HTTPS
(api=https://...): a CA and a serving certificate for every address it answers
on are made at start (kept in FILE.tls/ with --state FILE, and reused), and a
token is required (generated when --token is not given). kubectl sends a token
only over TLS; --kubeconfig hands it the CA and the token.

Options:
  -f, --filename PATH     manifest file, directory, http(s) URL, or - for stdin
                          (YAML or JSON, multi-document, kind: List); repeatable.
                          Default: the built-in kubia example (examples/kubia).
  -R, --recursive         read the subdirectories of -f directories too.
      --dns-port N        DNS port, UDP and TCP; 0 picks a free one. Default ${DEFAULTS.dnsPort}.
      --host ADDR         address to bind: an IP address, or localhost (127.0.0.1).
                          Default ${DEFAULTS.host} (loopback only).
      --zone Z            cluster domain. Default ${DEFAULTS.zone}.
      --ttl S             TTL of every record, 0-3600 seconds. Default ${DEFAULTS.ttl}.
      --pods MODE         pod records <a-b-c-d>.<ns>.pod.<zone>: disabled, insecure
                          or verified. Default ${DEFAULTS.pods}.
      --upstream HOST:PORT  forward names outside the zone (and reverse-zone misses)
                          to this server. Default: none, such queries get REFUSED.
      --namespaces NS[,NS...]  answer only for these namespaces (CoreDNS namespaces);
                          names in others are NXDOMAIN. Default: all.
      --endpoint-pod-names  name endpoints without a hostname by their pod, not their
                          dashed IP (CoreDNS endpoint_pod_names). Default off.
      --ignore-empty-service  a ClusterIP Service with no ready endpoint answers
                          NXDOMAIN (CoreDNS ignore empty_service). Default off.
      --reverse-zones Z[,Z...]  the reverse zones answered (PTR, and the SOA of their
                          negative answers), e.g. 0.10.in-addr.arpa. Default
                          in-addr.arpa,ip6.arpa (kubeadm).
      --fallthrough [Z,...]  NXDOMAIN in these zones (alone: every zone) goes to
                          --upstream instead (CoreDNS fallthrough). Default: the
                          reverse zones, as kubeadm's Corefile.
      --corefile FILE     take the settings of your cluster's CoreDNS from its
                          Corefile: the kubernetes plugin's zones, pods, ttl,
                          namespaces, endpoint_pod_names, ignore empty_service and
                          fallthrough, and forward as --upstream; what is not done
                          here is named in one warning line. Flags given win.
      --log-queries       print every DNS query on stderr as CoreDNS's log plugin
                          does, and keep the last 10,000 for GET /debug/queries
                          (?name= ?type= ?rcode= ?since= ?watch=true). Default
                          off: nothing is recorded.
      --fault JSON        a DNS fault for the whole run, as POST /debug/faults
                          takes it: {"name": "kubia-0.kubia.default.svc.cluster.local",
                          "type": "A", "rcode": "SERVFAIL"} or {"name":
                          "*.kubia.default.svc.cluster.local", "delay": 2000};
                          effects rcode, delay (jitter), drop (probability),
                          truncate (UDP), tcpClose; count, durationMs, transport
                          limit it. Repeatable. Replies change, never the registry.
      --keep-queries      keep the last 10,000 queries for GET /debug/queries
                          without printing them (cheaper than --log-queries).
      --api-port N        Kubernetes API port (kubectl --server http://HOST:N);
                          0 picks a free one. Default ${DEFAULTS.apiPort}.
      --kubeconfig FILE   merge a cluster, user and context named headless-dns
                          (server, CA, token) into FILE, created if missing (mode
                          0600), keeping its other entries; they are taken out
                          again on exit. "default": $KUBECONFIG's file (as
                          kubectl config picks it) or ~/.kube/config. Default: none.
      --kubeconfig-set-current  also make headless-dns FILE's current-context
                          (restored on exit). Default: only when FILE names none.
      --tls               serve the API over HTTPS (see above). Default: on with
                          --token or a non-loopback --host, else off.
      --token T           bearer token the API requires (kubectl --token, or the
                          kubeconfig): at least 8 printable characters, no
                          spaces. Turns on --tls. Required with a non-loopback
                          --host. Default: none (generated with --tls).
      --pod-cidr CIDR     range emulated pods get their IPs from. Default
                          ${DEFAULTS.podCidr} (loopback: on Linux a local process
                          can bind its pod's IP).
      --start-unready     new pods start unready; make them ready through their
                          status. Default: pods are Ready at once.
      --pod-grace-period S  seconds a deleted pod stays terminating when the delete
                          names no grace period. Default ${DEFAULTS.podGraceSeconds}.
      --nodes N           nodes pods are spread over, 1-100: headless-dns,
                          headless-dns-m02, ... (minikube's names). Default ${DEFAULTS.nodes}.
      --pod-eviction-seconds S  how long pods stay on a failed node before they
                          are evicted (the tolerationSeconds new pods get).
                          Default ${DEFAULTS.podEvictionSeconds}, as in Kubernetes.
      --udp-max-size N    largest UDP reply, ${UDP_MAX_SIZE_MIN}-${UDP_MAX_SIZE_MAX} bytes: larger EDNS buffer
                          sizes are lowered to it and bigger answers get TC, so
                          clients retry over TCP (CoreDNS bufsize). Default ${DEFAULTS.udpMaxSize}.
      --state FILE        keep the store in FILE (fsynced on every write), so a
                          restart serves the same names and pod IPs. Once FILE
                          holds a state it is the truth: -f (or the built-in
                          example) is applied only on the first start, so what
                          you deleted stays deleted. Default: none.
      --reapply           with --state: apply the -f manifests again over the
                          saved state, as kubectl apply would.
      --exec IMAGE=COMMAND  run containers of IMAGE (with or without a tag) as
                          local processes: COMMAND runs with /bin/sh -c, once per
                          pod, on the pod's own IP, with its environment, probes,
                          restarts and logs; repeatable. --exec IMAGE alone runs
                          the manifest's own command and args. Manifests can ask
                          too, with the pod template annotation
                          headless-dns.io/exec (first container) or
                          headless-dns.io/exec.<container>. Running commands turns
                          on HTTPS and a token for the API. Default: none, every
                          container is emulated.
      --mount-volumes     local members see each volume at its mountPath
                          (/var/data), in a user and mount namespace of their own
                          (Linux, where unprivileged user namespaces are allowed;
                          a missing path is made under an overlay of its parent).
                          Default: volumes are only named in HEADLESS_DNS_VOLUME_*.
      --no-pod-logs       do not print what local processes write (it is still
                          kept for kubectl logs). Default: printed to stderr,
                          each line prefixed with its pod's name.
      --max-tcp-connections N  concurrent DNS TCP connections; at the cap a new one
                          closes the least recently used idle one (or is refused
                          if none is idle). Default 1000, or fewer under a low
                          open-file limit (Linux: limit minus min(256, limit/2)).
                          A TCP query must arrive whole within ${DEFAULTS.tcpFrameTimeoutMs / 1000} s of its first
                          byte; idle connections close after ${DEFAULTS.tcpIdleTimeoutMs / 1000} s; a client that
                          does not read its replies stops being read.
  -h, --help              show this help.
      --version           print the version.
`;

export interface ServeIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Bytes as they are, for the query log's lines (each ends in its newline). */
  stderrBytes: (chunk: Uint8Array) => void;
}

export type ParsedServeArgs =
  | { help: true }
  | { help: false; version: true; options?: undefined }
  | { help: false; version?: false; options: Parameters<typeof startCluster>[0]; builtinExample: boolean; podLogs: boolean; logQueries: boolean; corefileNotes?: string[] };

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/**
 * parseArgs takes no value that starts with a dash: `--ttl -1` is "argument is
 * ambiguous", which says nothing of the range. No option here is a digit, so
 * such a value is a negative number: joined as `--ttl=-1`, it reaches the
 * range check, which says what would do.
 */
function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg === '--') return [...out, ...args.slice(i)];
    if (/^--[^=]+$/.test(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** `--fallthrough` takes its zones optionally (CoreDNS: `fallthrough [ZONES...]`); alone it means every zone. */
function fallthroughAlone(args: readonly string[]): string[] {
  return args.map((arg, i) => (arg === '--fallthrough' && (args[i + 1] === undefined || args[i + 1]!.startsWith('-')) ? '--fallthrough=*' : arg));
}

/** `--fault` takes a rule as JSON, as POST /debug/faults does. */
function faultOf(text: string): object {
  try {
    return JSON.parse(text) as object;
  } catch {
    throw new HeadlessDnsError('INVALID_OPTION', `--fault must be a JSON rule, e.g. --fault '{"name": "*.kubia.default.svc.cluster.local", "delay": 2000}', got ${text}`);
  }
}

const list = (text: string): string[] => text.split(',').map((part) => part.trim()).filter(Boolean);

/** parseArgs's errors, in our words: a misspelt option gets a "did you mean". */
function argumentError(error: Error, spec: OptionSpec): HeadlessDnsError {
  const first = error.message.split('\n')[0] ?? 'invalid option';
  const invalid = (message: string): HeadlessDnsError => new HeadlessDnsError('INVALID_OPTION', message);
  // parseArgs names an option as `-f, --filename`: the long form is what people type.
  const flagOf = (raw: string): string => raw.split(', ').pop() ?? raw;
  let match = /^Unknown option '([^']+)'/.exec(first);
  if (match) {
    const flag = match[1]!;
    const guess = flag.startsWith('--') ? closestMatch(flag.slice(2), Object.keys(spec)) : undefined;
    return invalid(`unknown option ${flag}${guess ? `; did you mean --${guess}?` : ' (try: headless-dns serve --help)'}`);
  }
  if ((match = /^Option '([^']+?)(?: <value>)?' argument (?:missing|is ambiguous)/.exec(first))) {
    const flag = flagOf(match[1]!);
    return invalid(`${flag} needs a value (one that starts with a dash goes as ${flag}=VALUE)`);
  }
  if ((match = /^Option '([^']+)' does not take an argument/.exec(first))) return invalid(`${flagOf(match[1]!)} takes no value`);
  if ((match = /^Unexpected argument '([^']*)'/.exec(first))) return invalid(`unexpected argument "${match[1]}": serve takes only options (manifests go after -f)`);
  return invalid(first);
}

export function parseServeArgs(args: readonly string[]): ParsedServeArgs {
  let parsed;
  let spec: OptionSpec = {};
  // Keeps the literal's own type (parseArgs types the values from it) and the spec, for messages.
  const known = <T extends OptionSpec>(options: T): T => (spec = options);
  try {
    parsed = parseArgs({
      args: fallthroughAlone(joinNegativeValues(args)),
      strict: true,
      allowPositionals: false,
      options: known({
        filename: { type: 'string', short: 'f', multiple: true },
        recursive: { type: 'boolean', short: 'R' },
        'dns-port': { type: 'string' },
        host: { type: 'string' },
        zone: { type: 'string' },
        ttl: { type: 'string' },
        pods: { type: 'string' },
        upstream: { type: 'string' },
        namespaces: { type: 'string' },
        'endpoint-pod-names': { type: 'boolean' },
        'ignore-empty-service': { type: 'boolean' },
        'reverse-zones': { type: 'string' },
        fallthrough: { type: 'string' },
        corefile: { type: 'string' },
        'log-queries': { type: 'boolean' },
        'keep-queries': { type: 'boolean' },
        fault: { type: 'string', multiple: true },
        'api-port': { type: 'string' },
        kubeconfig: { type: 'string' },
        'kubeconfig-set-current': { type: 'boolean' },
        tls: { type: 'boolean' },
        token: { type: 'string' },
        'pod-cidr': { type: 'string' },
        'start-unready': { type: 'boolean' },
        'pod-grace-period': { type: 'string' },
        nodes: { type: 'string' },
        'pod-eviction-seconds': { type: 'string' },
        state: { type: 'string' },
        reapply: { type: 'boolean' },
        exec: { type: 'string', multiple: true },
        'no-pod-logs': { type: 'boolean' },
        'mount-volumes': { type: 'boolean' },
        'max-tcp-connections': { type: 'string' },
        'udp-max-size': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      }),
    });
  } catch (error) {
    throw argumentError(error as Error, spec);
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  if (v.version) return { help: false, version: true };
  // Negative numbers pass, for resolveOptions to refuse with the option's range.
  const integer = (text: string | undefined, flag: string): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^-?\d+$/.test(text)) throw new HeadlessDnsError('INVALID_OPTION', `${flag} must be a whole number, got "${text}"`);
    return Number(text);
  };
  const dnsPort = integer(v['dns-port'], '--dns-port');
  const ttl = integer(v.ttl, '--ttl');
  const apiPort = integer(v['api-port'], '--api-port');
  const grace = integer(v['pod-grace-period'], '--pod-grace-period');
  const nodes = integer(v.nodes, '--nodes');
  const podEvictionSeconds = integer(v['pod-eviction-seconds'], '--pod-eviction-seconds');
  const maxTcpConnections = integer(v['max-tcp-connections'], '--max-tcp-connections');
  const udpMaxSize = integer(v['udp-max-size'], '--udp-max-size');
  if (v['kubeconfig-set-current'] && v.kubeconfig === undefined) throw new HeadlessDnsError('INVALID_OPTION', '--kubeconfig-set-current needs --kubeconfig FILE');
  const exec: Record<string, ExecCommand> = {};
  for (const flag of v.exec ?? []) {
    const [image, command] = parseExecFlag(flag);
    if (Object.hasOwn(exec, image)) throw new HeadlessDnsError('INVALID_OPTION', `--exec ${image} is given twice`);
    exec[image] = command;
  }
  // kubectl (client-go) sends a bearer token only over TLS: a token, or an API open to the network, means HTTPS.
  const tls = Boolean(v.tls) || v.token !== undefined || (v.host !== undefined && !isLoopback(v.host));
  // A Corefile's settings first; flags given on the command line win over them.
  let corefile: ReturnType<typeof corefileSettings> | undefined;
  if (v.corefile !== undefined) {
    let text: string;
    try {
      text = readFileSync(v.corefile, 'utf8');
    } catch (error) {
      throw new HeadlessDnsError('INVALID_OPTION', `--corefile ${v.corefile}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    corefile = corefileSettings(text, v.corefile);
  }
  return {
    help: false,
    builtinExample: !v.filename?.length,
    podLogs: !v['no-pod-logs'],
    logQueries: v['log-queries'] === true,
    ...(corefile
      ? {
          corefileNotes: [
            `corefile: ${v.corefile}: ${corefile.applied.join('; ')}`,
            ...(corefile.notApplied.length ? [`corefile: not applied here: ${corefile.notApplied.join(', ')}`] : []),
          ],
        }
      : {}),
    options: {
      ...(corefile?.options ?? {}),
      ...(v.exec?.length ? { exec } : {}),
      ...(v['mount-volumes'] ? { mountVolumes: true } : {}),
      ...(v['keep-queries'] ? { queryLog: true } : {}),
      ...(v.fault?.length ? { faults: v.fault.map(faultOf) } : {}),
      manifests: v.filename?.length ? v.filename : [BUILTIN_EXAMPLE],
      ...(v.recursive ? { recursive: true } : {}),
      ...(dnsPort !== undefined ? { dnsPort } : {}),
      ...(v.host !== undefined ? { host: v.host } : {}),
      ...(v.zone !== undefined ? { zone: v.zone } : {}),
      ...(ttl !== undefined ? { ttl } : {}),
      ...(v.pods !== undefined ? { pods: v.pods as PodMode } : {}),
      ...(v.upstream !== undefined ? { upstream: v.upstream } : {}),
      ...(v.namespaces !== undefined ? { namespaces: list(v.namespaces) } : {}),
      ...(v['endpoint-pod-names'] ? { endpointPodNames: true } : {}),
      ...(v['ignore-empty-service'] ? { ignoreEmptyService: true } : {}),
      ...(v['reverse-zones'] !== undefined ? { reverseZones: list(v['reverse-zones']) } : {}),
      ...(v.fallthrough !== undefined ? { fallthrough: v.fallthrough === '*' ? (true as const) : list(v.fallthrough) } : {}),
      ...(apiPort !== undefined ? { apiPort } : {}),
      ...(v.kubeconfig !== undefined ? { kubeconfig: v.kubeconfig === 'default' ? defaultKubeconfigPath() : v.kubeconfig } : {}),
      ...(v['kubeconfig-set-current'] ? { kubeconfigSetCurrent: true } : {}),
      ...(tls ? { tls: true } : {}),
      ...(v.token !== undefined ? { token: v.token } : {}),
      ...(v['pod-cidr'] !== undefined ? { podCidr: v['pod-cidr'] } : {}),
      ...(v['start-unready'] ? { startUnready: true } : {}),
      ...(grace !== undefined ? { podGraceSeconds: grace } : {}),
      ...(nodes !== undefined ? { nodes } : {}),
      ...(podEvictionSeconds !== undefined ? { podEvictionSeconds } : {}),
      ...(v.state !== undefined ? { state: v.state } : {}),
      ...(v.reapply ? { reapply: true } : {}),
      ...(maxTcpConnections !== undefined ? { maxTcpConnections } : {}),
      ...(udpMaxSize !== undefined ? { udpMaxSize } : {}),
    },
  };
}

/**
 * A port that is taken (or below 1024, without root) says which flag picks
 * another; an address this machine does not have, which flag set it.
 */
function withFlagHint(error: unknown): unknown {
  if (!(error instanceof HeadlessDnsError) || error.code !== 'LISTEN_FAILED') return error;
  // cluster.ts says "for the API"; the DNS transport names the port with /udp or /tcp.
  const flag = error.message.includes(' for the API: ') ? '--api-port' : '--dns-port';
  if (/EADDRINUSE|EACCES/.test(error.message)) return new HeadlessDnsError('LISTEN_FAILED', `${error.message}; pick another with ${flag} N, or ${flag} 0 for a free one`);
  if (/EADDRNOTAVAIL/.test(error.message)) return new HeadlessDnsError('LISTEN_FAILED', `${error.message}; --host must be an address of this machine`);
  return error;
}

/** Runs `serve` until a signal; resolves with the exit code. */
export async function serve(args: readonly string[], io: ServeIo): Promise<number> {
  const parsed = parseServeArgs(args);
  if (parsed.help) {
    io.stdout(SERVE_HELP.trimEnd());
    return 0;
  }
  if (parsed.version) {
    io.stdout(packageVersion());
    return 0;
  }
  // Members' output on our stderr, prefixed by pod name, as `docker compose up` does.
  const podOutput = parsed.podLogs ? (pod: string, _container: string, line: string): void => io.stderr(`${pod} | ${line}`) : undefined;
  const cluster: StartedCluster = await startCluster({ ...parsed.options, ...(podOutput ? { podOutput } : {}), ...(parsed.logQueries ? { queryLogOutput: { write: io.stderrBytes } } : {}), log: io.stderr }, { dnsPort: DEFAULTS.dnsPort, apiPort: DEFAULTS.apiPort, names: 'cli' }).catch(
    (error: unknown) => {
      throw withFlagHint(error);
    },
  );
  for (const note of parsed.corefileNotes ?? []) io.stderr(note);
  if (parsed.builtinExample) io.stderr(`no -f given: serving the built-in kubia example (${BUILTIN_EXAMPLE})`);
  const counts = new Map<string, number>();
  for (const object of cluster.store.all()) counts.set(object.kind, (counts.get(object.kind) ?? 0) + 1);
  io.stderr(`loaded ${[...counts].map(([kind, n]) => `${n} ${kind}`).join(', ')}; zone ${cluster.options.zone} ttl ${cluster.options.ttl} pods ${cluster.options.pods}`);
  if (cluster.api.url.startsWith('http:')) io.stderr(`api: plain HTTP on loopback, no token (--tls, or --token T, serves HTTPS)`);
  // Listening for the signals before the ready line: a SIGTERM sent the moment
  // it appears must still shut down cleanly (and take our kubeconfig entries out).
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      io.stderr(`${signal}: shutting down`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  // The API's code (fastify) loads on its first request, which would hold DNS
  // answers up ~150 ms; serve loads it now, before anyone is told to ask.
  await cluster.loadApi();
  io.stdout(`ready dns=${cluster.dnsServer} api=${cluster.api.url}`);
  await stopped;
  await cluster.close();
  return 0;
}
