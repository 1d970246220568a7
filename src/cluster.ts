// The one module that wires store, controllers, record index, prepared answers,
// the DNS server and the API together. The CLI and the public API are thin
// layers over it; nothing else starts a server.

import { promises as dnsPromises } from 'node:dns';
import { existsSync, readFileSync } from 'node:fs';
import { Metrics } from './api/metrics.js';
import { ControllerManager } from './controllers/manager.js';
import { RESTARTED_AT_ANNOTATION, rfc3339Local, rolloutStatus } from './controllers/statefulset.js';
import { healthyConditions, podAdmission, timestampAt, unknownConditions } from './controllers/nodelifecycle.js';
import { systemClock } from './model/clock.js';
import { PreparedAnswers } from './dns/prepared.js';
import { nowTimestamp } from './model/pods.js';
import { resolve as resolvePath } from 'node:path';
import { Responder } from './dns/responder.js';
import { DnsTransport } from './dns/transport.js';
import { HeadlessDnsError } from './errors.js';
import { type LoadedManifests, loadManifestSources, namingManifestNamespaces } from './model/manifest.js';
import { isPodReady, isTerminating, controllerOf } from './model/pods.js';
import type { Kind, KubeObject, Node, Pod, StatefulSet } from './model/types.js';
import { parseLabelSelector } from './api/selectors.js';
import { type ClusterRoute, lookupVia, routeNodeDns, searchingResolver } from './node-dns/patch.js';
import { podSearchList } from './node-dns/search.js';
import { registryAddresses } from './node-dns/registry.js';
import { isSubdomain } from './records/names.js';
import type { StoreEventType } from './store/store.js';
import { type ClusterOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { RecordIndex } from './records/index.js';
import type { StateJournal } from './store/journal.js';
import { ObjectStore } from './store/store.js';
import { packageFile } from './package-root.js';
import { asksForExec, stampExecDirs } from './kubelet/exec.js';
import type { ProcessRuntime } from './kubelet/runtime.js';
import type { QueryRecord } from './dns/querylog.js';
import { type FaultInput, type FaultRule, Faults } from './dns/faults.js';

/**
 * dns.lookup's shape, taking a `namespace` option too: names are then tried as a
 * pod in that namespace tries them (search list, ndots:5), short names included.
 */
export type ClusterLookup = typeof import('node:dns').lookup &
  ((hostname: string, options: import('node:dns').LookupOptions & { namespace?: string }, callback: (error: NodeJS.ErrnoException | null, address: string | import('node:dns').LookupAddress[], family?: number) => void) => void);

export interface Address {
  host: string;
  port: number;
}

/**
 * A cluster started with `api: false`: DNS, the registry and the fixture's
 * methods, no Kubernetes API. StartedCluster is this and the API.
 */
export interface DnsCluster {
  /** Where DNS answers, UDP and TCP. */
  readonly dns: Address;
  /** `host:port`, or `[host]:port` for IPv6: what `Resolver#setServers` and `dig @host -p port` take. */
  readonly dnsServer: string;
  readonly options: ResolvedOptions;
  readonly store: ObjectStore;
  readonly index: RecordIndex;
  /** Documents of kinds headless-dns does not model, skipped while loading manifests. */
  readonly skipped: LoadedManifests['skipped'];
  /** Creates or updates objects, all or nothing; controllers have run when it returns. */
  apply(objects: readonly KubeObject[]): KubeObject[];
  get<K extends Kind>(kind: K, name: string, namespace?: string): Extract<KubeObject, { kind: K }> | undefined;
  list<K extends Kind>(kind: K, options?: { namespace?: string; labelSelector?: string }): Extract<KubeObject, { kind: K }>[];
  /** Sets a StatefulSet's replicas (namespace default: `default`); members come and go before it returns. */
  scale(statefulSet: string, replicas: number, namespace?: string): StatefulSet;
  /**
   * Changes a StatefulSet's pod template with a strategic merge patch of the
   * template, as `kubectl patch` / `kubectl set image` do: for example
   * `updateTemplate('kubia', { spec: { containers: [{ name: 'kubia', image: 'luksa/kubia-pet-peers' }] } })`.
   * The set rolls (RollingUpdate: highest ordinal first, each member out of DNS
   * and back with a new IP); emulated, instantly Ready members have all rolled
   * when it resolves. With start-unready members the rollout holds at the
   * first new member until `setReady` releases it; `waitForRollout` awaits the end.
   */
  updateTemplate(statefulSet: string, patch: Record<string, unknown>, namespace?: string): Promise<StatefulSet>;
  /**
   * `kubectl rollout restart`: sets the template annotation
   * `kubectl.kubernetes.io/restartedAt` to now (RFC 3339, local time), which
   * makes a new revision and rolls every member.
   */
  restart(statefulSet: string, namespace?: string): StatefulSet;
  /**
   * Resolves once a StatefulSet's rollout is complete as `kubectl rollout
   * status` judges it (spec observed, every member Ready, the members from the
   * partition up updated); for OnDelete, once every member is at the update
   * revision. Rejects after timeoutMs (default 5000) with kubectl's last status line.
   */
  waitForRollout(statefulSet: string, options?: { namespace?: string; timeoutMs?: number }): Promise<void>;
  /** Makes a pod Ready or not, as its readiness probe would. */
  setReady(pod: string, ready: boolean, namespace?: string): Pod;
  /** Deletes a pod; a StatefulSet brings a member back under the same name with a new IP. */
  deletePod(pod: string, options?: { namespace?: string; gracePeriodSeconds?: number }): Pod;
  /** Every store event (ADDED, MODIFIED, DELETED), in order; returns the unsubscribe function. */
  onEvent(listener: (event: ClusterEvent) => void): () => void;
  /** Resolves once the predicate holds (checked now and after every change); rejects after timeoutMs (default 5000). */
  waitFor(predicate: (cluster: this) => boolean | Promise<boolean>, options?: { timeoutMs?: number }): Promise<void>;
  /** Resolves once a StatefulSet has this many Ready members. */
  waitForReadyMembers(statefulSet: string, count: number, options?: { namespace?: string; timeoutMs?: number }): Promise<void>;
  /** Ready, not terminating members of a StatefulSet, by name. */
  readyMembers(statefulSet: string, namespace?: string): string[];
  /**
   * Back to what startCluster() loaded: every object but the default and
   * kube-system namespaces goes (Pods last, so no controller brings one back),
   * nodes come back healthy and schedulable, then the manifests given at start
   * are applied again (fresh pods, new IPs). `{ to: 'empty' }` skips the last step.
   */
  reset(options?: { to?: 'manifests' | 'empty' }): void;
  /**
   * What a container running as a local process wrote (stdout and stderr, in
   * order), oldest line first: its current instance, or with `previous` the one
   * before its last restart. Throws NOT_FOUND for a pod, container or previous
   * instance that is not there, as `kubectl logs` fails.
   */
  logs(pod: string, options?: { namespace?: string; container?: string; previous?: boolean }): string[];
  /**
   * The queries this cluster answered, oldest first (with `queryLog: true`):
   * filtered by `name` (a substring, any case), `type`, `rcode`, `since` (ms).
   * A test asserts what the code under test asked.
   */
  queries(filter?: { name?: string; type?: string; rcode?: string; since?: number }): QueryRecord[];
  /** Forgets the recorded queries. */
  clearQueries(): void;
  /**
   * DNS faults for tests: `const f = cluster.faults.add({ name: 'kubia-0.kubia.default.svc.cluster.local', type: 'A', rcode: 'SERVFAIL' }); ...; f.remove()`.
   * Rules change replies only, never the registry; reset() and close() remove them all.
   */
  readonly faults: {
    add(rule: FaultInput): FaultRule & { remove(): void };
    list(): FaultRule[];
    /** Switches a rule off (it stays listed, matching nothing) or on again; false when there is no such rule. */
    setEnabled(id: string, enabled: boolean): boolean;
    remove(id: string): boolean;
    clear(): void;
  };
  /**
   * Fails a node as when its kubelet stops posting status (`Unknown`, the
   * default) or reports not ready (`False`): its pods leave DNS at once, are
   * evicted after `podEvictionSeconds` (300) and stay Terminating until
   * force-deleted (`deletePod(name, { gracePeriodSeconds: 0 })`). Returns the Node.
   */
  failNode(node: string, options?: { status?: 'Unknown' | 'False' }): Node;
  /** The node's kubelet reports Ready again: taints go, pods not yet evicted are Ready again, terminating ones finish. */
  restoreNode(node: string): Node;
  /** A node:dns promises Resolver that asks this cluster. */
  /**
   * A Resolver pointed at this cluster's DNS. With `namespace`, names are tried
   * as a pod in that namespace tries them (its search list, ndots:5), so
   * `resolveSrv('kubia')` from `default` finds kubia.default.svc.cluster.local.
   */
  resolver(options?: { timeout?: number; tries?: number; namespace?: string }): dnsPromises.Resolver;
  /**
   * A drop-in `lookup` for net, http and undici: cluster names from the registry,
   * every other name from the OS. `http.get(url, { lookup: cluster.lookup })`.
   */
  readonly lookup: ClusterLookup;
  /**
   * Routes this cluster's zone through the registry for the whole process
   * (dns.lookup, dns.resolve*, and so global fetch) until the returned function
   * is called or the cluster closes.
   */
  routeProcessDns(): () => void;
  /** Stops both servers and closes every connection and watch; safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StartedCluster extends DnsCluster {
  /**
   * Where the Kubernetes API listens, and its URL (`http://127.0.0.1:8053`, or
   * `https://` with `tls`). With `tls`, `ca` is the PEM of the CA its
   * certificate chains to, and `token` the bearer token it requires (given, or
   * generated when none was).
   */
  readonly api: Address & { url: string; ca?: string; token?: string };
  /** Loads the API's code now rather than on its first request (which would wait ~150 ms for it). */
  loadApi(): Promise<void>;
  /** The kubeconfig our context was merged into (`kubeconfig` option), until close. */
  readonly kubeconfig?: { path: string; context: string };
}

export interface ClusterEvent {
  type: StoreEventType;
  object: KubeObject;
}

export function formatHostPort(address: Address): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

function nsAddresses(host: string): string[] {
  // A wildcard bind has no address to advertise; loopback is where we answer.
  if (host === '0.0.0.0') return ['127.0.0.1'];
  if (host === '::') return ['::1'];
  return [host];
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * A kubeconfig that points kubectl at this cluster (`kubectl --kubeconfig FILE get pods`),
 * written as JSON, which is YAML too: no YAML library is loaded for it.
 */
export function kubeconfigFor(url: string, token?: string, ca?: string): string {
  return `${JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'headless-dns', cluster: { server: url, ...(ca ? { 'certificate-authority-data': Buffer.from(ca).toString('base64') } : {}) } }],
    users: [{ name: 'headless-dns', user: token ? { token } : {} }],
    contexts: [{ name: 'headless-dns', context: { cluster: 'headless-dns', user: 'headless-dns', namespace: 'default' } }],
    'current-context': 'headless-dns',
    preferences: {},
  }, null, 2)}\n`;
}

/**
 * Starts a cluster: DNS, the registry, and the Kubernetes API unless `api: false`.
 * The typed result follows the literal `api: false` (a DnsCluster, no `api`);
 * the general signature comes last so `ReturnType<typeof startCluster>` stays StartedCluster.
 */
export function startCluster(input: ClusterOptions & { api: false }, defaults?: Parameters<typeof resolveOptions>[1]): Promise<DnsCluster>;
export function startCluster(input?: ClusterOptions, defaults?: Parameters<typeof resolveOptions>[1]): Promise<StartedCluster>;
export async function startCluster(input: ClusterOptions = {}, defaults?: Parameters<typeof resolveOptions>[1]): Promise<DnsCluster | StartedCluster> {
  const options = resolveOptions(input, defaults);
  const read = options.manifests.length > 0 ? await loadManifestSources(options.manifests, { recursive: options.recursive }) : { objects: [], skipped: [] };
  const loaded = { ...read, objects: stampExecDirs(read.objects) };
  // Running commands is opted into (an image mapped with `exec`, or manifests asking by annotation at start),
  // and then only the holder of the API's token may start one: the API goes HTTPS with a token.
  const runsCommands = options.execGiven || Object.keys(options.exec).length > 0 || asksForExec(loaded.objects.map((m) => m.object));
  for (const skip of loaded.skipped) options.log(`${skip.source}: skipped ${skip.kind} "${skip.name}": headless-dns does not model this kind`);

  // DefaultTolerationSeconds admission: every pod created gets the not-ready/unreachable tolerations.
  const store = new ObjectStore({ ...(options.serviceCidrs ? { serviceCidrs: options.serviceCidrs } : {}), admit: podAdmission(options.podEvictionSeconds) });
  let journal: StateJournal | undefined;
  let restored = false;
  if (options.state) {
    // Loaded only with a state file (it brings zlib): most test clusters have none.
    const { StateJournal } = await import('./store/journal.js');
    let opened;
    try {
      opened = StateJournal.open(options.state);
    } catch (error) {
      if (error instanceof HeadlessDnsError) throw error;
      throw new HeadlessDnsError('STATE_UNREADABLE', `${options.state}: ${(error as Error).message}`);
    }
    journal = opened.journal;
    for (const note of opened.notes) options.log(`state: ${note}`);
    if (opened.state) {
      store.restore(opened.state.objects, opened.state.resourceVersion);
      restored = true;
    }
    options.log(opened.state ? `state: restored ${opened.state.objects.length} objects from ${options.state}` : `state: keeping the store in ${options.state}`);
  }
  const index = new RecordIndex(store, {
    zone: options.zone,
    ttl: options.ttl,
    pods: options.pods,
    reverse: true,
    nsAddresses: nsAddresses(options.host),
    ...(options.namespaces ? { namespaces: options.namespaces } : {}),
    endpointPodNames: options.endpointPodNames,
    ignoreEmptyService: options.ignoreEmptyService,
    ...(options.reverseZones ? { reverseZones: options.reverseZones } : {}),
    ...(options.fallthrough ? { fallthrough: options.fallthrough } : {}),
  });
  const prepared = new PreparedAnswers(index, index, { log: options.log });
  // Loaded only when commands run: most clusters emulate every container.
  const runtimeModule = runsCommands ? await import('./kubelet/runtime.js') : undefined;
  let runtime: ProcessRuntime | undefined;
  const preload = packageFile('dist/register.js');
  const output = options.podOutput;
  const controllers = new ControllerManager(store, {
    ...(runtimeModule
      ? {
          localPods: (recorder) =>
            (runtime = new runtimeModule.ProcessRuntime({
              store,
              exec: options.exec,
              annotations: true,
              clock: options.clock ?? systemClock,
              cwd: process.cwd(),
              mountVolumes: options.mountVolumes,
              log: options.log,
              recorder,
              ...(existsSync(preload) ? { preload: preload.href } : {}),
              ...(output ? { output: (pod, container, line) => output(pod.spec.containers.length > 1 ? `${pod.metadata.name}/${container}` : pod.metadata.name, container, line) } : {}),
            })),
        }
      : {}),
    podCidr: options.podCidr,
    startUnready: options.startUnready,
    podGraceSeconds: options.podGraceSeconds,
    nodes: options.nodes,
    ...(options.clock ? { clock: options.clock } : {}),
    log: options.log,
    // Claims' directories outlive a restart beside the state file; without one they go on close.
    ...(options.state ? { volumeRoot: `${resolvePath(options.state)}.volumes` } : {}),
  });
  // The journal is rewritten at every start, once the load has passed: a torn
  // last line goes (an append after it would join it and spoil a whole line)
  // and an earlier version's file takes the current format. The snapshot is
  // taken once the controllers have registered what they make at start (nodes).
  if (journal) {
    journal.compact(store.all(), Number(store.currentResourceVersion));
    store.attachJournal(journal);
  }
  // HTTPS only when asked: the TLS module (and its certificate library) is loaded only then, for a fast cold start.
  const tlsOn = options.tls || (runsCommands && options.api);
  if (runsCommands && options.api && !options.tls) options.log('exec: local processes run from this cluster, so the API is HTTPS and needs its token');
  const tlsModule = tlsOn ? await import('./api/tls.js') : undefined;
  const tlsDir = options.state ? `${options.state}.tls` : undefined;
  const tls = tlsModule ? await tlsModule.apiTls({ host: options.host, ...(tlsDir ? { dir: tlsDir } : {}) }) : undefined;
  let token = options.token;
  let tokenKept: string | undefined;
  if (tls) {
    const where = tls.dir ?? 'memory, for this run only (--state keeps them)';
    if (tls.origin === 'reused') options.log(`tls: serving HTTPS with the CA and certificate in ${where}`);
    else if (tls.origin === 'reissued') options.log(`tls: reissued the serving certificate in ${where} for ${tls.names.join(', ')} (same CA)`);
    else options.log(`tls: made a CA and serving certificate in ${where}, for ${tls.names.join(', ')}`);
    // Kubernetes authenticates every request; with TLS, so do we: a token nobody chose is made, and kept with the state.
    if (!token && tlsModule) {
      if (tlsDir) {
        token = tlsModule.keptToken(tlsDir).token;
        tokenKept = `${tlsDir}/token`;
      } else {
        token = tlsModule.generateToken();
      }
    }
  }
  // Made only when asked for: off, the responder is given no log and does nothing for one.
  const queryLog = options.queryLog ? new (await import('./dns/querylog.js')).QueryLog() : undefined;
  // Lines are written in batches, one call every 50 ms rather than one per query.
  if (queryLog && options.queryLogLines) queryLog.followLines(options.queryLogLines);
  if (queryLog && options.queryLogOutput) {
    const output = options.queryLogOutput;
    queryLog.followBytes((chunk) => output.write(chunk));
  }
  // Fault rules: empty (and so never looked at per query) unless some are added.
  const faults = new Faults();
  for (const rule of options.faults) faults.add(rule);
  let apiAddress: Address = { host: options.host, port: options.apiPort };
  let dnsServerText = '';
  let openWatches = (): number => 0;
  // Metrics are read only through the API's /metrics: without an API nothing counts.
  const metrics = options.api ? new Metrics(store, () => openWatches(), faults) : undefined;
  // Loaded only for an API (it brings node:http): `api: false` clusters never pay for it.
  const apiServer = metrics && (await import('./api/server.js').then(({ ApiServer }) => ApiServer.create({
    store,
    pods: controllers.terminator,
    metrics,
    packageVersion: packageVersion(),
    settled: async () => {
      await store.settled();
      await prepared.idle();
    },
    serverAddress: () => formatHostPort(apiAddress),
    // Host headers naming the bound address pass the API's DNS-rebinding check (loopback always does);
    // with TLS, so do the names the certificate carries (the machine's hostname).
    allowedHosts: [options.host, ...(tls?.names ?? [])],
    info: () => ({ dns: dnsServerText, zone: options.zone.replace(/\.$/, '') }),
    ...(token ? { token } : {}),
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    ...(runtime ? { logs: runtime } : {}),
    ...(queryLog ? { queryLog } : {}),
    faults,
  })));
  if (apiServer) openWatches = () => apiServer.openWatches;
  const responder = new Responder(index, prepared, {
    faults,
    ...(queryLog ? { queryLog } : {}),
    ...(options.upstream ? { upstream: options.upstream } : {}),
    udpMaxSize: options.udpMaxSize,
    ...(metrics ? { observe: (transport, qtype, rcode, seconds) => metrics.observeQuery(transport, qtype, rcode, seconds) } : {}),
  });
  const transport = new DnsTransport((msg, kind, address, port) => responder.respond(msg, kind, address, port), {
    tcpIdleTimeoutMs: options.tcpIdleTimeoutMs,
    tcpFrameTimeoutMs: options.tcpFrameTimeoutMs,
    maxTcpConnections: options.maxTcpConnections,
    tcpMaxQueuedBytes: options.tcpMaxQueuedBytes,
    log: options.log,
  });

  const stopAll = async (): Promise<void> => {
    // Members first, while DNS still answers them (their shutdown may look up peers).
    await runtime?.close();
    await Promise.all([transport.close(), apiServer?.close()]);
    journal?.close();
    controllers.close();
    metrics?.close();
    prepared.close();
    index.close();
  };

  let dns: Address;
  // A restored state is the truth: manifests are applied on the first start
  // only (what the user deleted since stays deleted), or again when asked.
  const manifestObjects = restored && !options.reapply ? [] : loaded.objects.map((m) => m.object);
  if (restored && loaded.objects.length > 0) {
    options.log(
      options.reapply
        ? `state: applying ${loaded.objects.length} manifest objects again over the saved state (--reapply)`
        : `state: the saved state is the truth; ${loaded.objects.length} manifest objects not applied (they were on the first start; --reapply applies them again)`,
    );
  }
  try {
    // Validation made these objects and nothing else holds them: the store keeps them rather than copies.
    try {
      store.apply(manifestObjects, 'apply', true);
    } catch (error) {
      throw namingManifestNamespaces(error, loaded.objects, (name) => store.get('Namespace', undefined, name) !== undefined);
    }
    dns = await transport.listen(options.host, options.dnsPort);
    try {
      if (apiServer) apiAddress = { host: options.host, port: await apiServer.listen(options.host, options.apiPort) };
    } catch (error) {
      throw new HeadlessDnsError('LISTEN_FAILED', `cannot listen on ${options.host}:${options.apiPort} for the API: ${(error as Error).message}`);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  // A wildcard bind is reached at loopback here, an address the certificate names.
  const urlHost = tls && options.host === '0.0.0.0' ? '127.0.0.1' : tls && options.host === '::' ? '::1' : options.host;
  const api = {
    ...apiAddress,
    url: `${tls ? 'https' : 'http'}://${formatHostPort({ host: urlHost, port: apiAddress.port })}`,
    ...(tls ? { ca: tls.ca } : {}),
    ...(token ? { token } : {}),
  };
  let kubeconfig: import('./api/kubeconfig.js').MergedKubeconfig | undefined;
  if (options.kubeconfig) {
    try {
      const { mergeKubeconfig } = await import('./api/kubeconfig.js');
      kubeconfig = mergeKubeconfig(options.kubeconfig, { server: api.url, ...(tls ? { ca: tls.ca } : {}), ...(token ? { token } : {}) }, { setCurrent: options.kubeconfigSetCurrent });
    } catch (error) {
      await stopAll();
      throw error;
    }
    const current = kubeconfig.current ? 'it is the current-context' : `current-context stays "${kubeconfig.previousContext}": use kubectl --context ${kubeconfig.context}`;
    options.log(`kubeconfig: ${kubeconfig.created ? 'wrote' : 'merged'} context ${kubeconfig.context} ${kubeconfig.created ? 'to' : 'into'} ${kubeconfig.path} (${current}); taken out again on exit`);
  }
  if (tls && token && !options.token) {
    const places = [kubeconfig?.path, tokenKept].filter(Boolean);
    options.log(places.length ? `api: no --token given: generated one, written to ${places.join(' and ')}` : `api: no --token given: generated ${token}`);
  }
  const dnsServer = formatHostPort(dns);
  dnsServerText = dnsServer;
  runtime?.activate({ dns: dnsServer, zone: options.zone.replace(/\.$/, ''), ...(apiServer ? { api: api.url } : {}) });

  const resolver = ({ timeout = 2000, tries = 1, namespace }: { timeout?: number; tries?: number; namespace?: string } = {}): dnsPromises.Resolver => {
    const made = new dnsPromises.Resolver({ timeout, tries });
    made.setServers([dnsServer]);
    return namespace === undefined ? made : searchingResolver(made, podSearchList(namespace, zone));
  };
  const zone = options.zone.replace(/\.$/, '');
  const route: ClusterRoute = {
    owns: (hostname) => isSubdomain(zone, hostname),
    addresses: async (hostname, families) => registryAddresses(index, hostname, families),
    resolver: () => resolver(),
    searchIn: (namespace) => podSearchList(namespace, zone),
  };
  const unroutes = new Set<() => void>();
  const waiters = new Set<() => void>();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      for (const unroute of unroutes) unroute();
      for (const stop of waiters) stop();
      faults.clear();
      try {
        kubeconfig?.remove();
      } catch (error) {
        options.log(`kubeconfig: could not take our entries out of ${kubeconfig?.path}: ${(error as Error).message}`);
      }
      await stopAll();
      // The last queries' lines (followers get batches on a timer that does not hold the process).
      queryLog?.flush();
    })());

  const clock = options.clock ?? systemClock;
  const mustGet = <K extends Kind>(kind: K, name: string, namespace: string): Extract<KubeObject, { kind: K }> => {
    const object = store.get(kind, kind === 'Node' ? undefined : namespace, name);
    if (!object) throw new HeadlessDnsError('NOT_FOUND', `${kind} "${kind === 'Node' ? name : `${namespace}/${name}`}" not found`);
    return object;
  };
  const readyMembers = (statefulSet: string, namespace = 'default'): string[] => {
    const set = store.get('StatefulSet', namespace, statefulSet);
    if (!set) return [];
    return store
      .listOwnedBy(set.metadata.uid ?? '')
      .filter((o): o is Pod => o.kind === 'Pod' && controllerOf(o)?.uid === set.metadata.uid && isPodReady(o) && !isTerminating(o))
      .map((pod) => pod.metadata.name)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  };

  const handle: DnsCluster & { api?: StartedCluster['api'] } = {
    dns,
    dnsServer,
    ...(apiServer ? { api, loadApi: () => apiServer.load().then(() => undefined) } : {}),
    ...(kubeconfig ? { kubeconfig: { path: kubeconfig.path, context: kubeconfig.context } } : {}),
    options,
    store,
    index,
    skipped: loaded.skipped,
    apply: (objects) => store.apply(objects),
    get: (kind, name, namespace = 'default') => store.get(kind, namespace, name),
    list: (kind, { namespace, labelSelector } = {}) => store.list(kind, namespace).filter(parseLabelSelector(labelSelector)),
    scale: (statefulSet, replicas, namespace = 'default') => {
      const set = mustGet('StatefulSet', statefulSet, namespace);
      store.apply([{ ...set, spec: { ...set.spec, replicas } }]);
      return mustGet('StatefulSet', statefulSet, namespace);
    },
    updateTemplate: async (statefulSet, patch, namespace = 'default') => {
      // The patch module is the API's; it is loaded only when a fixture asks for it.
      const { strategicMergePatch } = await import('./api/patch.js');
      const set = mustGet('StatefulSet', statefulSet, namespace);
      const template = strategicMergePatch(set.spec.template, patch) as StatefulSet['spec']['template'];
      store.completing(() => store.apply([{ ...set, spec: { ...set.spec, template } }]));
      return mustGet('StatefulSet', statefulSet, namespace);
    },
    restart: (statefulSet, namespace = 'default') => {
      const set = mustGet('StatefulSet', statefulSet, namespace);
      const metadata = set.spec.template.metadata ?? {};
      const annotations = { ...(metadata.annotations ?? {}), [RESTARTED_AT_ANNOTATION]: rfc3339Local(new Date()) };
      store.apply([{ ...set, spec: { ...set.spec, template: { ...set.spec.template, metadata: { ...metadata, annotations } } } }]);
      return mustGet('StatefulSet', statefulSet, namespace);
    },
    waitForRollout: async (statefulSet, { namespace = 'default', timeoutMs = 5000 } = {}) => {
      let last = 'the StatefulSet does not exist';
      const done = (): boolean => {
        const set = store.get('StatefulSet', namespace, statefulSet);
        if (!set) return false;
        const status = rolloutStatus(set);
        last = status.message;
        return status.done;
      };
      try {
        await handle.waitFor(done, { timeoutMs });
      } catch (error) {
        if ((error as Error).message.startsWith('waitFor: not true')) throw new Error(`waitForRollout: statefulset ${namespace}/${statefulSet} not rolled out after ${timeoutMs} ms: ${last}`);
        throw error;
      }
    },
    setReady: (podName, ready, namespace = 'default') => {
      const pod = mustGet('Pod', podName, namespace);
      const at = nowTimestamp();
      const status = ready ? 'True' : 'False';
      const conditions = [...(pod.status?.conditions ?? [])].filter((c) => c.type !== 'Ready' && c.type !== 'ContainersReady');
      conditions.push({ type: 'Ready', status, lastTransitionTime: at }, { type: 'ContainersReady', status, lastTransitionTime: at });
      const containerStatuses = ((pod.status?.containerStatuses ?? []) as Record<string, unknown>[]).map((c) => ({ ...c, ready }));
      store.apply([{ ...pod, status: { ...pod.status, conditions, containerStatuses } }]);
      return mustGet('Pod', podName, namespace);
    },
    deletePod: (podName, { namespace = 'default', gracePeriodSeconds } = {}) =>
      controllers.terminator.delete(mustGet('Pod', podName, namespace), gracePeriodSeconds),
    onEvent: (listener) => store.subscribe((events) => events.forEach((e) => listener({ type: e.type, object: e.object }))),
    waitFor: (predicate, { timeoutMs = 5000 } = {}) =>
      new Promise<void>((resolve, reject) => {
        let settled = false;
        let checking = false;
        let again = false;
        const finish = (error?: Error): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          unsubscribe();
          waiters.delete(stop);
          if (error) reject(error);
          else resolve();
        };
        const stop = (): void => finish(new Error('the cluster closed while waiting'));
        const check = async (): Promise<void> => {
          if (checking) {
            again = true;
            return;
          }
          checking = true;
          try {
            do {
              again = false;
              if (await predicate(handle)) return finish();
            } while (again && !settled);
          } catch (error) {
            finish(error as Error);
          } finally {
            checking = false;
          }
        };
        const timer = setTimeout(() => finish(new Error(`waitFor: not true after ${timeoutMs} ms`)), timeoutMs);
        const unsubscribe = store.subscribe(() => void check());
        waiters.add(stop);
        void check();
      }),
    waitForReadyMembers: (statefulSet, count, { namespace = 'default', timeoutMs } = {}) =>
      handle.waitFor(() => readyMembers(statefulSet, namespace).length >= count, timeoutMs !== undefined ? { timeoutMs } : {}),
    readyMembers,
    failNode: (name, { status = 'Unknown' } = {}) => {
      const node = mustGet('Node', name, '');
      const at = timestampAt(clock.now());
      const healthy = node.status?.conditions?.length ? node.status.conditions : healthyConditions(at);
      const conditions =
        status === 'Unknown'
          ? unknownConditions(healthy, at)
          : healthy.map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const, lastHeartbeatTime: at, lastTransitionTime: at, reason: 'KubeletNotReady', message: 'the emulated kubelet was stopped (failNode)' } : c));
      store.apply([{ ...node, status: { ...node.status, conditions } }]);
      return mustGet('Node', name, '');
    },
    restoreNode: (name) => {
      const node = mustGet('Node', name, '');
      const at = timestampAt(clock.now());
      store.apply([{ ...node, status: { ...node.status, conditions: healthyConditions(at) } }]);
      return mustGet('Node', name, '');
    },
    reset: (resetOptions) => {
      faults.clear();
      const to = resetOptions?.to ?? 'manifests';
      if (to !== 'manifests' && to !== 'empty') throw new HeadlessDnsError('INVALID_OPTION', `reset: to must be 'manifests' or 'empty', not ${JSON.stringify(to)}`);
      const doomed = store.all().filter((o) => (o.kind === 'Namespace' ? !['default', 'kube-system'].includes(o.metadata.name) : ['default', 'kube-system'].includes(o.metadata.namespace ?? '')));
      // Pods last: their StatefulSets are gone by then, so nothing brings them back.
      const order = (o: KubeObject): number => (o.kind === 'Pod' ? 1 : 0);
      store.commit(doomed.sort((a, b) => order(a) - order(b)).map((o) => ({ op: 'delete' as const, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name })));
      // Nodes stay registered, healthy and schedulable again for the next test.
      for (const node of store.list('Node')) {
        if (node.spec?.unschedulable) store.apply([{ ...node, spec: { ...node.spec, unschedulable: false } }]);
        if (node.status?.conditions?.find((c) => c.type === 'Ready')?.status !== 'True') handle.restoreNode(node.metadata.name);
      }
      if (to === 'manifests' && loaded.objects.length) store.apply(loaded.objects.map((m) => m.object));
    },
    faults: {
      add: (rule) => {
        const added = faults.add(rule);
        return { ...added, remove: () => void faults.remove(added.id) };
      },
      list: () => faults.list(),
      setEnabled: (id, enabled) => faults.setEnabled(id, enabled) !== undefined,
      remove: (id) => faults.remove(id),
      clear: () => faults.clear(),
    },
    queries: (filter = {}) => {
      if (!queryLog) throw new HeadlessDnsError('INVALID_OPTION', 'queries(): this cluster keeps no query log; start it with queryLog: true');
      return queryLog.list(filter);
    },
    clearQueries: () => {
      if (!queryLog) throw new HeadlessDnsError('INVALID_OPTION', 'clearQueries(): this cluster keeps no query log; start it with queryLog: true');
      queryLog.clear();
    },
    logs: (pod, logOptions = {}) => {
      if (!runtime) throw new HeadlessDnsError('NOT_FOUND', `pod ${pod} runs no local process: this cluster runs none (give exec, or manifests with the headless-dns.io/exec annotation)`);
      const found = runtime.containerLog(logOptions.namespace ?? 'default', pod, logOptions.container, logOptions.previous ?? false);
      if ('problem' in found) throw new HeadlessDnsError('NOT_FOUND', found.problem);
      return found.log.read().map((line) => line.text);
    },
    resolver,
    lookup: lookupVia(route) as ClusterLookup,
    routeProcessDns: () => {
      const unroute = routeNodeDns(route);
      const remove = (): void => {
        unroute();
        unroutes.delete(remove);
      };
      unroutes.add(remove);
      return remove;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  // The fixture's writes promise their effects on return: each finishes any
  // cascade an API write left waiting for its next slice.
  for (const name of ['apply', 'scale', 'restart', 'setReady', 'deletePod', 'failNode', 'restoreNode', 'reset'] as const) {
    const method = (handle as unknown as Record<string, unknown>)[name];
    if (typeof method !== 'function') continue;
    (handle as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => store.completing(() => (method as (...a: unknown[]) => unknown).apply(handle, args));
  }
  return handle;
}

export { HeadlessDnsError };
