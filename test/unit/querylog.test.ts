// The query log's ring and its CoreDNS lines, written byte by byte: every field
// of the line for messages built here (EDNS or not, DO, odd bytes in a name, an
// IPv6 client, no reply), what followers get and when, and a ring outrun.

import { describe, expect, it } from 'vitest';
import { QTYPE } from '../../src/dns/constants.js';
import { LineBuffer } from '../../src/dns/linebuffer.js';
import { QueryLog } from '../../src/dns/querylog.js';
import { buildQuery } from '../../src/dns/wire.js';

/** A query with an OPT record (UDP size, DO) appended, as dig sends by default. */
function withOpt(query: Buffer, udpSize: number, dnssecOk: boolean): Buffer {
  const opt = Buffer.alloc(11);
  opt.writeUInt16BE(QTYPE.OPT, 1);
  opt.writeUInt16BE(udpSize, 3);
  opt[7] = dnssecOk ? 0x80 : 0;
  const out = Buffer.concat([query, opt]);
  out.writeUInt16BE(1, 10);
  return out;
}

/** A reply header: the query's id, these flags and rcode, `answers` records. */
function replyHead(id: number, flags: number, answers: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(id, 0);
  out.writeUInt16BE(flags, 2);
  out.writeUInt16BE(answers, 6);
  return out;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** Past the log's batch interval (50 ms). */
const nextBatch = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 80));

describe('QueryLog lines', () => {
  it('writes each field as the CoreDNS log plugin does', async () => {
    const log = new QueryLog();
    const printed: string[] = [];
    log.followLines((lines) => printed.push(lines));
    const srv = withOpt(buildQuery(5731, 'Kubia.default.svc.cluster.local', QTYPE.SRV), 1232, false);
    log.record(srv, replyHead(5731, 0x8500, 2), 214, 'udp', '127.0.0.1', 44109, 118);
    const dnssec = withOpt(buildQuery(7, 'kubia-0.kubia.default.svc.cluster.local', QTYPE.A), 4096, true);
    log.record(dnssec, replyHead(7, 0x8503, 0), 120, 'udp', '::1', 53000, 1_500_000);
    const plain = buildQuery(65535, 'x.cluster.local', QTYPE.AAAA, false);
    log.record(plain, replyHead(65535, 0x8780, 0), 33, 'tcp', '127.0.0.1', 1, 0.4);
    const small = withOpt(buildQuery(9, 'y.cluster.local', QTYPE.A), 100, false);
    log.record(small, undefined, 0, 'udp', undefined, undefined, 2);
    expect(printed).toEqual([]);
    // Not per turn of the event loop: in a batch, every 50 ms.
    await nextTurn();
    expect(printed).toEqual([]);
    await nextBatch();
    expect(printed).toEqual([
      [
        `[INFO] 127.0.0.1:44109 - 5731 "SRV IN Kubia.default.svc.cluster.local. udp ${srv.length} false 1232" NOERROR qr,aa,rd 214 0.000118s`,
        `[INFO] [::1]:53000 - 7 "A IN kubia-0.kubia.default.svc.cluster.local. udp ${dnssec.length} true 4096" NXDOMAIN qr,aa,rd 120 1.5s`,
        // TCP: {>bufsize} is 65535 (request.Size()); no EDNS: do is false; the duration to the nanosecond.
        `[INFO] 127.0.0.1:1 - 65535 "AAAA IN x.cluster.local. tcp ${plain.length} false 65535" NOERROR qr,aa,tc,rd,ra 33 0.0000004s`,
        // No reply; a UDP size under 512 counts as 512.
        `[INFO] ?:0 - 9 "A IN y.cluster.local. udp ${small.length} false 512" NONE  0 0.000002s`,
      ].join('\n'),
    ]);
  });

  it('escapes a name as dig prints it, and spells an unknown type as TYPEn', async () => {
    const log = new QueryLog();
    const printed: string[] = [];
    log.followLines((lines) => printed.push(lines));
    // Labels holding a dot, a backslash, a space and a byte above 0x7e.
    const labels = [Buffer.from('a.b'), Buffer.from('c\\d'), Buffer.from('e f'), Buffer.from([0xff])];
    const qname = Buffer.concat([...labels.flatMap((label) => [Buffer.from([label.length]), label]), Buffer.from([0])]);
    const msg = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), qname, Buffer.from([0xfd, 0xe8, 0, 1])]);
    log.record(msg, replyHead(1, 0x8001, 0), 12, 'udp', '10.0.0.1', 2, 1);
    log.flush();
    expect(printed).toEqual([`[INFO] 10.0.0.1:2 - 1 "TYPE65000 IN a\\.b.c\\\\d.e\\032f.\\255. udp ${msg.length} false 512" FORMERR qr 12 0.000001s`]);
    expect(log.list()[0]!.name).toBe('a\\.b.c\\\\d.e\\032f.\\255.');
  });

  it('writes each line from its own fields when the parts that repeat change from line to line', () => {
    const log = new QueryLog();
    const printed: string[] = [];
    log.followLines((lines) => printed.push(...lines.split('\n')));
    // Clients, types, EDNS and flags alternate (the last of each is kept beside its cache), and
    // 5,000 clients are more than a cache holds (4,096) before it starts again.
    const expected: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const client = i % 2 ? `10.0.${i >> 8}.${i & 255}` : 'fd00::1';
      const type = i % 3 ? QTYPE.A : 300;
      const edns = i % 4 === 0;
      const tcp = i % 5 === 0;
      const flags = i % 2 ? 0x8500 : 0x8183;
      const query = buildQuery(i, `n${i}.cluster.local`, type, false);
      const msg = edns ? withOpt(query, 1232 + (i % 7), i % 8 === 0) : query;
      log.record(msg, replyHead(i, flags, 1), 40, tcp ? 'tcp' : 'udp', client, 1000 + i, 3);
      expected.push(
        `[INFO] ${client.includes(':') ? `[${client}]` : client}:${1000 + i} - ${i} "${type === 300 ? 'TYPE300' : 'A'} IN n${i}.cluster.local. ${tcp ? 'tcp' : 'udp'} ${msg.length} ${edns && i % 8 === 0} ${tcp ? 65535 : edns ? 1232 + (i % 7) : 512}" ${flags === 0x8500 ? 'NOERROR qr,aa,rd' : 'NXDOMAIN qr,rd,ra'} 40 0.000003s`,
      );
    }
    log.flush();
    expect(printed).toEqual(expected);
  });

  it('keeps names of every length up to 255 octets, in the slot or beside it, and a slot reused by a short name shows that name', () => {
    const log = new QueryLog(2);
    const lines: string[] = [];
    log.followLines((text) => lines.push(...text.split('\n')));
    /** A wire name of `octets` octets (labels of 0xff bytes, root label included). */
    const wireName = (octets: number): Buffer => {
      const parts: Buffer[] = [];
      let left = octets - 1;
      while (left > 0) {
        let length = Math.min(63, left - 1);
        // Never one octet left over: a label has at least one.
        if (left - (length + 1) === 1) length--;
        parts.push(Buffer.from([length]), Buffer.alloc(length, 0xff));
        left -= length + 1;
      }
      return Buffer.concat([...parts, Buffer.from([0])]);
    };
    const query = (qname: Buffer): Buffer => Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), qname, Buffer.from([0, 1, 0, 1])]);
    const shown = (qname: Buffer): string => {
      let text = '';
      for (let at = 0; qname[at]! > 0; at += qname[at]! + 1) text += `${'\\255'.repeat(qname[at]!)}.`;
      return text;
    };
    for (const octets of [64, 65, 66, 255, 3]) {
      const qname = wireName(octets);
      log.record(query(qname), replyHead(1, 0x8400, 0), 12, 'udp', '127.0.0.1', 1, 1);
      log.flush();
      expect(lines.at(-1)).toContain(` "A IN ${shown(qname)} udp `);
      expect(log.list().at(-1)!.name).toBe(shown(qname));
    }
    // 256 octets is no name: not recorded.
    log.record(query(Buffer.concat([wireName(255).subarray(0, 254), Buffer.from([1, 0x61, 0])])), replyHead(1, 0x8400, 0), 12, 'udp', '127.0.0.1', 1, 1);
    expect(log.list()).toHaveLength(2);
  });

  it('gives followers what is new in one batch, in order, and stops when told', async () => {
    const log = new QueryLog();
    const lines: string[] = [];
    const names: string[] = [];
    const stopLines = log.followLines((text) => lines.push(...text.split('\n')));
    log.follow((records) => names.push(...records.map((record) => record.name)));
    for (let i = 0; i < 3000; i++) log.record(buildQuery(i, `n${i}.cluster.local`, QTYPE.A), replyHead(i, 0x8400, 1), 50, 'udp', '127.0.0.1', 1000, 10);
    await nextBatch();
    expect(lines).toHaveLength(3000);
    expect(lines[2999]).toContain('"A IN n2999.cluster.local. udp');
    expect(names).toEqual(Array.from({ length: 3000 }, (_, i) => `n${i}.cluster.local.`));
    stopLines();
    log.record(buildQuery(1, 'after.cluster.local', QTYPE.A), replyHead(1, 0x8400, 1), 50, 'udp', '127.0.0.1', 1000, 10);
    await nextBatch();
    expect(lines).toHaveLength(3000);
    expect(names.at(-1)).toBe('after.cluster.local.');
  });

  it('clear() gives followers what they have not had yet, then empties the ring', () => {
    const log = new QueryLog();
    const lines: string[] = [];
    log.followLines((text) => lines.push(text));
    log.record(buildQuery(1, 'a.cluster.local', QTYPE.A), replyHead(1, 0x8400, 1), 50, 'udp', '127.0.0.1', 1, 10);
    log.clear();
    expect(lines).toHaveLength(1);
    expect(log.list()).toEqual([]);
  });

  it('says how many lines it could not print when one batch outruns the ring', async () => {
    const log = new QueryLog(100);
    const lines: string[] = [];
    log.followLines((text) => lines.push(...text.split('\n')));
    for (let i = 0; i < 250; i++) log.record(buildQuery(i, `n${i}.cluster.local`, QTYPE.A), replyHead(i, 0x8400, 1), 50, 'udp', '127.0.0.1', 1, 10);
    await nextBatch();
    expect(lines[0]).toBe('[WARNING] headless-dns: 150 queries not printed: more came in 50 ms than the log keeps (100)');
    expect(lines).toHaveLength(101);
    expect(lines[1]).toContain(' n150.cluster.local. ');
    expect(log.list().map((record) => record.name)).toEqual(Array.from({ length: 100 }, (_, i) => `n${i + 150}.cluster.local.`));
  });

  it('gives byte followers whole lines, each with its newline, in chunks of their own to keep', () => {
    const log = new QueryLog(300);
    const chunks: Uint8Array[] = [];
    const texts: string[] = [];
    log.followBytes((chunk) => chunks.push(chunk));
    log.followLines((text) => texts.push(text));
    for (let i = 0; i < 450; i++) log.record(buildQuery(i, `n${i}.cluster.local`, QTYPE.A), replyHead(i, 0x8400, 1), 50, 'udp', '127.0.0.1', 1, 10);
    log.flush();
    const first = Buffer.from(chunks[0]!).toString('latin1');
    // 300 lines of a 205-character name: more than one 64 KiB chunk.
    const long = `${'a'.repeat(63)}.`.repeat(3) + 'cluster.local';
    for (let i = 0; i < 300; i++) log.record(buildQuery(i, long, QTYPE.A), replyHead(i, 0x8400, 1), 50, 'udp', '127.0.0.1', 1, 10);
    log.flush();
    expect(chunks.length).toBeGreaterThan(2);
    const all = chunks.map((chunk) => Buffer.from(chunk).toString('latin1'));
    // Chunks end at a line's end, and each stays as given (none is reused for the next).
    for (const text of all) expect(text.endsWith('\n')).toBe(true);
    expect(all[0]).toBe(first);
    expect(all.join('')).toBe(`${texts.join('\n')}\n`);
    const lines = all.join('').split('\n');
    expect(lines[0]).toBe('[WARNING] headless-dns: 150 queries not printed: more came in 50 ms than the log keeps (300)');
    expect(lines).toHaveLength(1 + 300 + 300 + 1);
    expect(lines.at(-2)).toContain(` ${long}. udp `);
  });
});

describe('LineBuffer', () => {
  it('writes integers of every size as String() does, zero-padded to a width', () => {
    const out = new LineBuffer();
    const cases: [number, number][] = [[0, 1], [9, 1], [10, 1], [99999, 1], [100000, 1], [999999, 1], [1000000, 1], [65535, 1], [999999999, 1], [1000000000, 1], [2147483647, 1], [2147483648, 1], [4294967295, 1], [123456789012, 1], [Number.MAX_SAFE_INTEGER, 1], [2147483648, 12], [5, 3], [42, 3], [255, 3], [7, 9], [123, 9]];
    for (const [value, width] of cases) {
      out.int(value, width);
      expect(out.take()).toBe(String(value).padStart(width, '0'));
    }
  });
});
