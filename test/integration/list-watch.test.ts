// Lists and watches over HTTP as the API server serves them: paging (kubectl
// --chunk-size), continue tokens and their expiry, resourceVersionMatch,
// booleans as apimachinery reads them, bookmarks and the initial-events-end
// bookmark, watches of one object.

import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeContinue } from '../../src/api/listoptions.js';
import { type StartedCluster, startCluster } from '../../src/cluster.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';
import { hasKubectl } from '../support/kubectl.js';

const PODS = '/api/v1/namespaces/default/pods';

interface Reply {
  status: number;
  body: Record<string, any>;
}

describe('lists and watches', () => {
  let cluster: StartedCluster;
  const get = async (path: string): Promise<Reply> => {
    const response = await fetch(`${cluster.api.url}${path}`);
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };
  /** A watch's events, read until the server ends the stream. */
  const watch = async (query: string): Promise<{ type: string; object: Record<string, any> }[]> => {
    const response = await fetch(`${cluster.api.url}${PODS}?${query}`);
    expect(response.status).toBe(200);
    return (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line));
  };
  const names = (reply: Reply): string[] => reply.body.items.map((p: { metadata: { name: string } }) => p.metadata.name);

  beforeAll(async () => {
    cluster = await startCluster({ manifests: [KUBIA_EXAMPLE] });
    cluster.scale('kubia', 5);
  });
  afterAll(() => cluster.close());

  it('pages with limit and continue, at the first page\'s resourceVersion, with remainingItemCount', async () => {
    const first = await get(`${PODS}?limit=2`);
    expect(names(first)).toEqual(['kubia-0', 'kubia-1']);
    expect(first.body.metadata).toMatchObject({ remainingItemCount: 3, resourceVersion: cluster.store.currentResourceVersion });
    const version = first.body.metadata.resourceVersion;
    // A change between pages is not seen: the next pages read the first one's version, as etcd does.
    cluster.scale('kubia', 6);
    const second = await get(`${PODS}?limit=2&continue=${first.body.metadata.continue}`);
    expect(names(second)).toEqual(['kubia-2', 'kubia-3']);
    expect(second.body.metadata).toMatchObject({ resourceVersion: version, remainingItemCount: 1 });
    const third = await get(`${PODS}?limit=2&continue=${second.body.metadata.continue}`);
    expect(names(third)).toEqual(['kubia-4']);
    expect(third.body.metadata.continue).toBeUndefined();
    cluster.scale('kubia', 5);
    // With a selector there is no count, and a page may end on a key that does not match.
    const selected = await get(`${PODS}?limit=2&labelSelector=app%3Dkubia`);
    expect(names(selected)).toEqual(['kubia-0', 'kubia-1']);
    expect(selected.body.metadata.remainingItemCount).toBeUndefined();
    expect(selected.body.metadata.continue).toEqual(expect.any(String));
    // resourceVersion=0 is served from the watch cache, which ignores the limit.
    expect(names(await get(`${PODS}?limit=2&resourceVersion=0`))).toHaveLength(5);
  });

  it('a continue token past the history is 410 Expired with a token that goes on at the latest version', async () => {
    const reply = await get(`${PODS}?limit=2&continue=${encodeContinue('kubia-1', 1)}`);
    expect(reply.status).toBe(410);
    expect(reply.body).toMatchObject({ kind: 'Status', reason: 'Expired', code: 410 });
    expect(reply.body.message).toMatch(/^The provided continue parameter is too old to display a consistent list result/);
    const rest = await get(`${PODS}?limit=10&continue=${reply.body.metadata.continue}`);
    expect(names(rest)).toEqual(['kubia-2', 'kubia-3', 'kubia-4']);
    expect((await get(`${PODS}?continue=garbage!`)).body).toMatchObject({ code: 400, message: expect.stringMatching(/^invalid continue token: continue key is not valid/) });
    expect((await get(`${PODS}?continue=${encodeContinue('kubia-1', 5)}&resourceVersion=5`)).body).toMatchObject({
      code: 400,
      message: 'specifying resource version is not allowed when using continue',
    });
  });

  it('resourceVersionMatch: Exact reads that version, NotOlderThan refuses a future one, and bad combinations are 422', async () => {
    const before = cluster.store.currentResourceVersion;
    cluster.scale('kubia', 6);
    const exact = await get(`${PODS}?resourceVersion=${before}&resourceVersionMatch=Exact`);
    expect(names(exact)).toHaveLength(5);
    expect(exact.body.metadata.resourceVersion).toBe(before);
    expect(names(await get(`${PODS}?resourceVersion=${before}&resourceVersionMatch=NotOlderThan`))).toHaveLength(6);
    cluster.scale('kubia', 5);
    const future = await get(`${PODS}?resourceVersion=999999&resourceVersionMatch=NotOlderThan`);
    expect(future.body).toMatchObject({ code: 504, reason: 'Timeout', message: expect.stringMatching(/^Too large resource version: 999999, current: \d+$/) });
    expect(future.body.details).toMatchObject({ causes: [{ reason: 'ResourceVersionTooLarge' }], retryAfterSeconds: 1 });
    const invalid = await get(`${PODS}?resourceVersionMatch=Exact`);
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({
      reason: 'Invalid',
      message: 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
      details: { group: 'meta.k8s.io', kind: 'ListOptions', causes: [{ reason: 'FieldValueForbidden', field: 'resourceVersionMatch' }] },
    });
    expect((await get(`${PODS}?limit=ten`)).body).toMatchObject({ code: 400, message: 'strconv.ParseInt: parsing "ten": invalid syntax' });
  });

  it.each(['True', 'TRUE', '1', 't', 'yes'])('watch=%s is a watch', async (value) => {
    const events = await watch(`watch=${value}&timeoutSeconds=1`);
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'ADDED', 'ADDED', 'ADDED']);
  });

  it.each(['false', 'False', 'FALSE', '0'])('watch=%s is a list', async (value) => {
    expect((await get(`${PODS}?watch=${value}`)).body.kind).toBe('PodList');
  });

  it('allowWatchBookmarks: the initial events end with an annotated bookmark, and one comes 2 s before the deadline', async () => {
    const started = Date.now();
    const events = await watch('watch=1&allowWatchBookmarks=true&timeoutSeconds=3');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    const version = cluster.store.currentResourceVersion;
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED', 'ADDED', 'ADDED', 'ADDED', 'BOOKMARK', 'BOOKMARK']);
    expect(events[5]!.object).toEqual({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: version, creationTimestamp: null, annotations: { 'k8s.io/initial-events-end': 'true' } } });
    expect(events[6]!.object).toEqual({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: version, creationTimestamp: null } });
    // Asked for explicitly: sendInitialEvents=false starts from now, with no initial events.
    expect(await watch('watch=1&sendInitialEvents=false&resourceVersionMatch=NotOlderThan&timeoutSeconds=1')).toEqual([]);
    // A watch from a resourceVersion gets no initial events and no initial-events-end.
    expect(await watch(`watch=1&allowWatchBookmarks=1&resourceVersion=${version}&timeoutSeconds=1`)).toEqual([]);
  });

  it('watches one object through the deprecated /watch/ path, and a GET of one object ignores watch', async () => {
    const response = await fetch(`${cluster.api.url}/api/v1/watch/namespaces/default/pods/kubia-3?timeoutSeconds=1`);
    const events = (await response.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED kubia-3']);
    expect((await get(`${PODS}/kubia-3?watch=true`)).body).toMatchObject({ kind: 'Pod', metadata: { name: 'kubia-3' } });
  });

  it.runIf(hasKubectl)('kubectl get --chunk-size=2 pages through every pod and prints one table', async () => {
    const cache = mkdtempSync(join(tmpdir(), 'hdns-kubectl-'));
    const { stdout, stderr } = await promisify(execFile)('kubectl', ['--server', cluster.api.url, '--cache-dir', cache, 'get', 'pods', '--chunk-size=2', '-v=6'], {
      env: { ...process.env, KUBECONFIG: '/dev/null' },
    });
    expect(stdout.split('\n').filter(Boolean).map((line) => line.split(/\s+/)[0])).toEqual(['NAME', 'kubia-0', 'kubia-1', 'kubia-2', 'kubia-3', 'kubia-4']);
    const requests = stderr.split('\n').filter((line) => line.includes('/api/v1/namespaces/default/pods?'));
    expect(requests).toHaveLength(3);
    expect(requests.filter((line) => line.includes('continue='))).toHaveLength(2);
  });
});
