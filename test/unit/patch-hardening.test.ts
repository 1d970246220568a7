// Patches as an attacker sends them: small bodies that build huge objects,
// pointers to inherited properties, lists that make a merge quadratic, and a
// protobuf body carrying a prototype key. Each is refused with a Kubernetes
// Status and leaves the store as it was, or (for the big lists) completes in
// linear time with the same result as the old item-by-item scan.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import { MAX_BODY_BYTES } from '../../src/api/body.js';
import { MAX_JSON_PATCH_OPERATIONS, jsonPatch, mergePatch, strategicMergePatch } from '../../src/api/patch.js';
import { ApiError } from '../../src/api/status.js';
import type { ObjectStore } from '../../src/store/store.js';
import { type TestApi, kubiaApi } from '../support/api-app.js';

let store: ObjectStore;
let api: ApiApp;
let harness: TestApi;

beforeAll(() => {
  harness = kubiaApi();
  ({ store, api } = harness);
});
afterAll(() => harness.close());

const SVC = '/api/v1/namespaces/default/services/kubia';
const STS = '/apis/apps/v1/namespaces/default/statefulsets/kubia';
const POD = '/api/v1/namespaces/default/pods/kubia-0';
const JSON_PATCH = 'application/json-patch+json';
const MERGE = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';

async function send(method: 'PATCH' | 'POST', url: string, payload: string | Buffer, contentType: string) {
  const response = await api.app.inject({ method, url, payload, headers: { 'content-type': contentType } });
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, any> };
}

/** Sends a request that must be refused, and checks it is a 4xx Status that changed nothing. */
async function refused(method: 'PATCH' | 'POST', url: string, payload: string | Buffer, contentType: string) {
  const before = JSON.stringify(store.all());
  const reply = await send(method, url, payload, contentType);
  expect(reply.status, reply.body.message).toBeGreaterThanOrEqual(400);
  expect(reply.status).toBeLessThan(500);
  expect(reply.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: reply.status });
  expect(JSON.stringify(store.all())).toBe(before);
  return reply;
}

function thrown(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

const doubling = (n: number) => JSON.stringify([{ op: 'add', path: '/spec/x', value: [] }, ...Array.from({ length: n }, () => ({ op: 'copy', from: '/spec/x', path: '/spec/x/-' }))]);

describe('JSON patch: the work and the size are bounded', () => {
  it('the 30-copy doubling bomb (1.7 KB) is refused with 413 before memory is spent', async () => {
    const body = doubling(30);
    expect(body.length).toBeLessThan(2000);
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    const reply = await refused('PATCH', SVC, body, JSON_PATCH);
    const ms = performance.now() - started;
    expect(reply.status).toBe(413);
    expect(reply.body).toMatchObject({ reason: 'RequestEntityTooLarge' });
    expect(reply.body.message).toContain(`limit is ${MAX_BODY_BYTES}`);
    // The old code went from 80 MB to 4.3 GB and died; refusing costs a few megabytes.
    expect(process.memoryUsage().rss - rss).toBeLessThan(512 * 1024 * 1024);
    console.log(`30-copy bomb refused in ${ms.toFixed(0)} ms`);
  });

  it('refuses more than 10000 operations with 413, as kube-apiserver does, and accepts 10000', () => {
    const tests = (n: number) => Array.from({ length: n }, () => ({ op: 'test', path: '/a', value: 1 }));
    expect(jsonPatch({ a: 1 }, tests(MAX_JSON_PATCH_OPERATIONS))).toEqual({ a: 1 });
    const error = thrown(() => jsonPatch({ a: 1 }, tests(MAX_JSON_PATCH_OPERATIONS + 1)));
    expect(error).toMatchObject({ code: 413, reason: 'RequestEntityTooLarge', message: 'The allowed maximum operations in a JSON patch is 10000, got 10001' });
  });

  it('keeps the size exact op by op: a result of exactly the limit is accepted, one byte more is refused', () => {
    // Every kind of op, on objects and arrays, then a string that pads the result to the limit.
    const doc = { spec: { list: [1, 2, 3], keep: { a: 'b' }, gone: 'x' } };
    const ops = [
      { op: 'add', path: '/spec/list/0', value: 'first' },
      { op: 'add', path: '/spec/list/-', value: { k: [true, null] } },
      { op: 'remove', path: '/spec/list/1' },
      { op: 'replace', path: '/spec/list/0', value: 12345 },
      { op: 'copy', from: '/spec/keep', path: '/spec/copied' },
      { op: 'move', from: '/spec/copied', path: '/spec/list/1' },
      { op: 'move', from: '/spec/gone', path: '/spec/renamed' },
      { op: 'remove', path: '/spec/renamed' },
      { op: 'add', path: '/spec/keep', value: 'replaced by add' },
      { op: 'add', path: '/spec/empty', value: {} },
      { op: 'add', path: '/spec/empty/only', value: 'é' },
      { op: 'remove', path: '/spec/empty/only' },
    ];
    const result = jsonPatch(doc, ops) as Record<string, unknown>;
    const size = Buffer.byteLength(JSON.stringify(result));
    const pad = (n: number) => ({ op: 'add', path: '/pad', value: 'x'.repeat(n) });
    const fits = MAX_BODY_BYTES - size - '"pad":"",'.length;
    expect(Buffer.byteLength(JSON.stringify(jsonPatch(doc, [...ops, pad(fits)])))).toBe(MAX_BODY_BYTES);
    expect(thrown(() => jsonPatch(doc, [...ops, pad(fits + 1)]))).toMatchObject({ code: 413 });
  });

  it('bounds the copies of one patch even when removes keep the object small', () => {
    const big = { spec: { blob: 'x'.repeat(1024 * 1024) } };
    const churn = Array.from({ length: 5 }, () => [
      { op: 'copy', from: '/spec/blob', path: '/spec/again' },
      { op: 'remove', path: '/spec/again' },
    ]).flat();
    expect(thrown(() => jsonPatch(big, churn))).toMatchObject({ code: 413, message: expect.stringContaining('copies') });
  });

  it('bounds the work of inserts at the front of a long list', () => {
    const long = { spec: { x: new Array<number>(1_000_000).fill(0) } };
    const started = performance.now();
    const error = thrown(() => jsonPatch(long, Array.from({ length: MAX_JSON_PATCH_OPERATIONS }, () => ({ op: 'add', path: '/spec/x/0', value: 0 }))));
    expect(error).toMatchObject({ code: 413 });
    console.log(`front inserts on a 1M list refused in ${(performance.now() - started).toFixed(0)} ms`);
  });

  it('refuses a result nested deeper than a body may be (moves nest without growing), with 422', () => {
    const ops: unknown[] = [{ op: 'add', path: '/a', value: {} }];
    for (let i = 0; i < 150; i++) {
      ops.push({ op: 'add', path: '/b', value: {} }, { op: 'move', from: '/a', path: '/b/a' }, { op: 'move', from: '/b', path: '/a' });
    }
    expect(thrown(() => jsonPatch({}, ops))).toMatchObject({ code: 422, message: expect.stringContaining('deeper than 100') });
  });

  it('refuses a move into its own child', () => {
    expect(thrown(() => jsonPatch({ a: { b: 1 } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]))).toMatchObject({ code: 400 });
  });
});

describe('merge and strategic merge patches: the result is bounded', () => {
  const half = { metadata: { annotations: { a: 'x'.repeat(2 * 1024 * 1024) } } };
  const other = { metadata: { annotations: { b: 'y'.repeat(2 * 1024 * 1024) } } };

  it('refuses a merge patch whose result is larger than a body may be, with 413', () => {
    expect(thrown(() => mergePatch(half, other))).toMatchObject({ code: 413, reason: 'RequestEntityTooLarge' });
    expect(thrown(() => strategicMergePatch(half, other))).toMatchObject({ code: 413, reason: 'RequestEntityTooLarge' });
    expect(mergePatch(half, { metadata: { annotations: { a: 'small' } } })).toEqual({ metadata: { annotations: { a: 'small' } } });
  });

  it('refuses, through the API, a patch within the body limit whose result is not, and changes nothing', async () => {
    // A body just under the limit (which fastify would let through), on top of the stored Service.
    const blob = 'x'.repeat(MAX_BODY_BYTES - 100);
    const merge = JSON.stringify({ spec: { blob } });
    expect(Buffer.byteLength(merge)).toBeLessThan(MAX_BODY_BYTES);
    for (const type of [MERGE, STRATEGIC]) {
      const reply = await refused('PATCH', SVC, merge, type);
      expect(reply.status).toBe(413);
      expect(reply.body.reason).toBe('RequestEntityTooLarge');
    }
    expect((await refused('PATCH', SVC, JSON.stringify([{ op: 'add', path: '/spec/blob', value: blob }]), JSON_PATCH)).status).toBe(413);
  });
});

describe('pointers and merges address own properties only', () => {
  it.each([
    ['copy from an inherited method into toJSON', [{ op: 'copy', from: '/metadata/toString', path: '/spec/toJSON' }]],
    ['move from an inherited method', [{ op: 'move', from: '/metadata/valueOf', path: '/spec/x' }]],
    ['remove an inherited method', [{ op: 'remove', path: '/spec/hasOwnProperty' }]],
    ['replace an inherited method', [{ op: 'replace', path: '/spec/toString', value: 1 }]],
    ['test an inherited method', [{ op: 'test', path: '/metadata/isPrototypeOf', value: {} }]],
    ['read through an inherited method', [{ op: 'copy', from: '/metadata/toString/name', path: '/spec/x' }]],
    ['an array length', [{ op: 'copy', from: '/spec/ports/length', path: '/spec/x' }]],
    ['an array index with a leading zero', [{ op: 'copy', from: '/spec/ports/00', path: '/spec/x' }]],
    ['an empty array index', [{ op: 'copy', from: '/spec/ports/', path: '/spec/x' }]],
    ['an array index with blanks', [{ op: 'replace', path: '/spec/ports/ 0', value: { port: 81 } }]],
    ['add below an inherited method', [{ op: 'add', path: '/spec/toString/x', value: 1 }]],
  ])('JSON patch: %s is refused and changes nothing', async (_name, ops) => {
    const reply = await refused('PATCH', SVC, JSON.stringify(ops), JSON_PATCH);
    expect([400, 422]).toContain(reply.status);
  });

  it('pure functions read no inherited property either', () => {
    expect(thrown(() => jsonPatch({ metadata: {} }, [{ op: 'copy', from: '/metadata/toString', path: '/spec' }]))).toMatchObject({ code: 400 });
    // $retainKeys keeps the keys the patch itself names, not those its prototype has.
    expect(strategicMergePatch({ labels: { toString: 'x', app: 'a' } }, { labels: { $retainKeys: ['app'] } })).toEqual({ labels: { app: 'a' } });
    // Keys named like Object.prototype's methods are plain data keys.
    expect(mergePatch({ labels: { app: 'a' } }, { labels: { toString: 'x' } })).toEqual({ labels: { app: 'a', toString: 'x' } });
    expect(strategicMergePatch({ labels: {} }, { labels: { valueOf: { a: 1 } } })).toEqual({ labels: { valueOf: { a: 1 } } });
  });

  it('a patched spec that is no longer an object is refused with 422 naming spec', async () => {
    for (const url of [SVC, STS, POD]) {
      for (const [payload, type] of [['{"spec":"str"}', MERGE], ['{"spec":5}', STRATEGIC], ['[{"op":"replace","path":"/spec","value":"x"}]', JSON_PATCH]] as const) {
        const reply = await refused('PATCH', url, payload, type);
        expect(reply.status).toBe(422);
        expect(reply.body.details.causes).toContainEqual(expect.objectContaining({ field: 'spec' }));
      }
    }
  });
});

type Item = Record<string, unknown>;

/** The strategic list merge as it was (a scan per item), kept as the reference for the keyed one. */
function referenceList(key: string, original: Item[], patch: Item[]): unknown[] {
  const out: unknown[] = structuredClone(original);
  for (const item of patch) {
    const index = out.findIndex((existing) => typeof existing === 'object' && existing !== null && (existing as Item)[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = strategicMergePatch(out[index], item);
    else out.push(strategicMergePatch(undefined, item));
  }
  return out;
}

describe('strategic merge patch: lists merge by key in linear time', () => {
  it('gives the same lists as the item-by-item scan, with duplicates, deletes, missing and changed keys', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const item = (): Item => {
      const roll = random(10);
      const base = roll === 0 ? {} : roll === 1 ? { name: null } : { name: `c${random(6)}` };
      return { ...base, v: random(100) };
    };
    for (let round = 0; round < 300; round++) {
      const original = Array.from({ length: random(8) }, item);
      const patch = Array.from({ length: random(8) }, () => {
        const p = item();
        return random(4) === 0 ? { ...p, $patch: 'delete' } : p;
      });
      const expected = referenceList('name', original, patch);
      expect(strategicMergePatch({ containers: original }, { containers: patch })).toEqual({ containers: expected });
    }
  });

  it('merges 30k and 90k containers in well under a second each (the scan took 6 s and 56 s)', () => {
    for (const n of [30_000, 90_000]) {
      const containers = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'i' }));
      const patch = { spec: { template: { spec: { containers: containers.map((c, i) => ({ name: c.name, image: i % 2 ? 'j' : 'i' })) } } } };
      const started = performance.now();
      const result = strategicMergePatch({ spec: { template: { spec: { containers } } } }, patch) as typeof patch;
      const ms = performance.now() - started;
      expect(result.spec.template.spec.containers).toHaveLength(n);
      expect(result.spec.template.spec.containers[n - 1]).toEqual({ name: `c${n - 1}`, image: 'j' });
      console.log(`strategic merge of ${n} containers: ${ms.toFixed(0)} ms`);
      // Generous: a quadratic merge is 20 to 100 times slower than this.
      expect(ms).toBeLessThan(3000);
    }
  });

  it('deletes 90k items from a primitive list of 90k in linear time', () => {
    const finalizers = Array.from({ length: 90_000 }, (_, i) => `f${i}`);
    const started = performance.now();
    const result = strategicMergePatch({ metadata: { finalizers } }, { metadata: { '$deleteFromPrimitiveList/finalizers': finalizers.slice(1) } });
    expect(result).toEqual({ metadata: { finalizers: ['f0'] } });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('a 30k-container strategic patch of the StatefulSet through the API completes', async () => {
    const containers = Array.from({ length: 30_000 }, (_, i) => ({ name: `c${i}`, image: 'i' }));
    const patch = JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'kubia', image: 'luksa/kubia-pet' }, ...containers] } } } });
    const original = (await api.app.inject({ method: 'GET', url: STS })).json<{ spec: { template: { spec: { containers: unknown[] } } } }>().spec.template.spec.containers;
    try {
      const started = performance.now();
      const reply = await send('PATCH', STS, patch, STRATEGIC);
      console.log(`30k-container strategic PATCH of the StatefulSet: ${reply.status} in ${(performance.now() - started).toFixed(0)} ms`);
      expect(reply.status).toBe(200);
      expect(reply.body.spec.template.spec.containers).toHaveLength(30_001);
      expect(reply.body.spec.template.spec.containers[0]).toMatchObject({ name: 'kubia', ports: [{ name: 'http', containerPort: 8080 }] });
    } finally {
      const restore = JSON.stringify([{ op: 'replace', path: '/spec/template/spec/containers', value: original }]);
      expect((await send('PATCH', STS, restore, JSON_PATCH)).status).toBe(200);
    }
  }, 60_000);
});

/** A Namespace as kubectl's typed client sends it: the k8s envelope around a v1.Namespace. */
function protobufNamespace(name: string, labels: Record<string, string>): Buffer {
  const varint = (n: number): Buffer => {
    const bytes: number[] = [];
    while (n > 0x7f) {
      bytes.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    bytes.push(n);
    return Buffer.from(bytes);
  };
  const field = (number: number, value: Buffer | string): Buffer => {
    const data = typeof value === 'string' ? Buffer.from(value) : value;
    return Buffer.concat([varint((number << 3) | 2), varint(data.length), data]);
  };
  const entries = Object.entries(labels).map(([k, v]) => field(11, Buffer.concat([field(1, k), field(2, v)])));
  const meta = Buffer.concat([field(1, name), ...entries]);
  const unknown = Buffer.concat([field(1, Buffer.concat([field(1, 'v1'), field(2, 'Namespace')])), field(2, field(1, meta))]);
  return Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), unknown]);
}

describe('protobuf bodies get the forbidden-key check', () => {
  const NAMESPACES = '/api/v1/namespaces';
  const PROTOBUF = 'application/vnd.kubernetes.protobuf';

  it.each(['__proto__', 'constructor', 'prototype'])('a label named %s is refused with 400', async (key) => {
    const reply = await refused('POST', NAMESPACES, protobufNamespace(`pb-${key.replace(/_/g, '')}`, { [key]: 'x' }), PROTOBUF);
    expect(reply.status).toBe(400);
    expect(reply.body.message).toContain(`"${key}"`);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('a protobuf Namespace with ordinary labels is still created', async () => {
    const reply = await send('POST', NAMESPACES, protobufNamespace('pb-ok', { team: 'dns' }), PROTOBUF);
    expect(reply.status).toBe(201);
    expect(reply.body.metadata).toMatchObject({ name: 'pb-ok', labels: { team: 'dns' } });
  });
});
