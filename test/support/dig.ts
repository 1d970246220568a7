// dig as a client: run it, parse its sections back into zone text.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import type { Sections } from './zone.js';

const run = promisify(execFile);

export const hasDig = (() => {
  try {
    execFileSync('dig', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export interface DigResult extends Sections {
  flags: string[];
  raw: string;
}

export async function dig(port: number, name: string, type: string, extra: string[] = []): Promise<DigResult> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...extra, name, type]);
  return parseDig(stdout);
}

export function parseDig(output: string): DigResult {
  const result: DigResult = { rcode: '', flags: [], answer: [], authority: [], additional: [], raw: output };
  let section: 'answer' | 'authority' | 'additional' | undefined;
  for (const line of output.split('\n')) {
    const status = /status: (\w+)/.exec(line);
    if (status) result.rcode = status[1]!;
    const flags = /;; flags: ([a-z ]+);/.exec(line);
    if (flags) result.flags = flags[1]!.trim().split(/\s+/);
    if (line.startsWith(';; ANSWER SECTION')) section = 'answer';
    else if (line.startsWith(';; AUTHORITY SECTION')) section = 'authority';
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = 'additional';
    else if (line.trim() === '' || line.startsWith(';')) {
      if (line.trim() === '') section = undefined;
    } else if (section) {
      result[section].push(line.replace(/\s+/g, ' ').trim());
    }
  }
  return result;
}
