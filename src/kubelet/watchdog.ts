// The guarantee that no member process outlives its owner, even when the owner
// is SIGKILLed: one small Node process per runtime, in its own session, holding
// the read end of a pipe whose write end only the owner has (Node opens pipes
// close-on-exec, so members do not inherit it). The owner tells it each process
// group it starts (`+PGID GRACE_MS`) and each one that has ended (`-PGID`). When
// the owner exits for any reason the kernel closes the pipe; the watchdog then
// sends every group it still knows SIGTERM, SIGKILL after that group's grace
// period, and exits once all are gone. (Node has no prctl(PR_SET_PDEATHSIG), and
// that would reach a direct child only, not the tree under `sh -c`.)

import { type ChildProcess, spawn } from 'node:child_process';

const WATCHDOG = `
const groups = new Map();
const send = (group, signal) => { try { process.kill(-group, signal); return true; } catch (error) { return error.code === 'EPERM'; } };
let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let at;
  while ((at = buffered.indexOf('\\n')) >= 0) {
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    const [op, group, grace] = [line[0], Number(line.slice(1).split(' ')[0]), Number(line.split(' ')[1] || 0)];
    if (!(group > 0)) continue;
    if (op === '+') groups.set(group, grace);
    else if (op === '-') groups.delete(group);
  }
});
let fired = false;
const fire = () => {
  if (fired) return;
  fired = true;
  const started = Date.now();
  for (const [group] of groups) if (!send(group, 'SIGTERM')) groups.delete(group);
  const tick = () => {
    for (const [group, grace] of groups) {
      if (!send(group, 0)) groups.delete(group);
      else if (Date.now() - started >= grace) { send(group, 'SIGKILL'); groups.delete(group); }
    }
    if (groups.size === 0) process.exit(0);
  };
  tick();
  setInterval(tick, 50);
};
process.stdin.on('end', fire);
process.stdin.on('close', fire);
process.stdin.on('error', fire);
`;

export class Watchdog {
  private child: ChildProcess | undefined;

  /** Starts the watchdog process on first use (a cluster that runs nothing never has one). */
  private ensure(): ChildProcess | undefined {
    if (process.platform === 'win32') return undefined;
    if (this.child) return this.child;
    const child = spawn(process.execPath, ['-e', WATCHDOG], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env: {} });
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    child.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    this.child = child;
    return child;
  }

  /** Watch this process group: if the owner dies, it gets SIGTERM, then SIGKILL after `graceMs`. */
  watch(group: number, graceMs: number): void {
    this.ensure()?.stdin?.write(`+${group} ${Math.max(0, Math.round(graceMs))}\n`);
  }

  /** The group has ended (or was stopped by its owner): nothing to do for it any more. */
  forget(group: number): void {
    this.child?.stdin?.write(`-${group}\n`);
  }

  /** The owner is closing and has stopped every group itself: the watchdog exits with nothing to do. */
  close(): void {
    const child = this.child;
    this.child = undefined;
    child?.stdin?.end();
  }
}
