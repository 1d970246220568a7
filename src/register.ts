// `node --import headless-dns/register app.js`: names in the cluster zone are
// resolved by a running headless-dns, every other name as before. Configured by
// the environment, so an app needs no change:
//   HEADLESS_DNS       host:port of the DNS server (default 127.0.0.1:1053; also
//                      localhost:PORT, [::1]:PORT, or a host alone for port 1053)
//   HEADLESS_DNS_ZONE  the cluster domain (default cluster.local)
//   HEADLESS_DNS_SEARCH, HEADLESS_DNS_NDOTS  a pod's search list and ndots (set for
//                      members): names are tried as a pod's resolver tries them
//   HEADLESS_DNS_POD_IP set for members headless-dns runs: servers that listen on
//                      every address listen on this pod IP instead, and
//                      os.hostname() is the pod's HOSTNAME (pod-listen.ts)

import { promises as dnsPromises } from 'node:dns';
import { isSubdomain } from './records/names.js';
import { type LookupAddress, routeNodeDns } from './node-dns/patch.js';
import { parseDnsServer } from './node-dns/server-address.js';
import { hostnameOfPod, listenOnPodIp } from './node-dns/pod-listen.js';
import { searchListFromEnv } from './node-dns/search.js';
import { isIP } from 'node:net';

let server: string;
try {
  server = parseDnsServer(process.env.HEADLESS_DNS || '127.0.0.1:1053', 'HEADLESS_DNS');
} catch (error) {
  // Thrown from a preload, this would be a stack trace through our internals
  // before the app even starts; one line naming the variable says what to fix.
  process.stderr.write(`${String(error)} (read by headless-dns/register)\n`);
  process.exit(2);
}
const podIp = process.env.HEADLESS_DNS_POD_IP;
if (podIp && isIP(podIp)) {
  listenOnPodIp(podIp, portsMoved(process.env.HEADLESS_DNS_PORTS));
  if (process.env.HOSTNAME) hostnameOfPod(process.env.HOSTNAME);
}
/** HEADLESS_DNS_PORTS: {"8080": 50123, ...}, container port → where it really listens; anything else is ignored. */
function portsMoved(text: string | undefined): Map<number, number> | undefined {
  if (!text) return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    return new Map(Object.entries(parsed).filter(([, to]) => Number.isInteger(to)).map(([from, to]) => [Number(from), to as number]));
  } catch {
    return undefined;
  }
}
const zone = (process.env.HEADLESS_DNS_ZONE || 'cluster.local').toLowerCase().replace(/\.$/, '');
const resolver = new dnsPromises.Resolver({ timeout: 2000, tries: 2 });
resolver.setServers([server]);

async function family(hostname: string, which: 4 | 6): Promise<LookupAddress[]> {
  try {
    const addresses = which === 4 ? await resolver.resolve4(hostname) : await resolver.resolve6(hostname);
    return addresses.map((address) => ({ address, family: which }));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw error;
  }
}

// Members headless-dns starts or attaches resolve as in their pod: short names through its search list.
const search = searchListFromEnv(process.env);
routeNodeDns({
  ...(search ? { search } : {}),
  owns: (hostname) => isSubdomain(zone, hostname),
  addresses: async (hostname, families) => (await Promise.all(families.map((f) => family(hostname, f)))).flat(),
  resolver: () => resolver,
});
