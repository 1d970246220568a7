// serve --state FILE, loading a damaged file: an empty file starts fresh; NUL
// bytes, a snapshot cut short, a lost stretch of lines, a changed line, a record
// of the wrong shape and an object that fails validation each stop the start with
// STATE_UNREADABLE naming the file and the line, and leave the file untouched;
// only a torn last line (a write never acknowledged) is dropped, with a note.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type KubeObject, type StartedCluster, startCluster } from '../../src/index.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

// No selector, so no EndpointSlice controller write: one apply is one journal line.
const service = (name: string): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { ports: [{ name: 'http', port: 80 }] } }) as KubeObject;

function stateFile(content?: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'hdns-state-hard-')), 'store.jsonl');
  if (content !== undefined) writeFileSync(path, content);
  return path;
}

async function start(state: string, extra: { manifests?: string[] } = {}): Promise<{ cluster: StartedCluster; log: string[] }> {
  const log: string[] = [];
  const cluster = await startCluster({ dnsPort: 0, apiPort: 0, state, log: (line) => log.push(line), ...extra });
  return { cluster, log };
}

/** Starting from this file fails with STATE_UNREADABLE and leaves the file byte for byte as it was. */
async function refused(state: string): Promise<string> {
  const before = readFileSync(state);
  const error = await start(state).then(
    async ({ cluster }) => {
      await cluster.close();
      throw new Error('started from a damaged state');
    },
    (e: unknown) => e as Error & { code?: string },
  );
  expect(error.code).toBe('STATE_UNREADABLE');
  expect(error.message.startsWith(`${state}: `)).toBe(true);
  expect(readFileSync(state).equals(before)).toBe(true);
  return error.message;
}

/** A line in the journal's format: `{"n":SEQ,"r":RECORD,"crc":"…"}`, the CRC-32 over everything before `,"crc"`. */
function line(seq: number, record: unknown): string {
  const body = `{"n":${seq},"r":${JSON.stringify(record)}`;
  return `${body},"crc":"${zlib.crc32(body).toString(16).padStart(8, '0')}"}\n`;
}

/** A real journal: a fresh start, then `writes` batches of one new Service each, then a clean close. */
async function journal(writes: number): Promise<{ state: string; lines: string[] }> {
  const state = stateFile();
  const { cluster } = await start(state);
  for (let i = 0; i < writes; i++) cluster.apply([service(`s${i}`)]);
  await cluster.close();
  const lines = readFileSync(state, 'utf8').split('\n').filter(Boolean);
  expect(lines).toHaveLength(1 + writes);
  return { state, lines };
}

const names = (cluster: StartedCluster): string[] => cluster.list('Service').map((s) => s.metadata.name).sort();

describe('serve --state, a damaged file', () => {
  it('starts fresh from an empty file: the initial namespaces exist and manifests apply as on a first start', async () => {
    const state = stateFile('');
    const { cluster, log } = await start(state, { manifests: [KUBIA_EXAMPLE] });
    try {
      expect(cluster.list('Namespace').map((n) => n.metadata.name).sort()).toEqual(['default', 'kube-system']);
      expect(cluster.get('StatefulSet', 'kubia')).toBeDefined();
      expect(log.join('\n')).toMatch(/is empty: starting as on a first start/);
    } finally {
      await cluster.close();
    }
    // The empty file now holds a snapshot, and a restart restores from it.
    expect(readFileSync(state, 'utf8')).toMatch(/^\{"n":0,"r":\{"t":"snapshot"/);
    const again = await start(state);
    expect(again.cluster.get('StatefulSet', 'kubia')).toBeDefined();
    await again.cluster.close();
  });

  it('refuses NUL bytes, naming the line: a whole file of them, and a block of them in the middle', async () => {
    expect(await refused(stateFile(Buffer.alloc(4096)))).toMatch(/line 1 of the state file holds NUL bytes/);
    const { state, lines } = await journal(3);
    writeFileSync(state, [lines[0], lines[1], '\0'.repeat(lines[2]!.length), lines[3], ''].join('\n'));
    expect(await refused(state)).toMatch(/line 3 of the state file holds NUL bytes/);
  });

  it('refuses a snapshot cut short, even as the only line', async () => {
    const { state, lines } = await journal(0);
    writeFileSync(state, lines[0]!.slice(0, Math.floor(lines[0]!.length / 2)));
    expect(await refused(state)).toMatch(/line 1 of the state file is not valid JSON; it should be the snapshot.*cut short or damaged/);
  });

  it('refuses a journal that lost lines in the middle, naming the missing records', async () => {
    const { state, lines } = await journal(5);
    writeFileSync(state, [lines[0], lines[1], lines[4], lines[5], ''].join('\n'));
    expect(await refused(state)).toMatch(/line 3 of the state file is record 4, but record 2 should come next: records 2\.\.3 are missing/);
    // A cut that joins the front of one line to the back of another.
    writeFileSync(state, [lines[0], lines[1]!.slice(0, 40) + lines[3]!.slice(40), lines[4], ''].join('\n'));
    expect(await refused(state)).toMatch(/line 2 of the state file fails its checksum/);
    // A line out of its place.
    writeFileSync(state, [lines[0], lines[2], lines[1], ''].join('\n'));
    expect(await refused(state)).toMatch(/line 2 of the state file is record 2, but record 1 should come next/);
    // A journal without its snapshot.
    writeFileSync(state, [lines[2], lines[3], ''].join('\n'));
    expect(await refused(state)).toMatch(/line 1 of the state file is a batch, but a state file starts with a snapshot/);
  });

  it('refuses a line changed after it was written', async () => {
    const { state, lines } = await journal(2);
    writeFileSync(state, [lines[0], lines[1]!.replace('"s0"', '"s9"'), lines[2], ''].join('\n'));
    expect(await refused(state)).toMatch(/line 2 of the state file fails its checksum/);
  });

  it('refuses records of the wrong shape with file and line, in both formats, even as the last line', async () => {
    const { state, lines } = await journal(1);
    const snapshot = (JSON.parse(lines[0]!) as { r: { objects: unknown[] } }).r;
    for (const [record, problem] of [
      [{}, /line 2 of the state file has record type undefined/],
      [null, /line 2 of the state file is not a record object/],
      [{ t: 'batch', rv: 9 }, /line 2 of the state file has no "put" list/],
      [{ t: 'batch', rv: 9, put: [{ kind: 'Service' }], del: [] }, /line 2 of the state file has put\[0\] that has no metadata.name/],
      [{ t: 'batch', rv: 9, put: [], del: [{ name: 'x' }] }, /line 2 of the state file has del\[0\] that is not/],
    ] as const) {
      // The format of this version: a correct checksum around a bad record.
      writeFileSync(state, lines[0] + '\n' + line(1, record));
      expect(await refused(state)).toMatch(problem);
      // The format of the earlier version: bare JSON lines.
      writeFileSync(state, `${JSON.stringify({ t: 'snapshot', rv: 2, objects: snapshot.objects })}\n${JSON.stringify(record)}\n`);
      expect(await refused(state)).toMatch(problem);
    }
    // Whole JSON without a checksum is no torn write, so not dropped as one.
    writeFileSync(state, `${lines[0]}\nnull\n`);
    expect(await refused(state)).toMatch(/line 2 of the state file has no checksum/);
  });

  it('refuses a restored object that fails validation, naming it', async () => {
    const { state, lines } = await journal(1);
    const first = JSON.parse(lines[0]!) as { r: { rv: number; objects: KubeObject[] } };
    const bad = { ...service('bad'), metadata: { name: 'bad', namespace: 'default', uid: 'u-1', resourceVersion: '1' } } as KubeObject;
    (bad as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port = 0;
    writeFileSync(state, line(0, { ...first.r, objects: [...first.r.objects, bad] }));
    expect(await refused(state)).toMatch(/the restored Service "default\/bad" \(last written on line 1\) is invalid: spec\.ports\[0\]\.port/);
    // An object in a namespace the state lacks, and a state without the initial namespaces.
    const stray = { ...service('stray'), metadata: { name: 'stray', namespace: 'nowhere', uid: 'u-2', resourceVersion: '1' } };
    writeFileSync(state, line(0, { ...first.r, objects: [...first.r.objects, stray] }));
    expect(await refused(state)).toMatch(/Service "nowhere\/stray".* is in namespace "nowhere", which the state does not hold/);
    writeFileSync(state, line(0, { t: 'snapshot', rv: 1, objects: [] }));
    expect(await refused(state)).toMatch(/the state holds no Namespace "default"/);
  });

  it('drops a torn last line with a note naming the record, and the next append does not join it', async () => {
    const { state, lines } = await journal(3);
    writeFileSync(state, [lines[0], lines[1], lines[2], lines[3]!.slice(0, 30)].join('\n'));
    const first = await start(state);
    try {
      expect(names(first.cluster)).toEqual(['s0', 's1']);
      expect(first.log.join('\n')).toMatch(/dropped the torn last line 4 \(record 3\)/);
      first.cluster.apply([service('after')]);
    } finally {
      await first.cluster.close();
    }
    const second = await start(state);
    expect(names(second.cluster)).toEqual(['after', 's0', 's1']);
    expect(second.log.join('\n')).not.toMatch(/torn/);
    await second.cluster.close();
    // A torn last line whose number shows that lines before it are gone.
    writeFileSync(state, [lines[0], lines[1], lines[3]!.slice(0, 30)].join('\n'));
    expect(await refused(state)).toMatch(/line 3 of the state file is torn and is record 3, but record 2 should come next/);
  });

  it('reads a file of the earlier format (bare JSON lines) and rewrites it in the current one', async () => {
    const { lines } = await journal(0);
    const snapshot = (JSON.parse(lines[0]!) as { r: { rv: number; objects: KubeObject[] } }).r;
    const made = { ...service('old'), metadata: { name: 'old', namespace: 'default', uid: 'u-old', resourceVersion: String(snapshot.rv + 1), creationTimestamp: '2024-01-01T00:00:00Z', generation: 1 } } as KubeObject;
    (made as { spec: { clusterIP?: string; clusterIPs?: string[]; type?: string } }).spec = { ...(made as { spec: object }).spec, type: 'ClusterIP', clusterIP: '10.96.0.50', clusterIPs: ['10.96.0.50'] };
    const state = stateFile(`${JSON.stringify(snapshot)}\n${JSON.stringify({ t: 'batch', rv: snapshot.rv + 1, put: [made], del: [] })}\n{"t":"batch","rv":`);
    const { cluster, log } = await start(state);
    try {
      expect(cluster.get('Service', 'old')?.spec.clusterIP).toBe('10.96.0.50');
      expect(log.join('\n')).toMatch(/format of an earlier headless-dns/);
      expect(log.join('\n')).toMatch(/dropped the torn last line 3/);
    } finally {
      await cluster.close();
    }
    expect(readFileSync(state, 'utf8')).toMatch(/^\{"n":0,"r":\{"t":"snapshot".*,"crc":"[0-9a-f]{8}"\}\n$/);
  });
});
