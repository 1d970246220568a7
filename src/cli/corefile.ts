// `serve --corefile FILE`: your cluster's CoreDNS settings, read from its
// Corefile. The server block that holds the `kubernetes` plugin is used: its
// zones (the cluster domain and reverse zones), `pods`, `ttl`, `namespaces`,
// `endpoint_pod_names`, `ignore empty_service` and `fallthrough`; `forward`
// becomes the upstream. What headless-dns does not do is named in one warning
// line, never dropped silently.

import { readFileSync } from 'node:fs';
import { HeadlessDnsError } from '../errors.js';
import type { ClusterOptions } from '../options.js';
import type { PodMode } from '../records/build.js';

/** A directive: its name, its arguments, and the directives of its block. */
export interface Directive {
  name: string;
  args: string[];
  block: Directive[];
  line: number;
}

export interface ServerBlock {
  /** The keys (`.:53`, `cluster.local:53`). */
  keys: string[];
  directives: Directive[];
}

interface Token {
  text: string;
  line: number;
  quoted: boolean;
}

function tokenize(text: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  for (let i = 0; i < text.length; ) {
    const ch = text[i]!;
    if (ch === '\n') {
      line++;
      i++;
    } else if (ch === ' ' || ch === '\t' || ch === '\r') i++;
    else if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === '"') {
      let value = '';
      const start = line;
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        if (text[i] === '\n') line++;
        value += text[i++];
      }
      if (i >= text.length) throw new HeadlessDnsError('INVALID_OPTION', `${file}:${start}: unterminated quote`);
      i++;
      tokens.push({ text: value, line: start, quoted: true });
    } else {
      let value = '';
      while (i < text.length && !/[\s#]/.test(text[i]!)) value += text[i++];
      tokens.push({ text: value, line, quoted: false });
    }
  }
  return tokens;
}

/** The Corefile's server blocks (Caddyfile syntax: keys, then `{ directives }`; a directive's arguments are on its line). */
export function parseCorefile(text: string, file = 'Corefile'): ServerBlock[] {
  const tokens = tokenize(text, file);
  let at = 0;
  const fail = (message: string, token = tokens[Math.min(at, tokens.length - 1)]): never => {
    throw new HeadlessDnsError('INVALID_OPTION', `${file}:${token?.line ?? 1}: ${message}`);
  };
  const isOpen = (t: Token | undefined): boolean => !!t && !t.quoted && t.text === '{';
  const isClose = (t: Token | undefined): boolean => !!t && !t.quoted && t.text === '}';
  const directives = (): Directive[] => {
    const out: Directive[] = [];
    for (;;) {
      const token = tokens[at];
      if (!token) fail('a block is not closed with }');
      if (isClose(token)) {
        at++;
        return out;
      }
      const directive: Directive = { name: token!.text, args: [], block: [], line: token!.line };
      at++;
      while (tokens[at] && tokens[at]!.line === directive.line && !isOpen(tokens[at]) && !isClose(tokens[at])) directive.args.push(tokens[at++]!.text);
      if (isOpen(tokens[at]) && tokens[at]!.line === directive.line) {
        at++;
        directive.block = directives();
      }
      out.push(directive);
    }
  };
  const blocks: ServerBlock[] = [];
  while (at < tokens.length) {
    const keys: string[] = [];
    // `import` at the top level pulls in other files, which are not read here.
    if (tokens[at]!.text === 'import' && !tokens[at]!.quoted) {
      const line = tokens[at]!.line;
      at++;
      while (tokens[at] && tokens[at]!.line === line) at++;
      blocks.push({ keys: ['import'], directives: [] });
      continue;
    }
    while (tokens[at] && !isOpen(tokens[at])) keys.push(...tokens[at++]!.text.split(',').filter(Boolean));
    if (!tokens[at]) fail(`server block ${keys.join(' ')} has no { ... }`);
    at++;
    blocks.push({ keys, directives: directives() });
  }
  return blocks;
}

const isReverse = (zone: string): boolean => /(^|\.)(in-addr|ip6)\.arpa\.?$/i.test(zone);
const zoneOf = (key: string): string => key.replace(/^dns:\/\//, '').replace(/:\d+$/, '').replace(/\.$/, '') || '.';

/** Plugins headless-dns has no part in: named in the warning, nothing else. */
export interface CorefileSettings {
  options: Partial<ClusterOptions>;
  /** What was read but is not done here, for one warning line. */
  notApplied: string[];
  /** What was read and how it is taken, for the log. */
  applied: string[];
}

/** The first nameserver of a resolv.conf (what `forward . /etc/resolv.conf` uses first). */
function nameserverOf(path: string): string | undefined {
  try {
    const match = /^\s*nameserver\s+(\S+)/m.exec(readFileSync(path, 'utf8'));
    return match?.[1];
  } catch {
    return undefined;
  }
}

/** The settings of the server block holding the `kubernetes` plugin. */
export function corefileSettings(text: string, file = 'Corefile'): CorefileSettings {
  const blocks = parseCorefile(text, file);
  const block = blocks.find((b) => b.directives.some((d) => d.name === 'kubernetes'));
  if (!block) throw new HeadlessDnsError('INVALID_OPTION', `${file}: no server block has a kubernetes plugin`);
  const options: Partial<ClusterOptions> = {};
  const notApplied: string[] = [];
  const applied: string[] = [];
  if (blocks.some((b) => b.keys[0] === 'import')) notApplied.push('import (top level)');
  for (const other of blocks) if (other !== block && other.keys[0] !== 'import') notApplied.push(`server block ${other.keys.join(' ')}`);
  for (const directive of block.directives) {
    switch (directive.name) {
      case 'kubernetes': {
        const zones = directive.args.length ? directive.args : block.keys.map(zoneOf).filter((z) => z !== '.');
        const forward = zones.filter((z) => !isReverse(z));
        if (forward.length > 1) notApplied.push(`kubernetes zones ${forward.slice(1).join(' ')} (one cluster zone is served: ${forward[0]})`);
        if (forward[0]) options.zone = forward[0].replace(/\.$/, '');
        options.reverseZones = zones.filter(isReverse).map((z) => z.replace(/\.$/, ''));
        applied.push(`zone ${options.zone ?? 'cluster.local'}${options.reverseZones.length ? `, reverse zones ${options.reverseZones.join(' ')}` : ', no reverse zones'}`);
        for (const setting of directive.block) {
          switch (setting.name) {
            case 'pods':
              options.pods = setting.args[0] as PodMode;
              applied.push(`pods ${setting.args[0]}`);
              break;
            case 'ttl':
              options.ttl = Number(setting.args[0]);
              applied.push(`ttl ${setting.args[0]}`);
              break;
            case 'namespaces':
              options.namespaces = setting.args;
              applied.push(`namespaces ${setting.args.join(' ')}`);
              break;
            case 'endpoint_pod_names':
              options.endpointPodNames = true;
              applied.push('endpoint_pod_names');
              break;
            case 'ignore':
              if (setting.args[0] === 'empty_service') {
                options.ignoreEmptyService = true;
                applied.push('ignore empty_service');
              } else notApplied.push(`kubernetes ignore ${setting.args.join(' ')}`);
              break;
            case 'fallthrough':
              options.fallthrough = setting.args.length ? setting.args : true;
              applied.push(`fallthrough${setting.args.length ? ` ${setting.args.join(' ')}` : ''}`);
              break;
            default:
              notApplied.push(`kubernetes ${setting.name}`);
          }
        }
        break;
      }
      case 'forward': {
        const to = directive.args.slice(1);
        const first = to[0];
        const address = first?.startsWith('/') ? nameserverOf(first) : first?.replace(/^dns:\/\//, '');
        if (address && /^[\d.]+(:\d+)?$|^\[[\da-f:]+\](:\d+)?$/i.test(address)) {
          options.upstream = /:\d+$/.test(address) ? address : `${address.includes(':') && !address.startsWith('[') ? `[${address}]` : address}:53`;
          applied.push(`forward ${directive.args[0]} → upstream ${options.upstream}${first?.startsWith('/') ? ` (first nameserver of ${first})` : ''}`);
          if (to.length > 1) notApplied.push(`forward's other servers (${to.slice(1).join(' ')})`);
        } else notApplied.push(`forward ${directive.args.join(' ')}`);
        if (directive.block.length) notApplied.push(`forward options (${directive.block.map((d) => d.name).join(' ')})`);
        break;
      }
      case 'cache':
        notApplied.push(`cache${directive.args.length ? ` ${directive.args.join(' ')}` : ''} (answers are prepared when membership changes; nothing is cached)`);
        break;
      case 'log':
        notApplied.push('log (no query log)');
        break;
      default:
        notApplied.push(directive.name);
    }
  }
  return { options, notApplied, applied };
}
