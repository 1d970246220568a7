// Addresses of cluster names straight from the record index, without a DNS
// round trip: the same answer() the server sends, read back as addresses.

import { answer } from '../dns/answer.js';
import { QTYPE } from '../dns/constants.js';
import type { RecordSource } from '../records/index.js';
import type { LookupAddress } from './patch.js';

export function registryAddresses(source: RecordSource, hostname: string, families: readonly (4 | 6)[]): LookupAddress[] {
  const name = `${hostname.toLowerCase().replace(/\.$/, '')}.`;
  const out: LookupAddress[] = [];
  for (const family of families) {
    const result = answer({ name, type: family === 4 ? QTYPE.A : QTYPE.AAAA }, source);
    if (result.kind !== 'reply') continue;
    for (const rr of result.answer) {
      if (rr.type === 'A' || rr.type === 'AAAA') out.push({ address: rr.address, family: rr.type === 'A' ? 4 : 6 });
    }
  }
  return out;
}
