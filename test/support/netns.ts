// Linux network namespaces made by a test for itself (root, util-linux's
// unshare, iproute2's ip): its own loopback, its own sysctls, nothing shared
// with the machine's.

import { spawnSync } from 'node:child_process';

export const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** Why `unshare` with these namespaces cannot be used here, or undefined when it can. */
export function cannotIsolate(namespaces: Array<'--net' | '--mount'>): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (!has('unshare') || !has('ip')) return 'unshare or ip (util-linux, iproute2) is not installed';
  const check = namespaces.includes('--mount') ? 'ip link set lo up && mount --bind /dev/null /etc/hostname && echo ok' : 'ip link set lo up && echo ok';
  const probe = spawnSync('unshare', [...namespaces, 'sh', '-c', check]);
  if (probe.stdout?.toString().trim() !== 'ok') return `unshare ${namespaces.join(' ')} is not allowed here (${probe.stderr?.toString().trim() || `exit ${probe.status}`}); run as root`;
  return undefined;
}
