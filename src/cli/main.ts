#!/usr/bin/env node
// Entry point of the `headless-dns` command.

import { isHeadlessDnsError } from '../errors.js';
import { closestMatch } from '../options.js';
import { run } from './run.js';
import { doctor } from './doctor.js';
import { setupDns } from './setup-dns.js';
import { packageVersion, serve } from './serve.js';

const HELP = `Usage: headless-dns <command> [options]

Commands:
  serve     answer cluster DNS for Kubernetes manifests (see: headless-dns serve --help)
  run       run a local process as a StatefulSet member (see: headless-dns run --help)
  doctor    check that this machine's resolver reaches headless-dns for the zone,
            and print the change that makes it (see: headless-dns doctor --help)
  setup-dns route the cluster zone to headless-dns on this machine, or --undo it
            (see: headless-dns setup-dns --help)

Options:
  -h, --help      show this help
  -v, --version   print the version
`;

async function main(argv: readonly string[]): Promise<number> {
  const io = {
    stdout: (line: string) => process.stdout.write(`${line}\n`),
    stderr: (line: string) => process.stderr.write(`${line}\n`),
    stderrBytes: (chunk: Uint8Array) => process.stderr.write(chunk),
  };
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    io.stdout(HELP.trimEnd());
    return command === undefined ? 2 : 0;
  }
  if (command === '-v' || command === '--version') {
    io.stdout(packageVersion());
    return 0;
  }
  try {
    if (command === 'serve') return await serve(rest, io);
    if (command === 'run') return await run(rest, io);
    if (command === 'doctor') return await doctor(rest, io);
    if (command === 'setup-dns') return await setupDns(rest, io);
    const guess = closestMatch(command, ['serve', 'run', 'doctor', 'setup-dns']);
    io.stderr(`INVALID_OPTION: unknown command "${command}"${guess ? `; did you mean "${guess}"?` : ''} (try: headless-dns --help)`);
    return 2;
  } catch (error) {
    if (isHeadlessDnsError(error)) {
      io.stderr(`${error.code}: ${error.message}`);
      return error.code === 'INVALID_OPTION' ? 2 : 1;
    }
    io.stderr(`INTERNAL: ${(error as Error).stack ?? String(error)}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
