// DNS code points we use (RFC 1035, 3596, 2782, 6891). dns2's Packet.TYPE has
// the same numbers; ours are `as const` so the compiler can check switches.

export const QTYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

export const CLASS_IN = 1;

export const RCODE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RCODE).map(([name, code]) => [code, name]));

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(QTYPE).map(([name, code]) => [code, name]));

export function typeName(code: number): string {
  return TYPE_NAMES[code] ?? `TYPE${code}`;
}

export function typeCode(name: string): number | undefined {
  const upper = name.toUpperCase();
  if (upper in QTYPE) return QTYPE[upper as keyof typeof QTYPE];
  const match = /^TYPE(\d+)$/.exec(upper);
  return match ? Number(match[1]) : undefined;
}
