// Label and field selectors, against what k8s.io/apimachinery v0.32 (the version
// /version reports) accepts, rejects and says. Expected messages were worked out
// from labels/selector.go, fields/selector.go and util/validation; many rows are
// the cases of apimachinery's own selector_test.go.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiApp } from '../../src/api/app.js';
import { parseFieldSelector, parseLabelSelector } from '../../src/api/selectors.js';
import { ApiError } from '../../src/api/status.js';
import type { KubeObject } from '../../src/model/types.js';
import type { ObjectStore } from '../../src/store/store.js';
import { type TestApi, kubiaApi } from '../support/api-app.js';

const pod = (name: string, labels: Record<string, string>, extra: { phase?: string; nodeName?: string; namespace?: string } = {}): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: extra.namespace ?? 'default', labels },
    spec: { containers: [], ...(extra.nodeName ? { nodeName: extra.nodeName } : {}) },
    ...(extra.phase ? { status: { phase: extra.phase } } : {}),
  }) as unknown as KubeObject;

const OBJECTS: KubeObject[] = [
  pod('web', { app: 'kubia', tier: 'web' }),
  pod('blank-tier', { app: 'kubia', tier: '' }),
  pod('other', { app: 'other', n: '5' }),
  pod('twelve', { n: '12' }),
  pod('bare', {}),
  pod('prefixed', { 'example.com/role': 'db', in: 'notin' }),
  pod('v2', { n: 'v2' }),
];
const ALL = OBJECTS.map((o) => o.metadata.name);
const except = (...names: string[]): string[] => ALL.filter((n) => !names.includes(n));

const selectedBy = (matches: (o: KubeObject) => boolean, objects = OBJECTS): string[] => objects.filter(matches).map((o) => o.metadata.name);

/** The message a selector is rejected with, or a failure if it is accepted. */
function rejection(parse: () => unknown): { code: number; reason: string; message: string } {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    const { code, reason, message } = error as ApiError;
    return { code, reason, message };
  }
  throw new Error('the selector was accepted');
}

// validation messages of apimachinery v0.32, spelt out once
const NAME_REGEX = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_REGEX = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const SUBDOMAIN_REGEX = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const NOT_INTEGER = "for 'Gt', 'Lt' operators, the value must be an integer";
const OPERATORS = 'in, notin, =, ==, !=, gt, lt';
const REQ = 'unable to parse requirement: ';

describe('label selectors that parse', () => {
  const rows: [string, string[]][] = [
    ['', ALL],
    ['   ', ALL],
    ['app=kubia', ['web', 'blank-tier']],
    ['app==kubia', ['web', 'blank-tier']],
    ['app!=kubia', except('web', 'blank-tier')],
    ['app', ['web', 'blank-tier', 'other']],
    ['!app', except('web', 'blank-tier', 'other')],
    ['app,!tier', ['other']],
    ['app in (kubia,other)', ['web', 'blank-tier', 'other']],
    ['app notin (kubia)', except('web', 'blank-tier')],
    // An empty value is a value: `tier=`, `tier in ()` and `tier in (web,)` all name it.
    ['tier=', ['blank-tier']],
    ['tier= ', ['blank-tier']],
    ['tier in ()', ['blank-tier']],
    ['tier in ( )', ['blank-tier']],
    ['tier notin ()', except('blank-tier')],
    ['tier in (web,)', ['web', 'blank-tier']],
    ['tier in (, web)', ['web', 'blank-tier']],
    ['app=kubia,tier=web', ['web']],
    ['x notin (abc,,def),app', ['web', 'blank-tier', 'other']],
    // gt and lt compare integers; a label that is not one matches neither.
    ['n>4', ['other', 'twelve']],
    ['n<6', ['other']],
    ['n>5', ['twelve']],
    ['n<99999999999999999', ['other', 'twelve']],
    ['example.com/role=db', ['prefixed']],
    ['example.com/role', ['prefixed']],
    // in and notin are keywords only where an operator goes.
    ['in=notin', ['prefixed']],
    ['in in (notin)', ['prefixed']],
    ['in notin (in)', ALL],
    ['a in (x,y,notin, z,in)', []],
    // Blanks (space, tab, CR, LF) separate tokens anywhere.
    ['  app \t in\n(kubia , other ) ', ['web', 'blank-tier', 'other']],
    ['\rapp', ['web', 'blank-tier', 'other']],
    ['app=kubia , tier = web', ['web']],
    // As apimachinery's lexer: a NUL where a token starts ends the selector.
    ['app=kubia \0((', ['web', 'blank-tier']],
  ];
  it.each(rows)('%j', (selector, expected) => {
    expect(selectedBy(parseLabelSelector(selector))).toEqual(expected);
  });

  it('an absent selector selects everything', () => {
    expect(selectedBy(parseLabelSelector(undefined))).toEqual(ALL);
  });

  it('longest legal key and value (prefix 253, name 63, value 63)', () => {
    const prefix = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(prefix).toHaveLength(253);
    const key = `${prefix}/${'n'.repeat(63)}`;
    const labelled = pod('long', { [key]: 'v'.repeat(63) });
    expect(selectedBy(parseLabelSelector(`${key}=${'v'.repeat(63)}`), [labelled, OBJECTS[0]!])).toEqual(['long']);
  });
});

describe('label selectors that Kubernetes rejects', () => {
  const rows: [string, string][] = [
    ['((', "found '(', expected: !, identifier, or 'end of string'"],
    ['(', "found '(', expected: !, identifier, or 'end of string'"],
    [',x', "found ',', expected: !, identifier, or 'end of string'"],
    ['app=kubia((', "found '(', expected: ',' or 'end of string'"],
    ['app=kubia)', "found ')', expected: ',' or 'end of string'"],
    ['app in (a', `${REQ}found '', expected: ',' or ')'`],
    ['a b', `${REQ}found 'b', expected: ${OPERATORS}`],
    ['x nott in (y)', `${REQ}found 'nott', expected: ${OPERATORS}`],
    ['a (', `${REQ}found '(', expected: ${OPERATORS}`],
    ['!', `${REQ}found '', expected: identifier`],
    ['!!a', `${REQ}found '!', expected: identifier`],
    ['!x=a', "found '=', expected: ',' or 'end of string'"],
    ['x==a==b', "found '==', expected: ',' or 'end of string'"],
    ['a===b(', `${REQ}found '=', expected: identifier`],
    ['x=(', `${REQ}found '(', expected: identifier`],
    ['x,,y', "found ',', expected: identifier after ','"],
    ['a in (xyz),', "found '', expected: identifier after ','"],
    ['a in (xyz)b notin ()', "found 'b', expected: ',' or 'end of string'"],
    ['a in (xyz abc)', `${REQ}found 'abc', expected: ',' or ')'`],
    ['a notin(', `${REQ}found '', expected: ',', ')' or identifier`],
    ['a in (=)', `${REQ}found '=', expected: ',', ')' or identifier`],
    ['a in (x,=)', `${REQ}found '=', expected: ',', or identifier`],
    // v0.32 consumes the second of two commas, and then meets ')' (accepted from v0.35).
    ['a in (x,,)', `${REQ}found ')', expected: ',', or identifier`],
    ['a in x', `${REQ}found 'x' expected: '('`],
    ['a in', `${REQ}found '' expected: '('`],
    ['x>1.5', `${REQ}values[0]: Invalid value: "1.5": ${NOT_INTEGER}`],
    ['x<a', `${REQ}values[0]: Invalid value: "a": ${NOT_INTEGER}`],
    ['x>99999999999999999999', `${REQ}values[0]: Invalid value: "99999999999999999999": ${NOT_INTEGER}`],
    ['x>', `${REQ}values[0]: Invalid value: "": ${NOT_INTEGER}`],
    // Two errors of one requirement come aggregated in brackets.
    ['x>1.', `${REQ}[values[0]: Invalid value: "1.": ${NOT_INTEGER}, values[0][x]: Invalid value: "1.": ${VALUE_REGEX}]`],
    ['app=ku@bia', `${REQ}values[0][app]: Invalid value: "ku@bia": ${VALUE_REGEX}`],
    ['app=a"b', `${REQ}values[0][app]: Invalid value: "a\\"b": ${VALUE_REGEX}`],
    ['app=café', `${REQ}values[0][app]: Invalid value: "café": ${VALUE_REGEX}`],
    ['app=-kubia', `${REQ}values[0][app]: Invalid value: "-kubia": ${VALUE_REGEX}`],
    // '|' is no operator: the value is "a||y", and no label value.
    ['x=a||y=b', `${REQ}values[0][x]: Invalid value: "a||y": ${VALUE_REGEX}`],
    // Values are numbered in sorted order, as Go's sets.String lists them.
    ['app in (ok,b@d)', `${REQ}values[0][app]: Invalid value: "b@d": ${VALUE_REGEX}`],
    [`app=${'v'.repeat(64)}`, `${REQ}values[0][app]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`],
    [`${'k'.repeat(64)}`, `${REQ}<nil>: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 characters`],
    [`${'p'.repeat(254)}/x`, `${REQ}<nil>: Invalid value: "${'p'.repeat(254)}/x": prefix part must be no more than 253 characters`],
    ['Example.com/x=1', `${REQ}<nil>: Invalid value: "Example.com/x": prefix part ${SUBDOMAIN_REGEX}`],
    ['/x', `${REQ}<nil>: Invalid value: "/x": prefix part must be non-empty`],
    ['x/', `${REQ}<nil>: Invalid value: "x/": name part must be non-empty; name part ${NAME_REGEX}`],
    ['-app=kubia', `${REQ}<nil>: Invalid value: "-app": name part ${NAME_REGEX}`],
    ['a/b/c', `${REQ}<nil>: Invalid value: "a/b/c": a qualified name ${NAME_REGEX} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`],
    ['!bad@key', `${REQ}<nil>: Invalid value: "bad@key": name part ${NAME_REGEX}`],
    ['a\tb=\x01', `${REQ}found 'b', expected: ${OPERATORS}`],
    ['k=\x01', `${REQ}values[0][k]: Invalid value: "\\x01": ${VALUE_REGEX}`],
  ];
  it.each(rows)('%j', (selector, message) => {
    expect(rejection(() => parseLabelSelector(selector))).toEqual({ code: 400, reason: 'BadRequest', message });
  });
});

describe('field selectors', () => {
  const objects = [
    pod('kubia-0', {}, { phase: 'Running', nodeName: 'node-a' }),
    pod('kubia-1', {}, { phase: 'Pending' }),
    pod('a,b', {}, { namespace: 'kube-system' }),
    pod('a=b', {}),
    pod('a\\b', {}),
  ];
  const rows: [string, string[]][] = [
    ['', ['kubia-0', 'kubia-1', 'a,b', 'a=b', 'a\\b']],
    [',', ['kubia-0', 'kubia-1', 'a,b', 'a=b', 'a\\b']],
    ['metadata.name=kubia-0', ['kubia-0']],
    ['metadata.name==kubia-0', ['kubia-0']],
    ['metadata.name!=kubia-0', ['kubia-1', 'a,b', 'a=b', 'a\\b']],
    ['metadata.namespace=default,status.phase=Running', ['kubia-0']],
    ['status.phase!=Running,status.phase!=Pending', ['a,b', 'a=b', 'a\\b']],
    ['spec.nodeName=node-a', ['kubia-0']],
    ['spec.nodeName=', ['kubia-1', 'a,b', 'a=b', 'a\\b']],
    ['metadata.namespace=kube-system', ['a,b']],
    // \, \= and \\ escape in values.
    ['metadata.name=a\\,b', ['a,b']],
    ['metadata.name=a\\=b', ['a=b']],
    ['metadata.name=a\\\\b', ['a\\b']],
  ];
  it.each(rows)('%j', (selector, expected) => {
    expect(selectedBy(parseFieldSelector(selector), objects)).toEqual(expected);
  });

  const bad: [string, string][] = [
    ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['metadata.name=a,oops', "invalid selector: 'metadata.name=a,oops'; can't understand 'oops'"],
    ['metadata.name!x', "invalid selector: 'metadata.name!x'; can't understand 'metadata.name!x'"],
    ['metadata.name=a=b', 'invalid field selector: unescaped character in value: 61'],
    ['metadata.name!==x', 'invalid field selector: unescaped character in value: 61'],
    ['metadata.name=a\\!b', 'invalid field selector: invalid escape sequence: \\!'],
    ['metadata.name=a\\', 'invalid field selector: invalid escape sequence: \\'],
    ['spec.foo=x', 'field label not supported: spec.foo'],
    // The field is not trimmed, so a blank makes it another field.
    ['metadata.name =x', 'field label not supported: metadata.name '],
    // Syntax is checked for every term before any field is looked up...
    ['spec.foo=x,metadata.name', "invalid selector: 'spec.foo=x,metadata.name'; can't understand 'metadata.name'"],
    // ...and terms are taken in sorted order.
    ['b.x=1,a.y=2', 'field label not supported: a.y'],
    ['__proto__=x', 'field label not supported: __proto__'],
  ];
  it.each(bad)('%j is rejected', (selector, message) => {
    expect(rejection(() => parseFieldSelector(selector))).toEqual({ code: 400, reason: 'BadRequest', message });
  });
});

describe('through the API: a bad selector is a 400 Status and changes nothing', () => {
  let harness: TestApi;
  let api: ApiApp;
  let store: ObjectStore;
  beforeAll(() => {
    harness = kubiaApi();
    ({ api, store } = harness);
  });
  afterAll(() => harness.close());

  const SERVICES = '/api/v1/namespaces/default/services';
  const PODS = '/api/v1/namespaces/default/pods';
  const LEASES = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
  const q = encodeURIComponent;

  const selectors: [string, string, string][] = [
    ['labelSelector', '((', "found '(', expected: !, identifier, or 'end of string'"],
    ['labelSelector', 'app=kubia((', "found '(', expected: ',' or 'end of string'"],
    ['labelSelector', 'app in (a', `${REQ}found '', expected: ',' or ')'`],
    ['labelSelector', 'x>1.5', `${REQ}values[0]: Invalid value: "1.5": ${NOT_INTEGER}`],
    ['fieldSelector', 'metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['fieldSelector', 'spec.foo=x', 'field label not supported: spec.foo'],
  ];
  const requests: [string, 'GET' | 'DELETE', (param: string, value: string) => string][] = [
    ['list', 'GET', (p, v) => `${PODS}?${p}=${q(v)}`],
    ['list across namespaces', 'GET', (p, v) => `/api/v1/services?${p}=${q(v)}`],
    ['watch', 'GET', (p, v) => `${PODS}?watch=true&${p}=${q(v)}`],
    ['delete collection', 'DELETE', (p, v) => `${SERVICES}?${p}=${q(v)}`],
    ['delete collection of pods', 'DELETE', (p, v) => `${PODS}?${p}=${q(v)}`],
    // Nothing to match against: the selector is still checked.
    ['list of an empty collection', 'GET', (p, v) => `${LEASES}?${p}=${q(v)}`],
    ['delete of an empty collection', 'DELETE', (p, v) => `${LEASES}?${p}=${q(v)}`],
  ];
  const table = requests.flatMap(([what, method, url]) => selectors.map(([param, value, message]) => [what, param, value, method, url(param, value), message] as const));

  it.each(table)('%s with %s=%j', async (_what, _param, _value, method, url, message) => {
    const before = JSON.stringify(store.all());
    const response = await api.app.inject({ method, url });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400, message });
    expect(JSON.stringify(store.all())).toBe(before);
  });

  it('a valid selector on DELETE removes only what it selects', async () => {
    for (const [name, tier] of [['front', 'web'], ['back', 'db'], ['empty', '']] as const) {
      const body = { apiVersion: 'v1', kind: 'Service', metadata: { name, labels: { tier } }, spec: { ports: [{ port: 80 }] } };
      expect((await api.app.inject({ method: 'POST', url: SERVICES, payload: body })).statusCode).toBe(201);
    }
    const names = () => store.list('Service', 'default').map((s) => s.metadata.name).sort();
    expect(names()).toEqual(['back', 'empty', 'front', 'kubia']);
    const deleted = await api.app.inject({ method: 'DELETE', url: `${SERVICES}?labelSelector=${q('tier in (web,)')}` });
    expect(deleted.statusCode).toBe(200);
    expect(JSON.parse(deleted.body).items.map((s: { metadata: { name: string } }) => s.metadata.name).sort()).toEqual(['empty', 'front']);
    expect(names()).toEqual(['back', 'kubia']);
    const list = await api.app.inject({ method: 'GET', url: `${SERVICES}?labelSelector=${q('tier,tier!=db')}` });
    expect(JSON.parse(list.body).items).toEqual([]);
  });
});
