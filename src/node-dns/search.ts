// The names a pod's resolver tries for one it is asked, as glibc's res_search
// does with the resolv.conf Kubernetes writes for `dnsPolicy: ClusterFirst`:
//   search <ns>.svc.<zone> svc.<zone> <zone>
//   options ndots:5
// A name with a trailing dot is absolute: only itself. A name with at least
// `ndots` dots is tried as it is first, then with each search domain; one with
// fewer tries the search domains first, then itself.

import { isIP } from 'node:net';

export interface SearchList {
  /** Search domains, lower case, without trailing dots. */
  readonly domains: readonly string[];
  readonly ndots: number;
}

/** Kubernetes' default ndots for ClusterFirst pods. */
export const POD_NDOTS = 5;

/** The search list of a pod in `namespace` (pkg/kubelet/network/dns: generateSearchesForDNSClusterFirst). */
export function podSearchList(namespace: string, zone: string, ndots = POD_NDOTS): SearchList {
  const z = zone.toLowerCase().replace(/\.$/, '');
  return { domains: [`${namespace}.svc.${z}`, `svc.${z}`, z], ndots };
}

/** The names tried for `name`, in order, without trailing dots. */
export function searchCandidates(name: string, list: SearchList): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  // Addresses and the hosts-file names a pod's /etc/hosts answers first are never searched.
  if (isIP(name) || name === 'localhost' || name.endsWith('.localhost')) return [name];
  const dots = name.split('.').length - 1;
  const searched = list.domains.map((domain) => `${name}.${domain}`);
  return dots >= list.ndots ? [name, ...searched] : [...searched, name];
}

/**
 * A search list from the environment members get (`HEADLESS_DNS_SEARCH`,
 * space-separated, and `HEADLESS_DNS_NDOTS`); undefined when none is set.
 */
export function searchListFromEnv(env: NodeJS.ProcessEnv): SearchList | undefined {
  const text = env.HEADLESS_DNS_SEARCH?.trim();
  if (!text) return undefined;
  const ndots = Number(env.HEADLESS_DNS_NDOTS ?? POD_NDOTS);
  return {
    domains: text.split(/\s+/).map((domain) => domain.toLowerCase().replace(/\.$/, '')),
    ndots: Number.isInteger(ndots) && ndots >= 0 && ndots <= 15 ? ndots : POD_NDOTS,
  };
}
