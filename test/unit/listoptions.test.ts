// ListOptions as the API server reads them (decode → defaults → validation),
// continue tokens, and the watch hub's rewind and bookmarks, as tables of cases.

import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { decodeContinue, decodeListOptions, encodeContinue, listOptionsOf, queryBool, queryInt64 } from '../../src/api/listoptions.js';
import { ApiError } from '../../src/api/status.js';
import { INITIAL_EVENTS_END, WatchHub } from '../../src/api/watch.js';
import { ManualClock } from '../../src/model/clock.js';
import type { KubeObject } from '../../src/model/types.js';
import { ObjectStore } from '../../src/store/store.js';

function thrown(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('booleans as apimachinery converts them (Convert_Slice_string_To_bool, not strconv.ParseBool)', () => {
  it.each([
    ['true', true], ['True', true], ['TRUE', true], ['1', true], ['t', true], ['yes', true], ['', true], ['f', true],
    ['false', false], ['False', false], ['FALSE', false], ['fAlSe', false], ['0', false],
  ])('%j → %s', (value, expected) => expect(queryBool(value)).toBe(expected));

  it('the Python client\'s watch=True is a watch; an absent watch is not', () => {
    expect(decodeListOptions({ watch: 'True' }).watch).toBe(true);
    expect(decodeListOptions({}).watch).toBe(false);
    // url.Values: the first of a repeated key.
    expect(decodeListOptions({ watch: ['false', 'true'] }).watch).toBe(false);
  });
});

describe('integers as strconv.ParseInt(s, 10, 64)', () => {
  it.each([['500', 500], ['+7', 7], ['-1', -1], ['0', 0]])('%j → %d', (value, expected) => expect(queryInt64(value)).toBe(expected));
  it.each([
    ['abc', 'strconv.ParseInt: parsing "abc": invalid syntax'],
    ['1.5', 'strconv.ParseInt: parsing "1.5": invalid syntax'],
    ['0x10', 'strconv.ParseInt: parsing "0x10": invalid syntax'],
    [' 7', 'strconv.ParseInt: parsing " 7": invalid syntax'],
    ['9223372036854775808', 'strconv.ParseInt: parsing "9223372036854775808": value out of range'],
  ])('%j → 400 %s', (value, message) => {
    const error = thrown(() => decodeListOptions({ limit: value }));
    expect([error.code, error.message]).toEqual([400, message]);
  });
});

describe('defaults and validation (SetListOptionsDefaults, ValidateListOptions)', () => {
  it.each([
    // query, what the options become (a subset)
    [{ watch: 'true' }, { watch: true, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' }],
    [{ watch: 'true', resourceVersion: '0' }, { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' }],
    [{ watch: 'true', resourceVersion: '12' }, { resourceVersion: '12' }],
    [{ watch: 'true', sendInitialEvents: 'false', resourceVersionMatch: 'NotOlderThan' }, { sendInitialEvents: false }],
    [{ resourceVersion: '5', resourceVersionMatch: 'Exact' }, { resourceVersionMatch: 'Exact' }],
    [{ limit: '2', continue: 'x' }, { limit: 2, continue: 'x' }],
  ])('%j is accepted', (query, expected) => expect(listOptionsOf(query)).toMatchObject(expected));

  it('a watch from a resourceVersion gets no initial events by default', () => {
    expect(listOptionsOf({ watch: '1', resourceVersion: '12' }).sendInitialEvents).toBeUndefined();
  });

  it.each([
    [{ resourceVersionMatch: 'Exact' }, 'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided'],
    [{ resourceVersion: '0', resourceVersionMatch: 'Exact' }, 'resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"'],
    [{ resourceVersion: '3', resourceVersionMatch: 'Newest' }, 'resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""'],
    [{ sendInitialEvents: 'true' }, 'sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list'],
    [{ watch: '1', resourceVersionMatch: 'NotOlderThan' }, 'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided'],
    [{ watch: '1', sendInitialEvents: 'true' }, 'resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan'],
    [
      { resourceVersionMatch: 'Exact', continue: 'x' },
      '[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided]',
    ],
  ])('%j → 422 naming the field', (query, message) => {
    const error = thrown(() => listOptionsOf(query));
    expect(error.code).toBe(422);
    expect(error.reason).toBe('Invalid');
    expect(error.message).toBe(`ListOptions.meta.k8s.io "" is invalid: ${message}`);
    expect(error.details).toMatchObject({ group: 'meta.k8s.io', kind: 'ListOptions' });
    expect(error.details!.causes![0]!.field).toBe(message.replace(/^\[/, '').split(':')[0]);
  });
});

describe('continue tokens (storage.EncodeContinue / DecodeContinue)', () => {
  it('encodes as the API server does, and decodes back', () => {
    const token = encodeContinue('web-1', 14);
    expect(token).toBe('eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTQsInN0YXJ0Ijoid2ViLTFcdTAwMDAifQ');
    expect(decodeContinue(token)).toEqual({ start: 'web-1\u0000', resourceVersion: 14 });
    expect(decodeContinue(encodeContinue('default/web-1', -1))).toEqual({ start: 'default/web-1\u0000', resourceVersion: -1 });
  });

  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  it.each([
    ['not base64!', /illegal base64 data/],
    [Buffer.from('{nope').toString('base64url'), /not JSON/],
    [b64({ v: 'meta.k8s.io/v2', rv: 1, start: 'a' }), /server does not recognize this encoded version meta.k8s.io\/v2/],
    [b64({ v: 'meta.k8s.io/v1', rv: 0, start: 'a' }), /incorrect encoded start resourceVersion/],
    [b64({ v: 'meta.k8s.io/v1', rv: 3, start: '' }), /encoded start key empty/],
    [b64({ v: 'meta.k8s.io/v1', rv: 3, start: '../../secrets/x' }), /continue key is not valid: \.\.\/\.\.\/secrets\/x/],
    [b64({ v: 'meta.k8s.io/v1', rv: '3', start: 'a' }), /wrong type/],
  ])('%s → 400 invalid continue token', (token, message) => {
    const error = thrown(() => decodeContinue(token));
    expect(error.code).toBe(400);
    expect(error.message).toMatch(/^invalid continue token: continue key is not valid/);
    expect(error.message).toMatch(message);
  });
});

const pod = (name: string, labels: Record<string, string> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'x' }] } }) as KubeObject;

/** A response that only collects what is written. */
function sink(): { response: ServerResponse; lines: () => { type: string; object: { metadata?: Record<string, unknown>; kind?: string } }[]; close: () => void } {
  const chunks: string[] = [];
  const listeners: (() => void)[] = [];
  const response = {
    writeHead: () => response,
    flushHeaders: () => undefined,
    write: (chunk: string) => chunks.push(chunk),
    end: () => {
      response.writableEnded = true;
    },
    on: (event: string, fn: () => void) => {
      if (event === 'close') listeners.push(fn);
      return response;
    },
    once: () => response,
    writableEnded: false,
    writableFinished: false,
    destroyed: false,
  };
  return {
    response: response as unknown as ServerResponse,
    lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line)),
    close: () => listeners.forEach((fn) => fn()),
  };
}

describe('the watch hub', () => {
  it('rewinds the objects to an earlier resourceVersion (what a continued list reads)', () => {
    const store = new ObjectStore();
    const hub = new WatchHub(store);
    store.apply([pod('a'), pod('b')]);
    const before = Number(store.currentResourceVersion);
    store.apply([pod('c'), pod('a', { changed: 'yes' })]);
    store.delete('Pod', 'default', 'b');
    const names = (objects: ReturnType<WatchHub['objectsAt']>): unknown =>
      Array.isArray(objects) ? objects.map((o) => `${o.metadata.name}${o.metadata.labels?.changed ? '*' : ''}`).sort() : objects;
    expect(names(hub.objectsAt('Pod', 'default', before))).toEqual(['a', 'b']);
    expect(names(hub.objectsAt('Pod', 'default', Number(store.currentResourceVersion)))).toEqual(['a*', 'c']);
    expect(hub.objectsAt('Pod', 'default', Number(store.currentResourceVersion) + 1)).toBe('future');
    // Before the hub existed, its history cannot say: the version is gone (410 for the caller).
    expect(hub.objectsAt('Pod', 'default', 1)).toBeUndefined();
    void hub.close();
  });

  it.each([
    // request, the event types sent at once
    [{ sendInitialEvents: true, allowWatchBookmarks: true }, ['ADDED', 'ADDED', 'BOOKMARK*']],
    [{ sendInitialEvents: true }, ['ADDED', 'ADDED']],
    [{}, ['ADDED', 'ADDED']],
    [{ sendInitialEvents: false, allowWatchBookmarks: true }, []],
  ])('opening %j sends %j', (extra, types) => {
    const store = new ObjectStore();
    const hub = new WatchHub(store, { clock: new ManualClock() });
    store.apply([pod('a'), pod('b')]);
    const out = sink();
    hub.open({ kind: 'Pod', apiVersion: 'v1', namespace: 'default', matches: () => true, render: (o) => o, ...extra }, out.response);
    expect(out.lines().map((e) => `${e.type}${e.object.metadata?.annotations ? '*' : ''}`)).toEqual(types);
    void hub.close();
  });

  it('bookmarks every interval and 2 s before the deadline, carrying only the newest resourceVersion', () => {
    const clock = new ManualClock();
    const store = new ObjectStore();
    const hub = new WatchHub(store, { clock, bookmarkIntervalMs: 60_000 });
    const out = sink();
    hub.open({ kind: 'Pod', apiVersion: 'v1', namespace: 'default', sendInitialEvents: false, allowWatchBookmarks: true, timeoutSeconds: 150, matches: () => true, render: (o) => o }, out.response);
    store.apply([pod('a')]);
    clock.advance(60_000);
    const bookmarks = (): { type: string; object: { metadata?: Record<string, unknown>; kind?: string } }[] => out.lines().filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks()).toEqual([{ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: store.currentResourceVersion, creationTimestamp: null } } }]);
    clock.advance(60_000);
    expect(bookmarks()).toHaveLength(2);
    // The next would be at 180 s, past the deadline (150 s): it comes at 148 s instead, then the watch ends.
    clock.advance(27_999);
    expect(bookmarks()).toHaveLength(2);
    clock.advance(1);
    expect(bookmarks()).toHaveLength(3);
    expect(hub.openStreams).toBe(1);
    clock.advance(2_000);
    expect(hub.openStreams).toBe(0);
    void hub.close();
  });

  it('a watch without bookmarks gets none, and without a timeout ends after 30 to 60 minutes', () => {
    const clock = new ManualClock();
    const hub = new WatchHub(new ObjectStore(), { clock });
    const out = sink();
    hub.open({ kind: 'Pod', namespace: 'default', sendInitialEvents: false, matches: () => true, render: (o) => o }, out.response);
    clock.advance(1_799_000);
    expect(hub.openStreams).toBe(1);
    clock.advance(1_801_000);
    expect(hub.openStreams).toBe(0);
    expect(out.lines()).toEqual([]);
  });

  it('an object that leaves the selector is DELETED as it was, at the event\'s resourceVersion', () => {
    const store = new ObjectStore();
    const hub = new WatchHub(store, { clock: new ManualClock() });
    store.apply([pod('a', { app: 'web' })]);
    const out = sink();
    hub.open({ kind: 'Pod', namespace: 'default', sendInitialEvents: false, matches: (o) => o.metadata.labels?.app === 'web', render: (o) => o }, out.response);
    store.apply([pod('a', { app: 'other' })]);
    const [event] = out.lines();
    expect(event!.type).toBe('DELETED');
    expect(event!.object.metadata).toMatchObject({ labels: { app: 'web' }, resourceVersion: store.currentResourceVersion });
    void hub.close();
  });

  it('names the annotation as apimachinery does', () => expect(INITIAL_EVENTS_END).toBe('k8s.io/initial-events-end'));
});
