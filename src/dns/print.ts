// A DNS reply printed as dig prints it (header, flags, sections, the OPT
// pseudosection, the footer), for the web page's dig box. Decoding only: the
// reply comes from the server's own socket, as dig's would.

import { RCODE_NAMES, typeName } from './constants.js';
import { Malformed, readName } from './wire.js';

const HEADER = 12;
const OPT = 41;

export interface DigContext {
  name: string;
  type: string;
  /** `host#port`, as dig's SERVER line shows it. */
  server: string;
  transport: 'udp' | 'tcp';
  millis: number;
  /** dig's ";; Truncated, retrying in TCP mode." line, when the UDP reply had TC. */
  retriedOverTcp?: boolean;
}

/** An IPv6 address in its shortest form (RFC 5952), as dig prints it. */
function ipv6(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestAt = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestAt, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLength).join(':')}`;
}

function characterStrings(msg: Buffer, start: number, end: number): string {
  const out: string[] = [];
  for (let at = start; at < end; ) {
    const length = msg[at]!;
    out.push(JSON.stringify(msg.toString('latin1', at + 1, Math.min(end, at + 1 + length))));
    at += 1 + length;
  }
  return out.join(' ');
}

function rdataText(msg: Buffer, type: number, at: number, length: number): string {
  const end = at + length;
  switch (type) {
    case 1:
      return length === 4 ? [...msg.subarray(at, end)].join('.') : '';
    case 28:
      return length === 16 ? ipv6(msg.subarray(at, end)) : '';
    case 2:
    case 5:
    case 12:
      return readName(msg, at).name;
    case 33:
      return `${msg.readUInt16BE(at)} ${msg.readUInt16BE(at + 2)} ${msg.readUInt16BE(at + 4)} ${readName(msg, at + 6).name}`;
    case 16:
      return characterStrings(msg, at, end);
    case 6: {
      const mname = readName(msg, at);
      const rname = readName(msg, mname.next);
      const n = rname.next;
      return `${mname.name} ${rname.name} ${[0, 4, 8, 12, 16].map((k) => msg.readUInt32BE(n + k)).join(' ')}`;
    }
    default:
      return `\\# ${length}${length ? ` ${msg.subarray(at, end).toString('hex').toUpperCase()}` : ''}`;
  }
}

interface Record {
  line: string;
  opt?: { udp: number; version: number; dnssecOk: boolean; extendedRcode: number };
}

function readRecord(msg: Buffer, offset: number): { record: Record; next: number } {
  const { name, next } = readName(msg, offset);
  if (next + 10 > msg.length) throw new Malformed('record runs past the message');
  const type = msg.readUInt16BE(next);
  const klass = msg.readUInt16BE(next + 2);
  const ttl = msg.readUInt32BE(next + 4);
  const length = msg.readUInt16BE(next + 8);
  const rdata = next + 10;
  if (rdata + length > msg.length) throw new Malformed('record data runs past the message');
  if (type === OPT) {
    return { record: { line: '', opt: { udp: klass, extendedRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, dnssecOk: (ttl & 0x8000) !== 0 } }, next: rdata + length };
  }
  const className = klass === 1 ? 'IN' : `CLASS${klass}`;
  return { record: { line: `${name} ${ttl} ${className}\t${typeName(type)}\t${rdataText(msg, type, rdata, length)}` }, next: rdata + length };
}

/** The reply as dig's default output shows it; a message that cannot be read says so instead. */
export function digText(reply: Buffer, context: DigContext): string {
  const lines = [`; <<>> headless-dns dig <<>> ${context.name} ${context.type}${context.transport === 'tcp' && !context.retriedOverTcp ? ' +tcp' : ''}`];
  if (context.retriedOverTcp) lines.push(';; Truncated, retrying in TCP mode.');
  try {
    if (reply.length < HEADER) throw new Malformed('short reply');
    const flags = reply.readUInt16BE(2);
    const counts = [4, 6, 8, 10].map((at) => reply.readUInt16BE(at)) as [number, number, number, number];
    const names = [['qr', 0x8000], ['aa', 0x0400], ['tc', 0x0200], ['rd', 0x0100], ['ra', 0x0080], ['ad', 0x0020], ['cd', 0x0010]] as const;
    let offset = HEADER;
    const question: string[] = [];
    for (let i = 0; i < counts[0]; i++) {
      const { name, next } = readName(reply, offset);
      question.push(`;${name} ${reply.readUInt16BE(next + 2) === 1 ? 'IN' : `CLASS${reply.readUInt16BE(next + 2)}`}\t${typeName(reply.readUInt16BE(next))}`);
      offset = next + 4;
    }
    const sections: Record[][] = [[], [], []];
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < counts[s + 1]!; i++) {
        const read = readRecord(reply, offset);
        sections[s]!.push(read.record);
        offset = read.next;
      }
    }
    const opt = sections[2]!.find((r) => r.opt)?.opt;
    const rcode = (flags & 0xf) | ((opt?.extendedRcode ?? 0) << 4);
    lines.push(';; Got answer:');
    lines.push(`;; ->>HEADER<<- opcode: QUERY, status: ${RCODE_NAMES[rcode] ?? `RESERVED${rcode}`}, id: ${reply.readUInt16BE(0)}`);
    lines.push(`;; flags: ${names.filter(([, bit]) => flags & bit).map(([name]) => name).join(' ')}; QUERY: ${counts[0]}, ANSWER: ${counts[1]}, AUTHORITY: ${counts[2]}, ADDITIONAL: ${counts[3]}`);
    if (flags & 0x0100 && !(flags & 0x0080)) lines.push(';; WARNING: recursion requested but not available');
    if (opt) lines.push('', ';; OPT PSEUDOSECTION:', `; EDNS: version: ${opt.version}, flags:${opt.dnssecOk ? ' do' : ''}; udp: ${opt.udp}`);
    lines.push('', ';; QUESTION SECTION:', ...question);
    const titles = ['ANSWER', 'AUTHORITY', 'ADDITIONAL'];
    for (let s = 0; s < 3; s++) {
      const shown = sections[s]!.filter((r) => !r.opt);
      if (shown.length) lines.push('', `;; ${titles[s]} SECTION:`, ...shown.map((r) => r.line));
    }
  } catch (error) {
    lines.push(`;; Warning: the reply could not be read (${(error as Error).message})`);
  }
  lines.push('', `;; Query time: ${Math.round(context.millis)} msec`, `;; SERVER: ${context.server}(${context.server.split('#')[0]}) (${context.transport.toUpperCase()})`, `;; MSG SIZE  rcvd: ${reply.length}`);
  return `${lines.join('\n')}\n`;
}
