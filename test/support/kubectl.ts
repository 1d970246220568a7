// Real kubectl as a client of the API.

import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const hasKubectl = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * A kubectl bound to one API URL, with its own discovery cache. `withStderr`
 * returns stderr after stdout: kubectl prints some results there (a forced
 * deletion's warning).
 */
export function kubectlFor(url: string, { withStderr = false } = {}): (...args: string[]) => Promise<string> {
  const cache = mkdtempSync(join(tmpdir(), 'hdns-kubectl-'));
  return async (...args: string[]) => {
    const { stdout, stderr } = await run('kubectl', ['--server', url, '--cache-dir', cache, ...args], { env: { ...process.env, KUBECONFIG: '/dev/null' } });
    return withStderr ? stdout + stderr : stdout;
  };
}
