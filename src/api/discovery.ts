// Discovery documents: what kubectl reads to learn which resources exist,
// their verbs, short names and subresources.

import { RESOURCES, VERBS, type ResourceDef, groupVersion } from './resources.js';

export const EMULATED_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0' } as const;

export function versionInfo(packageVersion: string): Record<string, string> {
  return {
    ...EMULATED_VERSION,
    gitCommit: `headless-dns-${packageVersion}`,
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

/** Groups with resources. autoscaling/v1 (the Scale kind) is not listed: a group
 *  without resources makes kubectl report a discovery error. */
export const GROUPS = ['apps', 'coordination.k8s.io', 'discovery.k8s.io', 'events.k8s.io'] as const;

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

export function apiGroupList(): unknown {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: GROUPS.map((name) => ({
      name,
      versions: [{ groupVersion: `${name}/v1`, version: 'v1' }],
      preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' },
    })),
  };
}

function entries(def: ResourceDef): unknown[] {
  const main = {
    name: def.plural,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: [...VERBS, ...(def.namespaced ? ['deletecollection'] : [])].sort(),
    ...(def.shortNames.length ? { shortNames: def.shortNames } : {}),
    ...(def.categories.length ? { categories: def.categories } : {}),
  };
  const subs = def.subresources.map((sub) =>
    // pods/eviction: kubectl drain evicts through policy/v1 when discovery lists it here (drain.CheckEvictionSupport).
    sub === 'eviction'
      ? { name: `${def.plural}/eviction`, singularName: '', namespaced: def.namespaced, group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] }
      : sub === 'log'
      ? { name: `${def.plural}/log`, singularName: '', namespaced: def.namespaced, kind: 'Pod', verbs: ['get'] }
      : sub === 'scale'
      ? { name: `${def.plural}/scale`, singularName: '', namespaced: def.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }
      : { name: `${def.plural}/status`, singularName: '', namespaced: def.namespaced, kind: def.kind, verbs: ['get', 'patch', 'update'] },
  );
  return [main, ...subs];
}

/** APIResourceList of a group/version, or undefined if it is not served. */
export function apiResourceList(group: string, version: string): unknown {
  if (version !== 'v1' || (group !== '' && !(GROUPS as readonly string[]).includes(group))) return undefined;
  const defs = RESOURCES.filter((r) => r.group === group);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group: group as ResourceDef['group'], version: 'v1' }), resources: defs.flatMap(entries) };
}
