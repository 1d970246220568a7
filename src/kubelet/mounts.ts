// `--mount-volumes`: a member sees each volume at its real `mountPath`, as in
// its container, where Linux lets an unprivileged user make a user and mount
// namespace. The command is started through `unshare --user --map-root-user
// --mount`, which execs a small shell in the new namespaces that bind-mounts
// each volume's directory on its mountPath and then execs the command (same
// process, so its process group and the watchdog are unchanged). A mountPath
// that does not exist (/var/data) is made under an overlay of its nearest
// existing parent (/var), so nothing of the parent is hidden or changed on the
// machine. Without those namespaces, or for a mountPath right under /, the
// member runs as before and finds its volumes through HEADLESS_DNS_VOLUME_*.

import { spawnSync } from 'node:child_process';
import { posix } from 'node:path';

export interface MountRequest {
  /** The volume's directory on this machine. */
  source: string;
  /** Where the container expects it. */
  mountPath: string;
}

/** Can this user make a user and mount namespace here? Asked once; the reason when not. */
let support: { ok: true } | { ok: false; reason: string } | undefined;

export function mountNamespaces(): { ok: true } | { ok: false; reason: string } {
  if (support) return support;
  if (process.platform !== 'linux') return (support = { ok: false, reason: 'mount namespaces are Linux only' });
  const probe = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (probe.error) return (support = { ok: false, reason: `unshare is not available (${probe.error.message})` });
  if (probe.status !== 0) return (support = { ok: false, reason: `unprivileged user namespaces are not allowed here (unshare: ${probe.stderr.toString().trim() || `exit ${probe.status}`})` });
  return (support = { ok: true });
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * The argv that starts `argv` with these mounts in place, and the mounts that
 * cannot be made (their mountPath is right under /: no parent to overlay).
 * `scratch` is a directory of the pod's own for the overlays' upper layers.
 */
export function withMounts(argv: readonly string[], mounts: readonly MountRequest[], scratch: string): { argv: string[]; skipped: string[] } {
  const skipped: string[] = [];
  const lines = ['set -e'];
  let overlays = 0;
  for (const mount of mounts) {
    const target = posix.normalize(mount.mountPath);
    if (!posix.isAbsolute(target) || posix.dirname(target) === '/') {
      skipped.push(target);
      continue;
    }
    // The nearest existing parent is found in the namespace, at start: overlaid once, then the path is made in it.
    const upper = `${scratch}/overlay-${overlays++}`;
    lines.push(
      `t=${quote(target)}; s=${quote(mount.source)}; u=${quote(upper)}`,
      'if [ ! -d "$t" ]; then',
      '  p=$(dirname "$t"); while [ ! -d "$p" ]; do p=$(dirname "$p"); done',
      '  if [ "$p" = / ]; then echo "headless-dns: cannot make $t (nothing to overlay above it); the volume is at $s" >&2; t=; else',
      '    mkdir -p "$u/upper" "$u/work"',
      '    mount -t overlay overlay -o "lowerdir=$p,upperdir=$u/upper,workdir=$u/work" "$p"',
      '    mkdir -p "$t"',
      '  fi',
      'fi',
      '[ -n "$t" ] && mount --bind "$s" "$t"',
    );
  }
  lines.push('exec "$@"');
  return { argv: ['unshare', '--user', '--map-root-user', '--mount', '--', '/bin/sh', '-c', lines.join('\n'), 'headless-dns-mounts', ...argv], skipped };
}
