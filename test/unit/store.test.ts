import { describe, expect, it } from 'vitest';
import type { KubeObject, Service } from '../../src/model/types.js';
import { ObjectStore } from '../../src/store/store.js';

const service = (name: string, spec: Partial<Service['spec']> = {}, namespace = 'default'): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace },
  spec: { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

const snapshot = (store: ObjectStore): string => JSON.stringify(store.all());

describe('ObjectStore', () => {
  it('starts with the default and kube-system namespaces', () => {
    const store = new ObjectStore();
    expect(store.list('Namespace').map((n) => n.metadata.name)).toEqual(['default', 'kube-system']);
  });

  it('applies all or nothing: one bad object leaves the store untouched and tells nobody', () => {
    const store = new ObjectStore();
    const events: unknown[] = [];
    store.subscribe((batch) => events.push(batch));
    const before = snapshot(store);
    expect(() => store.apply([service('a'), service('b', {}, 'missing')])).toThrow(expect.objectContaining({ code: 'NAMESPACE_NOT_FOUND' }));
    expect(snapshot(store)).toBe(before);
    expect(events).toEqual([]);
  });

  it('objects may come after the namespace that holds them in one batch', () => {
    const store = new ObjectStore();
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
    store.apply([ns, service('web', {}, 'shop')]);
    expect(store.get('Service', 'shop', 'web')).toBeDefined();
  });

  it('allocates cluster IPs, keeps them on update, refuses taken ones', () => {
    const store = new ObjectStore();
    const [web] = store.apply([service('web')]) as Service[];
    expect(web!.spec.clusterIP).toMatch(/^10\.96\.0\.\d+$/);
    const [again] = store.apply([service('web', { selector: { app: 'x' } })]) as Service[];
    expect(again!.spec.clusterIP).toBe(web!.spec.clusterIP);
    expect(again!.metadata.generation).toBe(2);
    expect(() => store.apply([service('other', { clusterIP: web!.spec.clusterIP })])).toThrow(expect.objectContaining({ code: 'INVALID_OBJECT' }));
    expect(() => store.apply([service('web', { clusterIP: '10.96.9.9' })])).toThrow(/immutable/);
    const [dual] = store.apply([service('dual', { ipFamilyPolicy: 'RequireDualStack' })]) as Service[];
    expect(dual!.spec.clusterIPs).toHaveLength(2);
  });

  it('keeps uid and creationTimestamp, moves resourceVersion, and refuses stale versions', () => {
    const store = new ObjectStore();
    const [first] = store.apply([service('web')]);
    const [second] = store.apply([service('web', { selector: { a: 'b' } })]);
    expect(second!.metadata.uid).toBe(first!.metadata.uid);
    expect(Number(second!.metadata.resourceVersion)).toBeGreaterThan(Number(first!.metadata.resourceVersion));
    const stale = { ...service('web'), metadata: { name: 'web', namespace: 'default', resourceVersion: first!.metadata.resourceVersion! } };
    expect(() => store.apply([stale])).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(() => store.apply([service('web')], 'create')).toThrow(expect.objectContaining({ code: 'ALREADY_EXISTS' }));
  });

  it('deleting a namespace deletes what is in it; default cannot be deleted', () => {
    const store = new ObjectStore();
    store.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, service('web', {}, 'shop')]);
    store.delete('Namespace', undefined, 'shop');
    expect(store.get('Service', 'shop', 'web')).toBeUndefined();
    expect(() => store.delete('Namespace', undefined, 'default')).toThrow(expect.objectContaining({ code: 'INVALID_OBJECT' }));
    expect(() => store.delete('Service', 'default', 'nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('stored objects cannot be changed behind its back', () => {
    const store = new ObjectStore();
    const [web] = store.apply([service('web')]) as Service[];
    expect(() => {
      (web!.spec as { clusterIP?: string }).clusterIP = '1.2.3.4';
    }).toThrow();
  });
});
