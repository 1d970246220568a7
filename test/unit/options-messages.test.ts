// Option errors name the option as the caller spelled it: startCluster callers
// wrote `dnsPort`, not `--dns-port`; a misspelt key is refused with the key it
// was probably meant to be, instead of being ignored for its default.

import { describe, expect, it } from 'vitest';
import { parseServeArgs } from '../../src/cli/serve.js';
import { type ClusterOptions, startCluster } from '../../src/index.js';
import { parseDnsServer } from '../../src/node-dns/server-address.js';
import { closestMatch, resolveOptions } from '../../src/options.js';

const invalid = (message: string | RegExp): unknown =>
  expect.objectContaining({ code: 'INVALID_OPTION', message: typeof message === 'string' ? message : expect.stringMatching(message) });

describe('startCluster options', () => {
  it('refuses an unknown key, suggesting the one it was probably meant to be', async () => {
    // Before: the typo was ignored, and the cluster served cluster.local.
    await expect(startCluster({ zoen: 'x' } as ClusterOptions)).rejects.toEqual(invalid('unknown option "zoen"; did you mean "zone"?'));
    // A flag's spelling finds the key.
    await expect(startCluster({ 'dns-port': 0 } as ClusterOptions)).rejects.toEqual(invalid('unknown option "dns-port"; did you mean "dnsPort"?'));
    await expect(startCluster({ verbose: true } as ClusterOptions)).rejects.toEqual(invalid('unknown option "verbose"'));
  });

  it('names the key in messages, not the serve flag', async () => {
    await expect(startCluster({ dnsPort: -1 })).rejects.toEqual(invalid('dnsPort must be a port number from 0 to 65535, got -1'));
    expect(() => resolveOptions({ apiPort: 70000 })).toThrow(invalid('apiPort must be a port number from 0 to 65535, got 70000'));
    expect(() => resolveOptions({ ttl: -1 })).toThrow(invalid('ttl must be a whole number of seconds from 0 to 3600, got -1'));
    expect(() => resolveOptions({ podGraceSeconds: -1 })).toThrow(invalid(/^podGraceSeconds must be/));
    expect(() => resolveOptions({ token: 'short' })).toThrow(invalid('token must be at least 8 printable characters without spaces'));
    expect(() => resolveOptions({ upstream: 'dns.example' })).toThrow(invalid(/^upstream must be HOST:PORT/));
    for (const bad of [{ host: 'my-laptop' }, { zone: 'a..b' }, { pods: 'maybe' as never }, { podCidr: '10.0.0.0' }, { udpMaxSize: 1 }, { maxTcpConnections: 0 }]) {
      expect(() => resolveOptions(bad), JSON.stringify(bad)).toThrow(invalid(/^[a-zA-Z]+ /));
    }
  });

  it('names the serve flag when the CLI is the caller', () => {
    const cli = { dnsPort: 0, apiPort: 0, names: 'cli' } as const;
    expect(() => resolveOptions({ dnsPort: -1 }, cli)).toThrow(invalid('--dns-port must be a port number from 0 to 65535, got -1'));
    expect(() => resolveOptions({ podGraceSeconds: -1 }, cli)).toThrow(invalid(/^--pod-grace-period must be/));
    // An option with no flag keeps its key.
    expect(() => resolveOptions({ tcpIdleTimeoutMs: 0 }, cli)).toThrow(invalid(/^tcpIdleTimeoutMs must be/));
  });

  it('takes localhost for host, as 127.0.0.1', () => {
    expect(resolveOptions({ host: 'localhost' }).host).toBe('127.0.0.1');
    expect(resolveOptions({ host: 'LOCALHOST' }).host).toBe('127.0.0.1');
  });
});

describe('serve arguments', () => {
  it('says the range of a negative number, instead of "argument is ambiguous"', () => {
    expect(() => parseServeArgs(['--ttl', '-1'])).not.toThrow();
    const parsed = parseServeArgs(['--ttl', '-1', '--api-port', '-1']);
    if (parsed.help || parsed.version) throw new Error('parsed as --help or --version');
    const cli = { dnsPort: 0, apiPort: 0, names: 'cli' } as const;
    expect(() => resolveOptions(parsed.options, cli)).toThrow(invalid('--ttl must be a whole number of seconds from 0 to 3600, got -1'));
  });

  it('suggests the option a misspelt one was meant to be', () => {
    expect(() => parseServeArgs(['--dns-prot', '53'])).toThrow(invalid('unknown option --dns-prot; did you mean --dns-port?'));
    expect(() => parseServeArgs(['--zoen=k8s.test'])).toThrow(invalid('unknown option --zoen; did you mean --zone?'));
    expect(() => parseServeArgs(['--frobnicate'])).toThrow(invalid('unknown option --frobnicate (try: headless-dns serve --help)'));
    expect(() => parseServeArgs(['--ttl'])).toThrow(invalid(/^--ttl needs a value/));
    expect(() => parseServeArgs(['k8s/'])).toThrow(invalid(/^unexpected argument "k8s\/".*-f/));
  });

  it('knows --version', () => {
    expect(parseServeArgs(['--version'])).toEqual({ help: false, version: true });
  });
});

describe('closestMatch', () => {
  it.each([
    ['zoen', ['zone', 'ttl'], 'zone'],
    ['tll', ['zone', 'ttl'], 'ttl'],
    ['dnsport', ['dnsPort', 'apiPort'], 'dnsPort'],
    ['udp', ['udp-max-size', 'upstream'], 'udp-max-size'],
    ['x', ['zone', 'ttl'], undefined],
    ['replicas', ['zone', 'ttl'], undefined],
  ] as const)('%s among %j → %s', (word, candidates, expected) => {
    expect(closestMatch(word, candidates)).toBe(expected);
  });
});

describe('HEADLESS_DNS', () => {
  it.each([
    ['127.0.0.1:5353', '127.0.0.1:5353'],
    ['localhost:5353', '127.0.0.1:5353'],
    ['localhost', '127.0.0.1:1053'],
    ['10.0.0.2', '10.0.0.2:1053'],
    ['[::1]:5353', '[::1]:5353'],
    ['[::1]', '[::1]:1053'],
    ['::1', '[::1]:1053'],
    [' 127.0.0.1:53 ', '127.0.0.1:53'],
  ])('%s → %s', (text, server) => {
    expect(parseDnsServer(text, 'HEADLESS_DNS')).toBe(server);
  });

  it.each([
    ['nonsense', '"nonsense" is not an IP address or localhost'],
    ['dns.example:53', '"dns.example" is not an IP address or localhost'],
    ['localhost:0', 'port "0" is not a number from 1 to 65535'],
    ['localhost:99999', 'port "99999" is not a number from 1 to 65535'],
    ['127.0.0.1:', 'port "" is not a number from 1 to 65535'],
    [':53', 'no host'],
    ['[127.0.0.1]:53', '"127.0.0.1" in brackets is not an IPv6 address'],
  ])('refuses %s, naming the variable', (text, why) => {
    expect(() => parseDnsServer(text, 'HEADLESS_DNS')).toThrow(invalid(`HEADLESS_DNS="${text}": ${why}; write HOST:PORT, e.g. 127.0.0.1:1053, localhost:5353 or [::1]:1053`));
  });
});
