// The query log (issue 16 item 1): what the code under test asked and got,
// from the fixture, from GET /debug/queries (and its watch), and as CoreDNS
// log lines on serve's stderr.

import { get } from 'node:http';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../../src/index.js';
import { dig, hasDig } from '../support/dig.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { type Serving, startServe } from '../support/serve.js';

describe('the fixture', () => {
  let cluster: StartedCluster;
  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE], queryLog: true });
  });
  afterAll(() => cluster?.close());

  it('records each query as asked, with what it got', async () => {
    const resolver = cluster.resolver();
    await resolver.resolveSrv('_http._tcp.kubia.default.svc.cluster.local');
    await resolver.resolve4('kubia-9.kubia.default.svc.cluster.local').catch(() => undefined);
    const srv = cluster.queries({ name: '_http._tcp', type: 'SRV' });
    expect(srv).toHaveLength(1);
    expect(srv[0]).toMatchObject({ client: expect.stringMatching(/^127\.0\.0\.1:\d+$/), transport: 'udp', name: '_http._tcp.kubia.default.svc.cluster.local.', type: 'SRV', rcode: 'NOERROR', answers: 2, truncated: false, fault: null });
    expect(srv[0]!.latencyMicros).toBeGreaterThanOrEqual(0);
    expect(Date.parse(srv[0]!.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(cluster.queries({ rcode: 'NXDOMAIN' }).map((q) => q.name)).toEqual(['kubia-9.kubia.default.svc.cluster.local.']);
    // "Never an A for a short name": nothing else was asked.
    expect(cluster.queries({ type: 'A' })).toHaveLength(1);
    cluster.clearQueries();
    expect(cluster.queries()).toEqual([]);
  });

  it('gives the lines to a function as text, or to a stream as bytes, the last batch on close()', async () => {
    const texts: string[] = [];
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk);
        done();
      },
    });
    const own = await startCluster({ api: false, manifests: [KUBIA_EXAMPLE], queryLogLines: (lines) => texts.push(lines), queryLogOutput: stream });
    const resolver = own.resolver();
    await resolver.resolveSrv('kubia.default.svc.cluster.local');
    await resolver.resolve4('kubia-0.kubia.default.svc.cluster.local');
    // No wait for the next batch: close() gives what is left.
    await own.close();
    const lines = texts.join('\n').split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "SRV IN kubia\.default\.svc\.cluster\.local\. udp \d+ false 512" NOERROR qr,aa,rd \d+ \d+(\.\d+)?s$/);
    expect(lines[1]).toContain('"A IN kubia-0.kubia.default.svc.cluster.local. udp ');
    // The same lines, each ending in its newline.
    expect(Buffer.concat(chunks).toString('latin1')).toBe(`${lines.join('\n')}\n`);
  });

  it('refuses a queryLogOutput that is not a stream, naming it', async () => {
    await expect(startCluster({ queryLogOutput: 'stderr' as unknown as Writable })).rejects.toThrow('queryLogOutput must be a stream (an object with write(chunk))');
  });

  it('is off unless asked for', async () => {
    const plain = await startCluster({ api: false });
    try {
      expect(() => plain.queries()).toThrow(/start it with queryLog: true/);
    } finally {
      await plain.close();
    }
  });
});

describe.runIf(hasDig)('serve --log-queries', () => {
  let serving: Serving;
  let port: number;
  beforeAll(async () => {
    serving = await startServe(['--log-queries']);
    port = Number(/ready dns=127\.0\.0\.1:(\d+)/.exec(serving.stdout())![1]);
  });
  afterAll(() => serving?.stop());

  const fetchJson = (path: string): Promise<{ status: number; body: { items: Record<string, unknown>[] } }> =>
    fetch(`${serving.api}${path}`).then(async (r) => ({ status: r.status, body: (await r.json()) as { items: Record<string, unknown>[] } }));

  it('prints each query as CoreDNS log does', async () => {
    await dig(port, 'Kubia.default.svc.cluster.local', 'SRV');
    await dig(port, 'nope.default.svc.cluster.local', 'A', ['+tcp']);
    await dig(port, 'kubia-0.kubia.default.svc.cluster.local', 'A', ['+dnssec']);
    await dig(port, 'kubia-1.kubia.default.svc.cluster.local', 'A', ['+noedns']);
    const end = Date.now() + 3000;
    while (!serving.stderr().includes('kubia-1.kubia') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(serving.stderr()).toMatch(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "SRV IN Kubia\.default\.svc\.cluster\.local\. udp \d+ false 1232" NOERROR qr,aa,rd \d+ \d+(\.\d+)?s$/m);
    expect(serving.stderr()).toMatch(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN nope\.default\.svc\.cluster\.local\. tcp \d+ false 65535" NXDOMAIN qr,aa,rd \d+ \d+(\.\d+)?s$/m);
    // {>do} and {>bufsize} as CoreDNS's request: the OPT's DO bit and size, 512 without EDNS (65535 over TCP, above).
    expect(serving.stderr()).toMatch(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN kubia-0\.kubia\.default\.svc\.cluster\.local\. udp \d+ true 1232" NOERROR qr,aa,rd \d+ \d+(\.\d+)?s$/m);
    expect(serving.stderr()).toMatch(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN kubia-1\.kubia\.default\.svc\.cluster\.local\. udp \d+ false 512" NOERROR qr,aa,rd \d+ \d+(\.\d+)?s$/m);
  });

  it('GET /debug/queries lists them, filtered; ?watch=true streams new ones', async () => {
    const all = await fetchJson('/debug/queries?type=SRV');
    expect(all.status).toBe(200);
    expect(all.body.items.at(-1)).toMatchObject({ name: 'Kubia.default.svc.cluster.local.', type: 'SRV', rcode: 'NOERROR', answers: 2, transport: 'udp' });
    expect((await fetchJson('/debug/queries?rcode=NXDOMAIN')).body.items.map((q) => q.transport)).toEqual(['tcp']);
    expect((await fetch(`${serving.api}/debug/queries?since=yesterday`)).status).toBe(400);
    const streamed = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const req = get(`${serving.api}/debug/queries?watch=true&name=kubia-1`, (res) => {
        let buffered = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          buffered += chunk;
          const line = buffered.split('\n').find(Boolean);
          if (line) {
            req.destroy();
            resolve(JSON.parse(line) as Record<string, unknown>);
          }
        });
      });
      req.on('error', reject);
      setTimeout(() => void dig(port, 'kubia-1.kubia.default.svc.cluster.local', 'A'), 200);
    });
    expect(streamed).toMatchObject({ name: 'kubia-1.kubia.default.svc.cluster.local.', type: 'A', rcode: 'NOERROR', answers: 1 });
  });
});
