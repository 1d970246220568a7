// `headless-dns serve`: load manifests, answer DNS, print one ready line.

import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type StartedCluster, startCluster } from '../cluster.js';
import { HeadlessDnsError } from '../errors.js';
import { DEFAULTS } from '../options.js';
import type { PodMode } from '../records/build.js';

export const BUILTIN_EXAMPLE = fileURLToPath(new URL('../../examples/kubia', import.meta.url));

export const SERVE_HELP = `Usage: headless-dns serve [options]

Answers Kubernetes cluster DNS (CoreDNS's kubernetes plugin, kubeadm profile)
for the objects in the given manifests. Prints one line to stdout when it is
listening:  ready dns=HOST:PORT api=URL  (api=- until the API exists).
Logs go to stderr. SIGINT or SIGTERM stops it.

Options:
  -f, --filename PATH     manifest file or directory (YAML or JSON, multi-document,
                          kind: List); repeatable. Default: the built-in kubia
                          example (examples/kubia).
      --dns-port N        DNS port, UDP and TCP; 0 picks a free one. Default ${DEFAULTS.dnsPort}.
      --host ADDR         address to bind. Default ${DEFAULTS.host} (loopback only).
      --zone Z            cluster domain. Default ${DEFAULTS.zone}.
      --ttl S             TTL of every record, 0-3600 seconds. Default ${DEFAULTS.ttl}.
      --pods MODE         pod records <a-b-c-d>.<ns>.pod.<zone>: disabled, insecure
                          or verified. Default ${DEFAULTS.pods}.
      --upstream HOST:PORT  forward names outside the zone (and reverse-zone misses)
                          to this server. Default: none, such queries get REFUSED.
  -h, --help              show this help.
`;

export interface ServeIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export type ParsedServeArgs =
  | { help: true }
  | { help: false; options: Parameters<typeof startCluster>[0]; builtinExample: boolean };

export function parseServeArgs(args: readonly string[]): ParsedServeArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        filename: { type: 'string', short: 'f', multiple: true },
        'dns-port': { type: 'string' },
        host: { type: 'string' },
        zone: { type: 'string' },
        ttl: { type: 'string' },
        pods: { type: 'string' },
        upstream: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new HeadlessDnsError('INVALID_OPTION', (error as Error).message.split('\n')[0] ?? 'invalid option');
  }
  const v = parsed.values;
  if (v.help) return { help: true };
  const integer = (text: string | undefined, flag: string): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d+$/.test(text)) throw new HeadlessDnsError('INVALID_OPTION', `${flag} must be a whole number, got "${text}"`);
    return Number(text);
  };
  const dnsPort = integer(v['dns-port'], '--dns-port');
  const ttl = integer(v.ttl, '--ttl');
  return {
    help: false,
    builtinExample: !v.filename?.length,
    options: {
      manifests: v.filename?.length ? v.filename : [BUILTIN_EXAMPLE],
      ...(dnsPort !== undefined ? { dnsPort } : {}),
      ...(v.host !== undefined ? { host: v.host } : {}),
      ...(v.zone !== undefined ? { zone: v.zone } : {}),
      ...(ttl !== undefined ? { ttl } : {}),
      ...(v.pods !== undefined ? { pods: v.pods as PodMode } : {}),
      ...(v.upstream !== undefined ? { upstream: v.upstream } : {}),
    },
  };
}

/** Runs `serve` until a signal; resolves with the exit code. */
export async function serve(args: readonly string[], io: ServeIo): Promise<number> {
  const parsed = parseServeArgs(args);
  if (parsed.help) {
    io.stdout(SERVE_HELP.trimEnd());
    return 0;
  }
  const cluster: StartedCluster = await startCluster({ ...parsed.options, log: io.stderr }, { dnsPort: DEFAULTS.dnsPort });
  if (parsed.builtinExample) io.stderr(`no -f given: serving the built-in kubia example (${BUILTIN_EXAMPLE})`);
  const counts = new Map<string, number>();
  for (const object of cluster.store.all()) counts.set(object.kind, (counts.get(object.kind) ?? 0) + 1);
  io.stderr(`loaded ${[...counts].map(([kind, n]) => `${n} ${kind}`).join(', ')}; zone ${cluster.options.zone} ttl ${cluster.options.ttl} pods ${cluster.options.pods}`);
  io.stdout(`ready dns=${cluster.dnsServer} api=-`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      io.stderr(`${signal}: shutting down`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve();
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
  });
  await cluster.close();
  return 0;
}
