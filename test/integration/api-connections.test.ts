// One client holding many half-sent API requests cannot use up the process's
// descriptors (issue 10 item 8): under a 1024-descriptor limit, 1,003 of them
// leave /version and DNS over TCP answering, because the API holds at most its
// cap of connections and a new one closes the least recently used spare one.

import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, hasDig } from '../support/dig.js';
import { BIN } from '../support/serve.js';

let child: ReturnType<typeof spawn>;
let dnsPort: number;
let apiPort: number;
const held: Socket[] = [];

beforeAll(async () => {
  // A shell sets the limit, then becomes serve.
  child = spawn('/bin/sh', ['-c', `ulimit -n 1024 && exec "${process.execPath}" "${BIN}" serve --dns-port 0 --api-port 0`]);
  [dnsPort, apiPort] = await new Promise<[number, number]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const match = /ready dns=127\.0\.0\.1:(\d+) api=http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (match) resolve([Number(match[1]), Number(match[2])]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
});
afterAll(() => {
  for (const socket of held) socket.destroy();
  child?.kill('SIGKILL');
});

function version(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port: apiPort, path: '/version', agent: false, timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('no answer from /version within 3 s')));
    req.on('error', reject);
  });
}

describe.runIf(process.platform === 'linux')('API connections under a low descriptor limit', () => {
  it('1,003 half-sent requests leave the API and DNS over TCP answering', async () => {
    expect(await version()).toBe(200);
    for (let i = 0; i < 1003; i++) {
      const socket = connect({ host: '127.0.0.1', port: apiPort });
      socket.on('error', () => undefined);
      socket.write('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      held.push(socket);
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const descriptors = readdirSync(`/proc/${child.pid}/fd`).length;
    expect(descriptors).toBeLessThan(400);
    expect(await version()).toBe(200);
    if (hasDig) {
      const answer = await dig(dnsPort, 'kubia.default.svc.cluster.local', 'SRV', ['+tcp']);
      expect(answer.rcode).toBe('NOERROR');
      expect(answer.answer).toHaveLength(2);
    }
  });
});
