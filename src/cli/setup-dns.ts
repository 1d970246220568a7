// `headless-dns setup-dns [--undo]`: routes the cluster zone (and nothing else)
// to headless-dns on this machine, the way its resolver is configured: macOS
// `/etc/resolver/<zone>`; systemd-resolved, a link of its own with the zone as a
// routing-only domain; NetworkManager's dnsmasq, a `server=/<zone>/` line. It
// shows what it will do and asks first (or takes --yes), uses sudo when not
// root, does nothing that is already done, undoes only what it made, and runs
// doctor after. Where only a plain resolv.conf decides, it prints instructions.

import { spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { badOption, doctor, fixFor, type MachineFacts, mechanismOf, nameservers, serverAndZone, thisMachine } from './doctor.js';

export const SETUP_DNS_HELP = `Usage: headless-dns setup-dns [--dns HOST:PORT] [--zone ZONE] [--yes] [--undo]

Routes the cluster zone, and only it, to headless-dns through this machine's
resolver: macOS /etc/resolver/ZONE; systemd-resolved, a link named
headless-dns with ZONE as a routing-only domain (until reboot); NetworkManager
with dnsmasq, /etc/NetworkManager/dnsmasq.d/headless-dns.conf. Shows the
change and asks first; uses sudo when not root; changes nothing already set;
then runs doctor. --undo takes out what it made. Where only a plain
/etc/resolv.conf decides, it prints what to do instead.

Options:
      --dns HOST:PORT   where headless-dns answers. Default 127.0.0.1:1053.
      --zone ZONE       the cluster domain. Default cluster.local.
  -y, --yes             do not ask.
      --undo            take the routing out again.
  -h, --help            show this help.
`;

/** Marks the files setup-dns writes, so --undo removes only its own. */
const MARK = '# written by headless-dns setup-dns';

type Io = { stdout: (line: string) => void; stderr: (line: string) => void };

/** One step: a command run as root (through sudo when we are not root), and how to tell it is already done. */
export interface Step {
  describe: string;
  argv: string[];
  /** stdin for the command (a file's contents for `tee`). */
  input?: string;
  done?: () => boolean;
}

export interface Plan {
  steps: Step[];
  /** Printed when there is nothing setup-dns can do itself. */
  instructions?: string[];
}

/** What setup-dns would do on this machine (or undo, with `undo`). */
export function planFor(facts: MachineFacts, host: string, port: number, zone: string, undo: boolean): Plan {
  const mechanism = mechanismOf(facts);
  switch (mechanism) {
    case 'macos-resolver': {
      const file = `/etc/resolver/${zone}`;
      const contents = `${MARK}\nnameserver ${host}\nport ${port}\n`;
      if (undo) return { steps: facts.read(file)?.startsWith(MARK) ? [{ describe: `remove ${file}`, argv: ['rm', '-f', file] }] : [] };
      return {
        steps: [
          { describe: 'create /etc/resolver', argv: ['mkdir', '-p', '/etc/resolver'], done: () => facts.exists('/etc/resolver') },
          { describe: `write ${file} (nameserver ${host}, port ${port})`, argv: ['tee', file], input: contents, done: () => facts.read(file) === contents },
        ],
      };
    }
    case 'systemd-resolved': {
      const linked = (): boolean => spawnSync('ip', ['link', 'show', 'headless-dns'], { stdio: 'ignore' }).status === 0;
      if (undo) return { steps: [{ describe: 'delete the headless-dns link (its routing goes with it)', argv: ['ip', 'link', 'del', 'headless-dns'], done: () => !linked() }] };
      return {
        steps: [
          { describe: 'add a dummy link headless-dns', argv: ['ip', 'link', 'add', 'headless-dns', 'type', 'dummy'], done: linked },
          { describe: 'bring it up', argv: ['ip', 'link', 'set', 'headless-dns', 'up'] },
          { describe: 'give it an address of global scope (resolved routes DNS only on such links)', argv: ['sh', '-c', 'ip addr add 192.0.2.53/32 dev headless-dns 2>/dev/null || true'] },
          { describe: `send its DNS to ${host}:${port}`, argv: ['resolvectl', 'dns', 'headless-dns', `${host}:${port}`] },
          { describe: `route ~${zone} (and nothing else) there`, argv: ['resolvectl', 'domain', 'headless-dns', `~${zone}`] },
          { describe: 'never as the default route', argv: ['resolvectl', 'default-route', 'headless-dns', 'false'] },
        ],
      };
    }
    case 'networkmanager-dnsmasq': {
      const file = '/etc/NetworkManager/dnsmasq.d/headless-dns.conf';
      const contents = `${MARK}\nserver=/${zone}/${host}#${port}\n`;
      const reload = { describe: 'reload NetworkManager', argv: ['systemctl', 'reload', 'NetworkManager'] };
      if (undo) return { steps: facts.read(file)?.startsWith(MARK) ? [{ describe: `remove ${file}`, argv: ['rm', '-f', file] }, reload] : [] };
      if (facts.read(file) === contents) return { steps: [] };
      return { steps: [{ describe: `write ${file} (server=/${zone}/${host}#${port})`, argv: ['tee', file], input: contents }, reload] };
    }
    default:
      return { steps: [], instructions: undo ? ['setup-dns changed nothing here: there is nothing to undo'] : fixFor(mechanism, host, port, zone, facts) };
  }
}

function asRoot(step: Step): { status: number | null; stderr: string } {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const argv = root ? step.argv : ['sudo', ...step.argv];
  const result = spawnSync(argv[0]!, argv.slice(1), { input: step.input ?? '', stdio: ['pipe', 'ignore', 'pipe'] });
  return { status: result.status, stderr: result.stderr?.toString().trim() ?? String(result.error ?? '') };
}

export async function setupDns(args: readonly string[], io: Io, facts: MachineFacts = thisMachine()): Promise<number> {
  let values;
  try {
    values = parseArgs({ args: [...args], strict: true, allowPositionals: false, options: { dns: { type: 'string' }, zone: { type: 'string' }, yes: { type: 'boolean', short: 'y' }, undo: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (error) {
    throw badOption(error);
  }
  if (values.help) {
    io.stdout(SETUP_DNS_HELP.trimEnd());
    return 0;
  }
  const { server, host, port, zone } = serverAndZone(values);
  const plan = planFor(facts, host, port, zone, values.undo === true);
  // A plain resolv.conf that already names headless-dns first (its port 53): nothing to route, only to check.
  if (plan.instructions && !values.undo && nameservers(facts.resolvConf)[0] === host && port === 53) {
    io.stdout(`setup-dns: ${host} is already the first nameserver of /etc/resolv.conf`);
    return doctor(['--dns', server, '--zone', zone], io, facts);
  }
  if (plan.instructions) {
    io.stdout(`setup-dns: this machine resolves names with ${mechanismOf(facts)}, which cannot route one zone by itself; instead:`);
    for (const line of plan.instructions) io.stdout(`  ${line}`);
    return values.undo ? 0 : 1;
  }
  const todo = plan.steps.filter((step) => !step.done?.());
  if (todo.length === 0) {
    io.stdout(values.undo ? 'setup-dns: nothing of ours to take out' : `setup-dns: ${zone} already goes to ${server}`);
  } else {
    io.stdout(`setup-dns will, as root${typeof process.getuid === 'function' && process.getuid() !== 0 ? ' (through sudo)' : ''}:`);
    for (const step of todo) io.stdout(`  ${step.describe}:  ${step.argv.join(' ')}`);
    if (!values.yes) {
      if (!process.stdin.isTTY) {
        io.stderr('setup-dns: not a terminal, so it cannot ask: run it again with --yes to make these changes');
        return 1;
      }
      const prompt = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await prompt.question('Go ahead? [y/N] ');
      prompt.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        io.stdout('setup-dns: nothing changed');
        return 1;
      }
    }
    for (const step of todo) {
      const result = asRoot(step);
      if (result.status !== 0) {
        io.stderr(`setup-dns: ${step.argv.join(' ')} failed${result.stderr ? `: ${result.stderr}` : ''}`);
        return 1;
      }
    }
    io.stdout(values.undo ? 'setup-dns: taken out' : 'setup-dns: done');
  }
  if (values.undo) return 0;
  return doctor(['--dns', server, '--zone', zone], io, facts);
}
