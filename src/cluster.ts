// The one module that wires store, record index, prepared answers and the DNS
// server together. The CLI and the public API are thin layers over it.

import { promises as dnsPromises } from 'node:dns';
import { HeadlessDnsError } from './errors.js';
import { DnsTransport } from './dns/transport.js';
import { PreparedAnswers } from './dns/prepared.js';
import { Responder } from './dns/responder.js';
import { type LoadedManifests, loadManifests } from './model/manifest.js';
import type { KubeObject } from './model/types.js';
import { RecordIndex } from './records/index.js';
import { ControllerManager } from './controllers/manager.js';
import { ObjectStore } from './store/store.js';
import { type ClusterOptions, type ResolvedOptions, resolveOptions } from './options.js';

export interface Address {
  host: string;
  port: number;
}

export interface StartedCluster {
  /** Where DNS answers, UDP and TCP. */
  readonly dns: Address;
  /** `host:port`, or `[host]:port` for IPv6: what `Resolver#setServers` and `dig @host -p port` take. */
  readonly dnsServer: string;
  readonly options: ResolvedOptions;
  readonly store: ObjectStore;
  readonly index: RecordIndex;
  /** Documents of kinds headless-dns does not model, skipped while loading manifests. */
  readonly skipped: LoadedManifests['skipped'];
  /** Creates or updates objects, all or nothing. */
  apply(objects: readonly KubeObject[]): KubeObject[];
  /** A node:dns promises Resolver that asks this cluster. */
  resolver(options?: { timeout?: number; tries?: number }): dnsPromises.Resolver;
  /** Stops the server and closes every connection; safe to call twice. */
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

export async function startCluster(input: ClusterOptions = {}, defaults?: { dnsPort: number }): Promise<StartedCluster> {
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
  const stopAll = (): void => {
    controllers.close();
    prepared.close();
    index.close();
  };
  try {
    store.apply(loaded.objects.map((m) => m.object));
  } catch (error) {
    stopAll();
    throw error;
  }
  const responder = new Responder(index, prepared, options.upstream ? { upstream: options.upstream } : {});
  const transport = new DnsTransport((msg, kind) => responder.respond(msg, kind), {
    tcpIdleTimeoutMs: options.tcpIdleTimeoutMs,
    log: options.log,
  });
  let dns: Address;
  try {
    dns = await transport.listen(options.host, options.dnsPort);
  } catch (error) {
    stopAll();
    throw error;
  }
  const dnsServer = formatHostPort(dns);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await transport.close();
      stopAll();
    })();
    return closing;
  };

  return {
    dns,
    dnsServer,
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
