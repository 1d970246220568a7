// Address allocation for the Service and Pod ranges, the way the API server hands
// out cluster IPs: an address is either free or owned by exactly one object.

import { HeadlessDnsError } from '../errors.js';
import { formatIPv6, ipFamily, ipv4ToBytes, ipv6ToBytes } from '../model/ip.js';

export interface Cidr {
  family: 4 | 6;
  base: bigint;
  size: bigint;
  text: string;
}

function toBigInt(address: string): bigint {
  const bytes = ipFamily(address) === 4 ? ipv4ToBytes(address) : ipv6ToBytes(address);
  return bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

function fromBigInt(value: bigint, family: 4 | 6): string {
  const length = family === 4 ? 4 : 16;
  const bytes = Buffer.alloc(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return family === 4 ? bytes.join('.') : formatIPv6(bytes);
}

export function parseCidr(text: string): Cidr | undefined {
  const [address = '', bitsText = ''] = text.split('/');
  const family = ipFamily(address);
  const bits = Number(bitsText);
  const width = family === 4 ? 32 : 128;
  if (!family || !/^\d+$/.test(bitsText) || bits < 8 || bits > width - 2) return undefined;
  const hostBits = BigInt(width - bits);
  const base = (toBigInt(address) >> hostBits) << hostBits;
  return { family, base, size: 1n << hostBits, text };
}

export function cidrContains(cidr: Cidr, address: string): boolean {
  if (ipFamily(address) !== cidr.family) return false;
  const value = toBigInt(address);
  return value >= cidr.base && value < cidr.base + cidr.size;
}

/** Hands out addresses of one range in order, skipping the network address and any in use. */
export class AddressAllocator {
  private next = 1n;

  constructor(
    private readonly cidr: Cidr,
    private readonly inUse: (address: string) => boolean,
    private readonly first = 1n,
  ) {
    this.next = first;
  }

  get family(): 4 | 6 {
    return this.cidr.family;
  }

  get range(): string {
    return this.cidr.text;
  }

  contains(address: string): boolean {
    return cidrContains(this.cidr, address);
  }

  allocate(taken: ReadonlySet<string> = new Set()): string {
    const span = this.cidr.size - this.first - 1n;
    for (let tried = 0n; tried < span; tried++) {
      const offset = this.next;
      this.next = this.next + 1n >= this.cidr.size - 1n ? this.first : this.next + 1n;
      const address = fromBigInt(this.cidr.base + offset, this.cidr.family);
      if (!this.inUse(address) && !taken.has(address)) return address;
    }
    throw new HeadlessDnsError('IP_EXHAUSTED', `no free address left in ${this.cidr.text}`);
  }
}
