import { isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

/**
 * net.isIPv4's grammar (four decimal parts of 0–255, no leading zeros) by
 * hand: record building asks for every address of every answer it prepares,
 * and the regular expression showed in profiles at 100k pods.
 */
export function isDottedQuad(address: string): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= address.length; i++) {
    const c = i < address.length ? address.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || value > 255 || ++parts > 4) return false;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && value === 0) return false;
      if (++digits > 3) return false;
      value = value * 10 + (c - 0x30);
    } else {
      return false;
    }
  }
  return parts === 4;
}

function hexGroup(address: string, from: number, to: number): boolean {
  if (to <= from || to - from > 4) return false;
  for (let i = from; i < to; i++) {
    const c = address.charCodeAt(i) | 0x20;
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/**
 * net.isIPv6's grammar by hand for the addresses we meet (no zone index): the
 * first call of net.isIPv6 compiles its regular expression, ~10 ms of a cold
 * start. Groups of 1–4 hex digits, eight of them, or fewer around one `::`
 * (which stands for at least one), an embedded dotted quad counting as two.
 */
export function isIPv6Address(address: string): boolean {
  if (address.includes('%')) return isIPv6(address);
  const gap = address.indexOf('::');
  if (gap !== -1 && address.indexOf('::', gap + 1) !== -1) return false;
  const count = (from: number, to: number, last: boolean): number => {
    if (from === to) return 0;
    let groups = 0;
    let start = from;
    for (let i = from; i <= to; i++) {
      if (i < to && address.charCodeAt(i) !== 0x3a) continue;
      if (last && i === to && address.lastIndexOf('.', to) > start) {
        if (!isDottedQuad(address.slice(start, to))) return -1;
        groups += 2;
      } else {
        if (!hexGroup(address, start, i)) return -1;
        groups += 1;
      }
      start = i + 1;
    }
    return groups;
  };
  if (gap === -1) return count(0, address.length, true) === 8;
  const head = count(0, gap, false);
  const tail = count(gap + 2, address.length, true);
  return head >= 0 && tail >= 0 && head + tail <= 7;
}

export function ipFamily(address: string): IpFamily | undefined {
  if (isDottedQuad(address)) return 4;
  if (address.includes(':') && isIPv6Address(address)) return 6;
  return undefined;
}

export function ipv4ToBytes(address: string): Buffer {
  return Buffer.from(address.split('.').map((part) => Number(part)));
}

export function ipv6ToBytes(address: string): Buffer {
  let text = address;
  const out = Buffer.alloc(16);
  // An embedded dotted quad (::ffff:10.0.0.1) fills the last four bytes.
  const lastColon = text.lastIndexOf(':');
  let tailBytes: Buffer | undefined;
  if (text.includes('.', lastColon)) {
    tailBytes = ipv4ToBytes(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...new Array<string>(tail === undefined ? 0 : zeros).fill('0'), ...tailGroups];
  groups.forEach((group, i) => out.writeUInt16BE(parseInt(group, 16), i * 2));
  if (tailBytes) tailBytes.copy(out, 12);
  return out;
}

/** RFC 5952 text form: what Go's net.IP.String() prints, and what reverse lookups compare against. */
export function formatIPv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function canonicalIp(address: string): string | undefined {
  const family = ipFamily(address);
  if (family === 4) return ipv4ToBytes(address).join('.');
  if (family === 6) return formatIPv6(ipv6ToBytes(address));
  return undefined;
}

/**
 * The endpoint label CoreDNS derives from an address when the endpoint has no
 * hostname (`endpointHostname` in plugin/kubernetes/kubernetes.go): separators
 * become dashes, and a trailing dash gets a `0` so the label does not end in `-`.
 */
export function dashedIp(address: string): string {
  if (address.includes('.')) return address.replaceAll('.', '-');
  const dashed = address.replaceAll(':', '-');
  return dashed.endsWith('-') ? `${dashed}0` : dashed;
}
