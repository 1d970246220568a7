// The same app module in plain JavaScript.
import { promises as dns } from 'node:dns';

export async function findPeers(service, resolver = dns) {
  try {
    const records = await resolver.resolveSrv(service);
    return records.map(({ name, port }) => ({ name, port })).sort((a, b) => a.name.localeCompare(b.name));
  } catch (error) {
    if (error.code === 'ENOTFOUND') return [];
    throw error;
  }
}
