import { describe, expect, it } from 'vitest';
import { copyJson, freezeJson, isDeepFrozen, sameJson, shareWith } from '../../src/model/json.js';
import type { Pod } from '../../src/model/types.js';
import { ObjectStore } from '../../src/store/store.js';

describe('sameJson', () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ['equal scalars', 1, 1, true],
    ['different scalars', 'a', 'b', false],
    ['number vs string', 1, '1', false],
    ['null vs object', null, {}, false],
    ['nested equal', { a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] }, true],
    ['nested different', { a: [1, { b: 'x' }] }, { a: [1, { b: 'y' }] }, false],
    ['key order does not matter', { a: 1, b: 2 }, { b: 2, a: 1 }, true],
    ['undefined property counts as absent', { a: 1, b: undefined }, { a: 1 }, true],
    ['missing property', { a: 1 }, { a: 1, b: 2 }, false],
    ['array vs object', [1], { 0: 1 }, false],
    ['array lengths', [1, 2], [1, 2, 3], false],
    ['empty object vs empty array', {}, [], false],
  ];
  it.each(cases)('%s', (_name, a, b, expected) => {
    expect(sameJson(a, b)).toBe(expected);
    expect(sameJson(b, a)).toBe(expected);
  });
});

describe('copyJson', () => {
  it('copies what is not frozen, shares what is deeply frozen, drops undefined properties', () => {
    const shared = freezeJson({ containers: [{ name: 'c' }] });
    const input = { a: { b: 1 }, shared, gone: undefined };
    const copy = copyJson(input);
    expect(copy).toEqual({ a: { b: 1 }, shared });
    expect('gone' in copy).toBe(false);
    expect(copy.a).not.toBe(input.a);
    expect(copy.shared).toBe(shared);
  });

  it('copies a frozen container whose children are not frozen', () => {
    const inner = { x: 1 };
    const shallow = Object.freeze({ inner });
    expect(isDeepFrozen(shallow)).toBe(false);
    const copy = copyJson({ shallow });
    expect(copy.shallow).not.toBe(shallow);
    inner.x = 2;
    expect(copy.shallow.inner.x).toBe(1);
  });
});

describe('shareWith', () => {
  it('returns the previous value when equal', () => {
    const previous = freezeJson({ a: [1, 2], b: { c: 'd' } });
    expect(shareWith({ a: [1, 2], b: { c: 'd' } }, previous)).toBe(previous);
  });

  it('keeps changed parts and takes the previous value of unchanged ones', () => {
    const previous = freezeJson({ labels: { app: 'x' }, status: { phase: 'Pending' } });
    const next = { labels: { app: 'x' }, status: { phase: 'Running' } };
    const result = shareWith(next, previous);
    expect(result).toBe(next);
    expect(result.labels).toBe(previous.labels);
    expect(result.status).toEqual({ phase: 'Running' });
  });

  it('sees a removed or added property as a change', () => {
    const previous = freezeJson({ a: 1, b: 2 });
    expect(shareWith({ a: 1 } as typeof previous, previous)).not.toBe(previous);
    expect(shareWith({ a: 1, b: 2, c: 3 } as typeof previous, previous)).not.toBe(previous);
  });
});

describe('the store keeps versions small', () => {
  it('a status write shares the unchanged metadata and spec parts with the version before', () => {
    const store = new ObjectStore();
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    const [first] = store.apply([pod]) as Pod[];
    const [second] = store.apply([{ ...first!, metadata: { ...first!.metadata }, status: { phase: 'Running' } }], 'update') as Pod[];
    expect(second!.metadata.resourceVersion).not.toBe(first!.metadata.resourceVersion);
    expect(second!.metadata.labels).toBe(first!.metadata.labels);
    expect(second!.spec.containers).toBe(first!.spec.containers);
    expect(Object.isFrozen(second!.status)).toBe(true);
  });

  it('a stored object does not change when the caller later changes what it wrote', () => {
    const store = new ObjectStore();
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    store.apply([pod]);
    pod.metadata.labels!['app'] = 'changed';
    pod.spec.containers[0]!.image = 'changed';
    const stored = store.get('Pod', 'default', 'p')!;
    expect(stored.metadata.labels).toEqual({ app: 'a' });
    expect(stored.spec.containers[0]!.image).toBe('i');
  });
});
