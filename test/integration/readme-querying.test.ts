// The README's "Querying it" Node snippet, run as written against a server
// (only its address replaced by the test server's).

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../../src/index.js';
import { KUBIA_EXAMPLE } from '../support/fixture.js';

const run = promisify(execFile);
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function snippet(section: string): string {
  const start = README.indexOf(`## ${section}\n`);
  const end = README.indexOf('\n## ', start + 1);
  const text = README.slice(start, end);
  const fence = /```js\n([\s\S]*?)\n```/.exec(text);
  if (!fence) throw new Error(`no js snippet in "${section}"`);
  return fence[1]!;
}

let cluster: StartedCluster;
beforeAll(async () => {
  cluster = (await startCluster({ manifests: [KUBIA_EXAMPLE] }));
});
afterAll(() => cluster?.close());

it('the Node Resolver snippet of "Querying it" finds both members', async () => {
  const code = snippet('Querying it');
  expect(code).toContain("'127.0.0.1:1053'");
  const program = `${code.replace("'127.0.0.1:1053'", JSON.stringify(cluster.dnsServer))}\nconsole.log(JSON.stringify(peers.map((p) => [p.name, p.port]).sort()));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', program]);
  expect(JSON.parse(stdout)).toEqual([
    ['kubia-0.kubia.default.svc.cluster.local', 80],
    ['kubia-1.kubia.default.svc.cluster.local', 80],
  ]);
});
