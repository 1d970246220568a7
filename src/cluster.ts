// The one module that wires store, controllers, record index, prepared answers,
// the DNS server and the API together. The CLI and the public API are thin
// layers over it; nothing else starts a server.

import { promises as dnsPromises } from 'node:dns';
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { buildApiApp } from './api/app.js';
import { Metrics } from './api/metrics.js';
import { ControllerManager } from './controllers/manager.js';
import { PreparedAnswers } from './dns/prepared.js';
import { Responder } from './dns/responder.js';
import { DnsTransport } from './dns/transport.js';
import { HeadlessDnsError } from './errors.js';
import { type LoadedManifests, loadManifests } from './model/manifest.js';
import type { KubeObject } from './model/types.js';
import { type ClusterOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { RecordIndex } from './records/index.js';
import { ObjectStore } from './store/store.js';

export interface Address {
  host: string;
  port: number;
}

export interface StartedCluster {
  /** Where DNS answers, UDP and TCP. */
  readonly dns: Address;
  /** `host:port`, or `[host]:port` for IPv6: what `Resolver#setServers` and `dig @host -p port` take. */
  readonly dnsServer: string;
  /** Where the Kubernetes API listens, and its URL (`http://127.0.0.1:8053`). */
  readonly api: Address & { url: string };
  readonly options: ResolvedOptions;
  readonly store: ObjectStore;
  readonly index: RecordIndex;
  /** Documents of kinds headless-dns does not model, skipped while loading manifests. */
  readonly skipped: LoadedManifests['skipped'];
  /** Creates or updates objects, all or nothing; controllers have run when it returns. */
  apply(objects: readonly KubeObject[]): KubeObject[];
  /** A node:dns promises Resolver that asks this cluster. */
  resolver(options?: { timeout?: number; tries?: number }): dnsPromises.Resolver;
  /** Stops both servers and closes every connection and watch; safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
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
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** A kubeconfig that points kubectl at this cluster (`kubectl --kubeconfig FILE get pods`). */
export function kubeconfigFor(url: string, token?: string): string {
  return toYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'headless-dns', cluster: { server: url } }],
    users: [{ name: 'headless-dns', user: token ? { token } : {} }],
    contexts: [{ name: 'headless-dns', context: { cluster: 'headless-dns', user: 'headless-dns', namespace: 'default' } }],
    'current-context': 'headless-dns',
    preferences: {},
  });
}

export async function startCluster(input: ClusterOptions = {}, defaults?: { dnsPort: number; apiPort: number }): Promise<StartedCluster> {
  const options = resolveOptions(input, defaults);
  const loaded = options.manifests.length > 0 ? loadManifests(options.manifests) : { objects: [], skipped: [] };
  for (const skip of loaded.skipped) options.log(`${skip.source}: skipped ${skip.kind} "${skip.name}": headless-dns does not model this kind`);

  const store = new ObjectStore(options.serviceCidrs ? { serviceCidrs: options.serviceCidrs } : {});
  const index = new RecordIndex(store, {
    zone: options.zone,
    ttl: options.ttl,
    pods: options.pods,
    reverse: true,
    nsAddresses: nsAddresses(options.host),
  });
  const prepared = new PreparedAnswers(index, index);
  const controllers = new ControllerManager(store, {
    podCidr: options.podCidr,
    startUnready: options.startUnready,
    podGraceSeconds: options.podGraceSeconds,
    log: options.log,
  });
  let apiAddress: Address = { host: options.host, port: options.apiPort };
  let openWatches = (): number => 0;
  const metrics = new Metrics(store, () => openWatches());
  const { app, watches } = buildApiApp({
    store,
    pods: controllers.terminator,
    metrics,
    packageVersion: packageVersion(),
    serverAddress: () => formatHostPort(apiAddress),
    ...(options.token ? { token: options.token } : {}),
  });
  openWatches = () => watches.openStreams;
  const responder = new Responder(index, prepared, {
    ...(options.upstream ? { upstream: options.upstream } : {}),
    observe: (record) => metrics.observeQuery(record),
  });
  const transport = new DnsTransport((msg, kind) => responder.respond(msg, kind), {
    tcpIdleTimeoutMs: options.tcpIdleTimeoutMs,
    log: options.log,
  });

  const stopAll = async (): Promise<void> => {
    await Promise.all([transport.close(), app.close()]);
    controllers.close();
    metrics.close();
    prepared.close();
    index.close();
  };

  let dns: Address;
  try {
    store.apply(loaded.objects.map((m) => m.object));
    dns = await transport.listen(options.host, options.dnsPort);
    try {
      await app.listen({ host: options.host, port: options.apiPort });
    } catch (error) {
      throw new HeadlessDnsError('LISTEN_FAILED', `cannot listen on ${options.host}:${options.apiPort} for the API: ${(error as Error).message}`);
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  const bound = app.server.address();
  apiAddress = { host: options.host, port: typeof bound === 'object' && bound ? bound.port : options.apiPort };
  const api = { ...apiAddress, url: `http://${formatHostPort(apiAddress)}` };
  if (options.kubeconfig) writeFileSync(options.kubeconfig, kubeconfigFor(api.url, options.token), { mode: 0o600 });
  const dnsServer = formatHostPort(dns);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= stopAll());

  return {
    dns,
    dnsServer,
    api,
    options,
    store,
    index,
    skipped: loaded.skipped,
    apply: (objects) => store.apply(objects),
    resolver: ({ timeout = 2000, tries = 1 } = {}) => {
      const resolver = new dnsPromises.Resolver({ timeout, tries });
      resolver.setServers([dnsServer]);
      return resolver;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export { HeadlessDnsError };
