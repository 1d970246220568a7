// Patches as kubectl sends them (captured from kubectl 1.32 apply).

import { describe, expect, it } from 'vitest';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../src/api/patch.js';

const sts = {
  spec: {
    replicas: 2,
    template: { spec: { containers: [{ name: 'kubia', image: 'luksa/kubia-pet', ports: [{ name: 'http', containerPort: 8080 }] }] } },
  },
};

describe('strategic merge patch', () => {
  it('adds a port and an env var by merge key, keeping the rest (kubectl apply, list grown)', () => {
    const patched = strategicMergePatch(sts, {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'kubia' }],
            containers: [{ '$setElementOrder/ports': [{ containerPort: 8080 }, { containerPort: 9090 }], env: [{ name: 'FOO', value: 'bar' }], name: 'kubia', ports: [{ containerPort: 9090, name: 'metrics' }] }],
          },
        },
      },
    } as never);
    expect(patched).toEqual({
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              { name: 'kubia', image: 'luksa/kubia-pet', env: [{ name: 'FOO', value: 'bar' }], ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9090, name: 'metrics' }] },
            ],
          },
        },
      },
    });
  });

  it('removes them again with null and $patch: delete (kubectl apply, list shrunk)', () => {
    const grown = strategicMergePatch(sts, { spec: { template: { spec: { containers: [{ name: 'kubia', env: [{ name: 'FOO', value: 'bar' }], ports: [{ containerPort: 9090, name: 'metrics' }] }] } } } });
    const shrunk = strategicMergePatch(grown, {
      spec: { template: { spec: { containers: [{ env: null, name: 'kubia', ports: [{ $patch: 'delete', containerPort: 9090 }] }] } } },
    } as never);
    expect(shrunk).toEqual(sts);
  });

  it('replaces lists without a merge key, and honours $patch: replace and $deleteFromPrimitiveList', () => {
    expect(strategicMergePatch({ spec: { args: ['a', 'b'] } }, { spec: { args: ['c'] } })).toEqual({ spec: { args: ['c'] } });
    expect(strategicMergePatch({ spec: { containers: [{ name: 'a' }, { name: 'b' }] } }, { spec: { containers: [{ name: 'c' }, { $patch: 'replace' }] } } as never)).toEqual({ spec: { containers: [{ name: 'c' }] } });
    expect(strategicMergePatch({ metadata: { finalizers: ['x', 'y'] } }, { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } } as never)).toEqual({ metadata: { finalizers: ['y'] } });
    expect(strategicMergePatch({ status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'PodScheduled', status: 'True' }] } }, { status: { conditions: [{ type: 'Ready', status: 'False' }] } })).toEqual({
      status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'PodScheduled', status: 'True' }] },
    });
  });
});

describe('merge patch (RFC 7386) and JSON patch (RFC 6902)', () => {
  it('merge: objects merge, lists and scalars replace, null deletes', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] })).toEqual({ a: { c: 2, d: 3 }, l: [3] });
  });

  it('json patch: add, remove, replace, move, copy, test', () => {
    const doc = { spec: { replicas: 1, ports: [{ port: 80 }] } };
    expect(
      jsonPatch(doc, [
        { op: 'replace', path: '/spec/replicas', value: 3 },
        { op: 'add', path: '/spec/ports/-', value: { port: 81 } },
        { op: 'copy', from: '/spec/replicas', path: '/spec/copied' },
        { op: 'move', from: '/spec/copied', path: '/spec/moved' },
        { op: 'remove', path: '/spec/ports/0' },
        { op: 'test', path: '/spec/moved', value: 3 },
      ]),
    ).toEqual({ spec: { replicas: 3, ports: [{ port: 81 }], moved: 3 } });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/spec/replicas', value: 2 }])).toThrow(/test/);
    expect(() => jsonPatch(doc, [{ op: 'remove', path: '/spec/nope' }])).toThrow(/does not exist/);
  });
});
