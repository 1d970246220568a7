// Routing Node's own name resolution: names in a cluster zone go to a route
// (headless-dns, in-process or over the network); every other name goes where it
// always went (the OS for dns.lookup, the system resolver for dns.resolve*).
// dns.lookup is what net, http, and global fetch use, so patching it reaches them.

import dns from 'node:dns';
import { syncBuiltinESMExports } from 'node:module';
import { type SearchList, searchCandidates } from './search.js';

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
  /** Resolve as a pod does: names are tried with this search list and ndots (search.ts). */
  readonly search?: SearchList;
  /** The search list of a pod in this namespace, for lookups that name one. */
  searchIn?(namespace: string): SearchList;
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

/**
 * The names to try for `hostname`: itself (no trailing dot), or with a search
 * list the ones a pod's resolver tries, in its order.
 */
function candidates(hostname: string, search: SearchList | undefined): string[] {
  const name = String(hostname).toLowerCase();
  return search ? searchCandidates(name, search) : [name.replace(/\.$/, '')];
}

/**
 * Addresses of `hostname` as the route (and its search list) resolve it: each
 * candidate the route owns is asked in turn, a miss trying the next; the first
 * one it does not own goes to the OS (with the name as given) and ends the walk.
 */
async function lookupWalk(
  hostname: string,
  options: LookupOptions,
  owner: (name: string) => ClusterRoute | undefined,
  search: SearchList | undefined,
): Promise<{ found: LookupAddress[] } | { os: true }> {
  for (const name of candidates(hostname, search)) {
    const route = owner(name);
    if (!route) return { os: true };
    const found = await route.addresses(name, familiesOf(options));
    if (found.length > 0) return { found };
  }
  return { found: [] };
}

/** A dns.lookup-compatible function that asks the route for its names and the OS for the rest. */
export function lookupVia(route: ClusterRoute, fallback: typeof dns.lookup = original.lookup): typeof dns.lookup {
  const lookup = (hostname: string, optionsOrCallback: unknown, maybeCallback?: LookupCallback): void => {
    const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as LookupCallback;
    const given = typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback;
    const options = normalize(given);
    // A namespace in the options resolves as a pod in it would (the fixture's lookup).
    const namespace = (given as { namespace?: unknown } | undefined)?.namespace;
    const search = typeof namespace === 'string' && route.searchIn ? route.searchIn(namespace) : route.search;
    lookupWalk(hostname, options, (name) => (route.owns(name) ? route : undefined), search).then(
      (result) => {
        if ('os' in result) {
          const { namespace: _namespace, ...plain } = options as LookupOptions & { namespace?: string };
          return (fallback as (h: string, o: LookupOptions, c: LookupCallback) => void)(hostname, plain, callback);
        }
        const found = result.found;
        if (found.length === 0) return callback(notFound(hostname));
        if (options.all) return callback(null, found);
        return callback(null, found[0]!.address, found[0]!.family);
      },
      (error: NodeJS.ErrnoException) => callback(error),
    );
  };
  return lookup as unknown as typeof dns.lookup;
}

/** The search list of the process's routes: a member's (register.ts), if any route has one. */
function processSearch(): SearchList | undefined {
  return routes.find((route) => route.search)?.search;
}

function patchedLookup(hostname: string, optionsOrCallback: unknown, maybeCallback?: LookupCallback): void {
  const search = processSearch();
  const route = search ? undefined : routeFor(String(hostname));
  if (!search && !route) return void (original.lookup as (h: string, o: unknown, c?: LookupCallback) => void)(hostname, optionsOrCallback, maybeCallback);
  const callback = (typeof optionsOrCallback === 'function' ? optionsOrCallback : maybeCallback) as LookupCallback;
  const options = normalize(typeof optionsOrCallback === 'function' ? undefined : optionsOrCallback);
  lookupWalk(hostname, options, routeFor, search).then(
    (result) => {
      if ('os' in result) return (original.lookup as (h: string, o: LookupOptions, c: LookupCallback) => void)(hostname, options, callback);
      if (result.found.length === 0) return callback(notFound(hostname));
      if (options.all) return callback(null, result.found);
      return callback(null, result.found[0]!.address, result.found[0]!.family);
    },
    (error: NodeJS.ErrnoException) => callback(error),
  );
}

async function patchedPromisesLookup(hostname: string, options?: unknown): Promise<unknown> {
  const search = processSearch();
  if (!search && !routeFor(String(hostname))) return (original.promisesLookup as (h: string, o?: unknown) => Promise<unknown>)(hostname, options);
  const opts = normalize(options);
  const result = await lookupWalk(hostname, opts, routeFor, search);
  if ('os' in result) return (original.promisesLookup as (h: string, o?: unknown) => Promise<unknown>)(hostname, options);
  if (result.found.length === 0) throw notFound(hostname);
  return opts.all ? result.found : result.found[0];
}

const MISSES = new Set(['ENOTFOUND', 'ENODATA', 'NOTFOUND', 'NODATA']);

/**
 * dns.resolve*(hostname) as the routes (and a member's search list) answer it:
 * candidates a route owns are asked through its resolver, a miss (no such name,
 * no data) trying the next; the first one no route owns goes to `plain` with
 * the name as given. Undefined when no route is concerned.
 */
function resolveWalk(method: string, hostname: string, args: unknown[], plain: (...a: unknown[]) => Promise<unknown>): Promise<unknown> | undefined {
  const search = processSearch();
  if (!search && !routeFor(String(hostname))?.resolver) return undefined;
  return (async () => {
    let last: unknown;
    for (const name of candidates(String(hostname), search)) {
      const resolver = routeFor(name)?.resolver?.();
      if (!resolver) return plain(hostname, ...args);
      try {
        return await (resolver as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!(name, ...args);
      } catch (error) {
        if (!MISSES.has(String((error as NodeJS.ErrnoException).code))) throw error;
        last = error;
      }
    }
    throw last ?? notFound(String(hostname));
  })();
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
      const callback = rest[rest.length - 1] as (error: Error | null, result?: unknown) => void;
      const args = rest.slice(0, -1);
      const viaOs = (name: unknown, ...a: unknown[]): Promise<unknown> =>
        new Promise((resolve, reject) => (plain as (...x: unknown[]) => unknown)(name, ...a, (error: Error | null, result: unknown) => (error ? reject(error) : resolve(result))));
      const walk = resolveWalk(method, hostname, args, viaOs);
      if (!walk) return (plain as (...a: unknown[]) => unknown)(hostname, ...rest);
      walk.then(
        (result) => callback(null, result),
        (error: Error) => callback(error),
      );
      return undefined;
    };
    (dns.promises as unknown as Record<string, unknown>)[method] = (hostname: string, ...rest: unknown[]) =>
      resolveWalk(method, hostname, rest, promised as (...a: unknown[]) => Promise<unknown>) ?? (promised as (...a: unknown[]) => unknown)(hostname, ...rest);
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

/**
 * A Resolver whose resolve* methods try names as a pod with this search list
 * would (the fixture's `resolver({ namespace })`): each candidate in turn, a
 * miss (no such name, no data, or refused as outside the zone) trying the next.
 */
export function searchingResolver(resolver: dns.promises.Resolver, search: SearchList): dns.promises.Resolver {
  const misses = new Set([...MISSES, 'EREFUSED', 'REFUSED']);
  for (const method of RESOLVE_METHODS) {
    const own = (resolver as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method]!.bind(resolver);
    (resolver as unknown as Record<string, unknown>)[method] = async (hostname: string, ...rest: unknown[]) => {
      let last: unknown;
      for (const name of candidates(hostname, search)) {
        try {
          return await own(name, ...rest);
        } catch (error) {
          if (!misses.has(String((error as NodeJS.ErrnoException).code))) throw error;
          last = error;
        }
      }
      throw last;
    };
  }
  return resolver;
}
