// A small app module: the peers of a StatefulSet member, found the way a
// clustered app finds them in Kubernetes, through the headless Service's SRV.

import { promises as dns } from 'node:dns';

export interface Peer {
  name: string;
  port: number;
}

export async function findPeers(service: string, resolver: Pick<dns.Resolver, 'resolveSrv'> = dns): Promise<Peer[]> {
  try {
    const records = await resolver.resolveSrv(service);
    return records.map(({ name, port }) => ({ name, port })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOTFOUND') return [];
    throw error;
  }
}
