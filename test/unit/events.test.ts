// The event recorder (client-go tools/record as the controllers use it):
// naming, folding of repeats, aggregation of similar events, the spam
// filter, expiry after the TTL, the per-namespace bound, one write per round;
// and the events.k8s.io view, the Event field selectors and the Event printer.

import { afterEach, describe, expect, it } from 'vitest';
import { eventsV1FieldSelector, fromEventsV1, toEventsV1 } from '../../src/api/eventsv1.js';
import { parseFieldSelector } from '../../src/api/selectors.js';
import { toTable } from '../../src/api/tables.js';
import { EventCorrelator, StoredEventRecorder, eventTimestamp } from '../../src/controllers/events.js';
import { ManualClock } from '../../src/model/clock.js';
import type { KubeEvent, KubeObject, Pod, StatefulSet } from '../../src/model/types.js';
import { ObjectStore } from '../../src/store/store.js';

const START = Date.parse('2026-01-01T00:00:00Z');

function setup(options: { ttlSeconds?: number; maxPerNamespace?: number } = {}) {
  const store = new ObjectStore();
  const clock = new ManualClock(START);
  const errors: unknown[] = [];
  const recorder = new StoredEventRecorder(store, { clock, ...options, onError: (e) => errors.push(e) });
  return { store, clock, recorder, errors, events: () => store.list('Event', 'default').sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)) };
}

let open: StoredEventRecorder[] = [];
afterEach(() => {
  for (const r of open) r.close();
  open = [];
});

function started(options?: Parameters<typeof setup>[0]) {
  const s = setup(options);
  open.push(s.recorder);
  return s;
}

const sts: StatefulSet = {
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'kubia', namespace: 'default', uid: 'uid-kubia', resourceVersion: '7' },
  spec: { selector: { matchLabels: { app: 'kubia' } }, template: { spec: { containers: [{ name: 'kubia' }] } } },
};
const pod = (name: string): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '9' }, spec: { containers: [{ name: 'kubia' }] } });

describe('StoredEventRecorder', () => {
  it('writes a core/v1 Event as client-go makeEvent builds it', () => {
    const { recorder, events } = started();
    recorder.record(sts, 'Normal', 'SuccessfulCreate', 'create Pod kubia-0 in StatefulSet kubia successful', 'statefulset-controller');
    recorder.flush();
    const [event] = events();
    // <name>.<hex UnixNano>: the clock's milliseconds as nanoseconds.
    expect(event!.metadata.name).toBe(`kubia.${(BigInt(START) * 1_000_000n).toString(16)}`);
    expect(event).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'default' },
      involvedObject: { kind: 'StatefulSet', namespace: 'default', name: 'kubia', uid: 'uid-kubia', apiVersion: 'apps/v1', resourceVersion: '7' },
      reason: 'SuccessfulCreate',
      message: 'create Pod kubia-0 in StatefulSet kubia successful',
      type: 'Normal',
      source: { component: 'statefulset-controller' },
      firstTimestamp: '2026-01-01T00:00:00Z',
      lastTimestamp: '2026-01-01T00:00:00Z',
      count: 1,
      eventTime: null,
      reportingComponent: 'statefulset-controller',
      reportingInstance: '',
    });
  });

  it('names events uniquely and in order even within one clock tick', () => {
    const { recorder, events } = started();
    for (let i = 0; i < 3; i++) recorder.record(pod(`kubia-${i}`), 'Normal', 'Started', 'Started container kubia', { component: 'kubelet', host: 'headless-dns' }, 'spec.containers{kubia}');
    recorder.flush();
    const suffixes = events().map((e) => BigInt(`0x${e.metadata.name.split('.')[1]}`));
    expect(new Set(suffixes).size).toBe(3);
    expect(events()[0]).toMatchObject({ source: { component: 'kubelet', host: 'headless-dns' }, reportingInstance: 'headless-dns', involvedObject: { fieldPath: 'spec.containers{kubia}' } });
  });

  it('puts events about cluster-scoped objects in default, with no namespace in the reference', () => {
    const { recorder, events } = started();
    recorder.record({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'headless-dns', uid: 'n1' } }, 'Normal', 'NodeNotReady', 'Node headless-dns status is now: NodeNotReady', 'node-controller');
    recorder.flush();
    expect(events()[0]!.involvedObject).toEqual({ kind: 'Node', name: 'headless-dns', uid: 'n1', apiVersion: 'v1' });
  });

  // eventLogger.eventObserve, EventAggregator and the spam filter, as state → what is stored.
  const cases: {
    name: string;
    steps: { advance?: number; message?: string; object?: KubeObject; times?: number }[];
    expect: { count: number; message: string; first?: string; last?: string }[];
  }[] = [
    {
      name: 'a repeat folds into the first: count 2, lastTimestamp moves, firstTimestamp and name stay',
      steps: [{ message: 'create Pod kubia-0 in StatefulSet kubia successful' }, { advance: 5000, message: 'create Pod kubia-0 in StatefulSet kubia successful' }],
      expect: [{ count: 2, message: 'create Pod kubia-0 in StatefulSet kubia successful', first: '2026-01-01T00:00:00Z', last: '2026-01-01T00:00:05Z' }],
    },
    {
      name: 'different messages stay apart below the aggregation threshold',
      steps: [{ message: 'create Pod kubia-0 in StatefulSet kubia successful' }, { message: 'create Pod kubia-1 in StatefulSet kubia successful' }],
      expect: [
        { count: 1, message: 'create Pod kubia-0 in StatefulSet kubia successful' },
        { count: 1, message: 'create Pod kubia-1 in StatefulSet kubia successful' },
      ],
    },
    {
      name: 'the 10th distinct message in 10 minutes becomes one combined event, which later ones fold into',
      steps: Array.from({ length: 12 }, (_, i) => ({ message: `create Pod kubia-${i} in StatefulSet kubia successful` })),
      expect: [
        ...Array.from({ length: 9 }, (_, i) => ({ count: 1, message: `create Pod kubia-${i} in StatefulSet kubia successful` })),
        { count: 3, message: '(combined from similar events): create Pod kubia-11 in StatefulSet kubia successful' },
      ],
    },
    {
      name: 'similar events more than 10 minutes apart start over',
      steps: [
        ...Array.from({ length: 9 }, (_, i) => ({ message: `m${i}` })),
        { advance: 601_000, message: 'm9' },
      ],
      expect: Array.from({ length: 10 }, (_, i) => ({ count: 1, message: `m${i}` })),
    },
    {
      // The dropped ones are still counted (eventObserve runs before the filter), so the next write says 31.
      name: 'the spam filter writes 25 events per source, object and type, then one per 5 minutes',
      steps: [{ message: 'same', times: 30 }, { advance: 299_000, message: 'same' }, { advance: 1000, message: 'same' }],
      expect: [{ count: 32, message: 'same', last: '2026-01-01T00:05:00Z' }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { recorder, clock, events } = started();
      for (const step of c.steps) {
        if (step.advance) clock.advance(step.advance);
        for (let i = 0; i < (step.times ?? 1); i++) recorder.record(step.object ?? sts, 'Normal', 'SuccessfulCreate', step.message ?? 'x', 'statefulset-controller');
        recorder.flush();
      }
      const stored = events().map((e) => ({ count: e.count, message: e.message, first: e.firstTimestamp, last: e.lastTimestamp }));
      expect(stored.length).toBe(c.expect.length);
      for (let i = 0; i < c.expect.length; i++) {
        const { first, last, ...rest } = c.expect[i]!;
        expect(stored[i]).toMatchObject({ ...rest, ...(first ? { first } : {}), ...(last ? { last } : {}) });
      }
    });
  }

  it('folds a repeat made in the same round into one write', () => {
    const { store, recorder } = started();
    const batches: number[] = [];
    store.subscribe((events) => batches.push(events.filter((e) => e.object.kind === 'Event').length));
    for (let i = 0; i < 3; i++) recorder.record(sts, 'Normal', 'SuccessfulDelete', 'delete Pod kubia-2 in StatefulSet kubia successful', 'statefulset-controller');
    recorder.record(pod('kubia-0'), 'Normal', 'Killing', 'Stopping container kubia', 'kubelet');
    recorder.flush();
    expect(batches).toEqual([2]);
    expect(store.list('Event').map((e) => e.count).sort()).toEqual([1, 3]);
  });

  it('writes at the end of the store round that recorded them: one write, after the controllers', () => {
    const { store, recorder } = started();
    const order: string[] = [];
    store.subscribe((events) => order.push(events.map((e) => e.object.kind).join(',')));
    // A "controller" that writes a pod and records an event about it, on the first round only.
    let done = false;
    store.onIdle(() => {
      if (done) return;
      done = true;
      const [made] = store.apply([pod('kubia-0')], 'create') as Pod[];
      recorder.record(made!, 'Normal', 'Scheduled', 'Successfully assigned default/kubia-0 to headless-dns', 'default-scheduler');
    });
    store.apply([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubia' }, spec: { clusterIP: 'None' } }], 'create');
    expect(order).toEqual(['Service', 'Pod', 'Event']);
  });

  it('flushes by itself soon after an event recorded outside any write', async () => {
    const { store, recorder } = started();
    recorder.record(sts, 'Warning', 'FailedCreate', 'create Pod kubia-0 in StatefulSet kubia failed error: x', 'statefulset-controller');
    expect(store.list('Event')).toHaveLength(0);
    await new Promise((resolve) => setImmediate(resolve));
    await store.settled();
    expect(store.list('Event')).toHaveLength(1);
  });

  it('expires an Event one TTL after its last write (a fold restarts it)', () => {
    const { recorder, clock, events } = started({ ttlSeconds: 3600 });
    recorder.record(sts, 'Normal', 'A', 'first', 'c');
    recorder.record(pod('kubia-0'), 'Normal', 'B', 'second', 'c');
    recorder.flush();
    clock.advance(1800_000);
    recorder.record(pod('kubia-0'), 'Normal', 'B', 'second', 'c');
    recorder.flush();
    clock.advance(1800_000 - 1);
    expect(events()).toHaveLength(2);
    clock.advance(1);
    expect(events().map((e) => e.reason)).toEqual(['B']);
    clock.advance(1800_000);
    expect(events()).toHaveLength(0);
    expect(clock.pending).toBe(0);
  });

  it('expires Events written through the API too, and ones already stored at start', () => {
    const store = new ObjectStore();
    const clock = new ManualClock(START);
    const at = eventTimestamp(START - 3000_000);
    store.apply([{ apiVersion: 'v1', kind: 'Event', metadata: { name: 'old.1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'old' }, lastTimestamp: at } as KubeEvent], 'create');
    const recorder = new StoredEventRecorder(store, { clock });
    open.push(recorder);
    store.apply([{ apiVersion: 'v1', kind: 'Event', metadata: { name: 'mine.1', namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'mine' } } as KubeEvent], 'create');
    clock.advance(600_000);
    expect(store.list('Event').map((e) => e.metadata.name)).toEqual(['mine.1']);
    clock.advance(3000_000);
    expect(store.list('Event')).toHaveLength(0);
  });

  it('keeps at most maxPerNamespace Events, dropping the least recently written', () => {
    const { recorder, events, store } = started({ maxPerNamespace: 5 });
    for (let i = 0; i < 4; i++) recorder.record(pod(`p${i}`), 'Normal', 'Started', 'Started container kubia', 'kubelet');
    recorder.flush();
    // p0 is written again: it is now the most recent.
    recorder.record(pod('p0'), 'Normal', 'Started', 'Started container kubia', 'kubelet');
    recorder.flush();
    for (let i = 4; i < 7; i++) recorder.record(pod(`p${i}`), 'Normal', 'Started', 'Started container kubia', 'kubelet');
    recorder.flush();
    expect(events().map((e) => e.involvedObject.name).sort()).toEqual(['p0', 'p3', 'p4', 'p5', 'p6']);
    // A batch larger than the bound writes only its newest.
    for (let i = 10; i < 20; i++) recorder.record(pod(`p${i}`), 'Normal', 'Started', 'Started container kubia', 'kubelet');
    recorder.flush();
    expect(events().map((e) => e.involvedObject.name).sort()).toEqual(['p15', 'p16', 'p17', 'p18', 'p19']);
    expect(recorder.countIn('default')).toBe(5);
    expect(store.list('Event')).toHaveLength(5);
  });

  it('drops what the API server would refuse (a name past 253 characters, a namespace that is gone) without failing the rest', () => {
    const { recorder, store, errors } = started();
    recorder.record(pod('x'.repeat(240)), 'Normal', 'Started', 'Started container kubia', 'kubelet');
    recorder.record({ ...pod('elsewhere'), metadata: { ...pod('elsewhere').metadata, namespace: 'gone' } }, 'Normal', 'Started', 'Started container kubia', 'kubelet');
    recorder.record(pod('ok'), 'Normal', 'Started', 'Started container kubia', 'kubelet');
    recorder.flush();
    expect(store.list('Event').map((e) => e.involvedObject.name)).toEqual(['ok']);
    expect(errors).toEqual([]);
  });

  it('a deleted Event that repeats is written again with the count it had, as recordToSink creates it after a failed patch', () => {
    const { recorder, store } = started();
    recorder.record(sts, 'Normal', 'R', 'm', 'c');
    recorder.flush();
    const name = store.list('Event')[0]!.metadata.name;
    store.delete('Event', 'default', name);
    recorder.record(sts, 'Normal', 'R', 'm', 'c');
    recorder.flush();
    expect(store.list('Event').map((e) => [e.metadata.name, e.count])).toEqual([[name, 2]]);
  });
});

describe('EventCorrelator', () => {
  it('returns undefined once the spam filter has no token left', () => {
    const clock = new ManualClock(START);
    let n = 0;
    const correlator = new EventCorrelator(clock, (name) => `${name}.${n++}`);
    const event = (message: string): KubeEvent => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `x.${n++}`, namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'x', uid: 'u' },
      type: 'Warning',
      reason: 'BackOff',
      message,
      source: { component: 'kubelet' },
    });
    const results = Array.from({ length: 26 }, () => correlator.correlate(event('Back-off restarting failed container')));
    expect(results.slice(0, 25).every(Boolean)).toBe(true);
    expect(results[25]).toBeUndefined();
    // Another type of the same object has its own bucket.
    expect(correlator.correlate({ ...event('ok'), type: 'Normal' })).toBeDefined();
  });
});

describe('events.k8s.io/v1 view', () => {
  const core: KubeEvent = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'kubia-0.1', namespace: 'default', resourceVersion: '5' },
    involvedObject: { kind: 'Pod', namespace: 'default', name: 'kubia-0', uid: 'u', apiVersion: 'v1', fieldPath: 'spec.containers{kubia}' },
    reason: 'Started',
    message: 'Started container kubia',
    source: { component: 'kubelet', host: 'headless-dns' },
    firstTimestamp: '2026-01-01T00:00:00Z',
    lastTimestamp: '2026-01-01T00:00:05Z',
    count: 2,
    type: 'Normal',
    eventTime: null,
    reportingComponent: 'kubelet',
    reportingInstance: 'headless-dns',
  };

  it('converts the fields as pkg/apis/events/v1/conversion.go', () => {
    expect(toEventsV1(core)).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: core.metadata,
      regarding: core.involvedObject,
      reason: 'Started',
      note: 'Started container kubia',
      deprecatedSource: { component: 'kubelet', host: 'headless-dns' },
      deprecatedFirstTimestamp: '2026-01-01T00:00:00Z',
      deprecatedLastTimestamp: '2026-01-01T00:00:05Z',
      deprecatedCount: 2,
      type: 'Normal',
      eventTime: null,
      reportingController: 'kubelet',
      reportingInstance: 'headless-dns',
    });
    expect(fromEventsV1(toEventsV1(core))).toEqual(core);
  });

  it('leaves out what Go omits when empty', () => {
    const bare = toEventsV1({ ...core, reportingComponent: '', reportingInstance: '', source: {}, count: 0 });
    expect(bare).not.toHaveProperty('reportingController');
    expect(bare).not.toHaveProperty('reportingInstance');
    expect(bare).not.toHaveProperty('deprecatedSource');
    expect(bare).not.toHaveProperty('deprecatedCount');
  });

  it('rewrites events.k8s.io field labels and refuses the ones it has none for', () => {
    expect(eventsV1FieldSelector('regarding.name=kubia-0,reportingController!=kubelet,type==Normal')).toBe('involvedObject.name=kubia-0,reportingComponent!=kubelet,type==Normal');
    expect(eventsV1FieldSelector('regarding.name=a\\,b')).toBe('involvedObject.name=a\\,b');
    expect(() => eventsV1FieldSelector('involvedObject.name=x')).toThrow(/field label not supported: involvedObject.name/);
  });
});

describe('Event field selectors', () => {
  it('selects by what kubectl describe asks for', () => {
    const match = parseFieldSelector('involvedObject.name=kubia-0,involvedObject.namespace=default,involvedObject.kind=Pod,involvedObject.uid=u', 'Event');
    expect(match(core())).toBe(true);
    expect(match({ ...core(), involvedObject: { ...core().involvedObject, uid: 'other' } })).toBe(false);
    expect(parseFieldSelector('source=kubelet,reason=Started,type=Normal', 'Event')(core())).toBe(true);
  });

  it('are not fields of other kinds', () => {
    expect(() => parseFieldSelector('involvedObject.name=x', 'Pod')).toThrow(/field label not supported: involvedObject.name/);
  });

  function core(): KubeEvent {
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'kubia-0.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'kubia-0', uid: 'u' },
      reason: 'Started',
      type: 'Normal',
      source: { component: 'kubelet' },
    };
  }
});

describe('Event printer', () => {
  it('prints printEvent columns, wide ones included', () => {
    const now = Date.now();
    const at = (ago: number): string => new Date(now - ago * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const legacy: KubeEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'kubia-0.1', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'kubia-0', fieldPath: 'spec.containers{kubia}' },
      reason: 'Started',
      message: 'Started container kubia',
      source: { component: 'kubelet', host: 'headless-dns' },
      firstTimestamp: at(300),
      lastTimestamp: at(30),
      count: 3,
      type: 'Normal',
    };
    const scheduler: KubeEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'kubia-0.2', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'kubia-0' },
      reason: 'Scheduled',
      message: 'Successfully assigned default/kubia-0 to headless-dns',
      source: {},
      eventTime: new Date(now - 60_000).toISOString(),
      firstTimestamp: null as unknown as string,
      lastTimestamp: null as unknown as string,
      type: 'Normal',
      reportingComponent: 'default-scheduler',
      reportingInstance: 'default-scheduler-headless-dns',
    };
    const table = toTable('Event', [legacy, scheduler], { include: 'None', resourceVersion: '1' }) as { columnDefinitions: { name: string; priority: number }[]; rows: { cells: unknown[] }[] };
    expect(table.columnDefinitions.map((c) => `${c.name}${c.priority ? '*' : ''}`)).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*']);
    expect(table.rows[0]!.cells).toEqual(['30s', 'Normal', 'Started', 'pod/kubia-0', 'spec.containers{kubia}', 'kubelet, headless-dns', 'Started container kubia', '5m', 3, 'kubia-0.1']);
    expect(table.rows[1]!.cells).toEqual(['60s', 'Normal', 'Scheduled', 'pod/kubia-0', '', 'default-scheduler, default-scheduler-headless-dns', 'Successfully assigned default/kubia-0 to headless-dns', '60s', 1, 'kubia-0.2']);
  });
});
