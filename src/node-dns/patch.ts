// Routing Node's own name resolution: names in a cluster zone go to a route
// (headless-dns, in-process or over the network); every other name goes where it
// always went (the OS for dns.lookup, the system resolver for dns.resolve*).
// dns.lookup is what net, http, and global fetch use, so patching it reaches them.

import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';

export interface LookupAddress {
  address: string;
  family: 4 | 6;
}

/** A place that answers cluster names. */
export interface ClusterRoute {
  /** Does this route own the name (lower case, no trailing dot)? */
  owns(hostname: string): boolean;
  /** Addresses of a name, in the families asked for; [] when it has none. */
  addresses(hostname: string, families: readonly (4 | 6)[]): Promise<LookupAddress[]>;
  /** The resolver to use for dns.resolve* on its names. */
  resolver?(): dns.promises.Resolver;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;
type LookupOptions = { family?: number | string; all?: boolean; hints?: number; verbatim?: boolean; order?: string };

export function notFound(hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname });
}

function normalize(options: unknown): LookupOptions {
  if (typeof options === 'number') return { family: options };
  if (typeof options === 'object' && options !== null) return options as LookupOptions;
  return {};
}

function familiesOf(options: LookupOptions): (4 | 6)[] {
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
  return family === 4 ? [4] : family === 6 ? [6] : [4, 6];
}

const routes: ClusterRoute[] = [];
const original = {
  lookup: dns.lookup,
  promisesLookup: dns.promises.lookup,
};
const RESOLVE_METHODS = ['resolve', 'resolve4', 'resolve6', 'resolveSrv', 'resolveTxt', 'resolvePtr', 'resolveCname', 'resolveNs', 'resolveSoa', 'resolveAny', 'resolveMx', 'resolveNaptr', 'resolveCaa'] as const;
const originalResolve = new Map<string, unknown>();
const originalPromisesResolve = new Map<string, unknown>();

function routeFor(hostname: string): ClusterRoute | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return routes.find((route) => route.owns(name));
}

/** A dns.lookup-compatible function that asks the route for its names and the OS for the rest. */
export function lookupVia(route: ClusterRoute, fallback: typeof dns.lookup = original.lookup): typeof dns.lookup {
  const lookup = (hostname: string, optionsOrCallback: unknown, maybeCallback?: LookupCallback): void => {
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as LookupCallback;
    const options = normalize(typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback);
    const name = String(hostname).toLowerCase().replace(/\.$/, '');
    if (!route.owns(name)) {
      (fallback as (h: string, o: LookupOptions, c: LookupCallback) => void)(hostname, options, callback);
      return;
    }
    route.addresses(name, familiesOf(options)).then(
      (found) => {
        if (found.length === 0) return callback(notFound(hostname));
        if (options.all) return callback(null, found);
        return callback(null, found[0]!.address, found[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error),
    );
  };
  return lookup as unknown as typeof dns.lookup;
}

function patchedLookup(hostname: string, optionsOrCallback: unknown, maybeCallback?: LookupCallback): void {
  const route = routeFor(String(hostname));
  const call = route ? lookupVia(route) : original.lookup;
  (call as (h: string, o: unknown, c?: LookupCallback) => void)(hostname, optionsOrCallback, maybeCallback);
}

async function patchedPromisesLookup(hostname: string, options?: unknown): Promise<unknown> {
  const route = routeFor(String(hostname));
  if (!route) return (original.promisesLookup as (h: string, o?: unknown) => Promise<unknown>)(hostname, options);
  const opts = normalize(options);
  const found = await route.addresses(String(hostname).toLowerCase().replace(/\.$/, ''), familiesOf(opts));
  if (found.length === 0) throw notFound(hostname);
  return opts.all ? found : found[0];
}

function install(): void {
  (dns as { lookup: unknown }).lookup = patchedLookup;
  (dns.promises as { lookup: unknown }).lookup = patchedPromisesLookup;
  for (const method of RESOLVE_METHODS) {
    const plain = (dns as unknown as Record<string, unknown>)[method];
    const promised = (dns.promises as unknown as Record<string, unknown>)[method];
    originalResolve.set(method, plain);
    originalPromisesResolve.set(method, promised);
    (dns as unknown as Record<string, unknown>)[method] = (hostname: string, ...rest: unknown[]) => {
      const route = routeFor(String(hostname));
      const resolver = route?.resolver?.();
      const callback = rest[rest.length - 1] as (error: Error | null, result?: unknown) => void;
      if (!resolver) return (plain as (...a: unknown[]) => unknown)(hostname, ...rest);
      const args = rest.slice(0, -1);
      ((resolver as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!)(hostname, ...args).then(
        (result) => callback(null, result),
        (error: Error) => callback(error),
      );
      return undefined;
    };
    (dns.promises as unknown as Record<string, unknown>)[method] = (hostname: string, ...rest: unknown[]) => {
      const route = routeFor(String(hostname));
      const resolver = route?.resolver?.();
      if (!resolver) return (promised as (...a: unknown[]) => unknown)(hostname, ...rest);
      return ((resolver as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!)(hostname, ...rest);
    };
  }
  // ESM named imports of node:dns see the patched functions too.
  syncBuiltinESMExports();
}

function uninstall(): void {
  (dns as { lookup: unknown }).lookup = original.lookup;
  (dns.promises as { lookup: unknown }).lookup = original.promisesLookup;
  for (const method of RESOLVE_METHODS) {
    (dns as unknown as Record<string, unknown>)[method] = originalResolve.get(method);
    (dns.promises as unknown as Record<string, unknown>)[method] = originalPromisesResolve.get(method);
  }
  syncBuiltinESMExports();
}

/**
 * Sends the route's names through it for the whole process (dns.lookup,
 * dns.promises.lookup, dns.resolve*, and so net, http and global fetch).
 * Returns the function that takes the route out again.
 */
export function routeNodeDns(route: ClusterRoute): () => void {
  if (routes.length === 0) install();
  routes.push(route);
  let removed = false;
  return () => {
    if (removed) return;
    removed = true;
    routes.splice(routes.indexOf(route), 1);
    if (routes.length === 0) uninstall();
  };
}
