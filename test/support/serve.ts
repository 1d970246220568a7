// `headless-dns serve` as a user runs it (the built bin), for tests that need the
// whole command: its flags, its ready line, its logs and what it does on exit.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
export const BIN = join(ROOT, pkg.bin['headless-dns']!);

export interface Serving {
  child: ChildProcess;
  /** The API URL of the ready line. */
  api: string;
  stdout: () => string;
  stderr: () => string;
  /** SIGTERM, then the exit code once it has exited (after its cleanup). */
  stop: () => Promise<number | null>;
}

/** Starts `serve` on free ports; resolves at its ready line, rejects if it exits first. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Serving> {
  const child = spawn(process.execPath, [BIN, 'serve', '--dns-port', '0', '--api-port', '0', ...args], { env });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const api = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      const match = /^ready dns=\S+ api=(\S+)\n/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`serve exited (${code}) before its ready line: ${stderr}`)));
  });
  return {
    child,
    api,
    stdout: () => stdout,
    stderr: () => stderr,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs `serve` expecting it to refuse to start; resolves with its exit code and stderr. */
export function refusedServe(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--dns-port', '0', '--api-port', '0', ...args], { env });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Started after all: stop it so the test fails on the code, not a hang.
    child.stdout.on('data', () => child.kill('SIGTERM'));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}
