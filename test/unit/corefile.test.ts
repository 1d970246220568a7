// serve --corefile: the settings read from kubeadm's, k3s's, and a cluster's
// Corefile using endpoint_pod_names, and what is named as not applied.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { corefileSettings, parseCorefile } from '../../src/cli/corefile.js';
import { resolveOptions } from '../../src/options.js';

const corefile = (name: string): string => readFileSync(fileURLToPath(new URL(`../fixtures/corefiles/${name}`, import.meta.url)), 'utf8');

describe('Corefiles', () => {
  it('kubeadm: the kubeadm profile, with the upstream from /etc/resolv.conf', () => {
    const { options, notApplied } = corefileSettings(corefile('kubeadm'));
    expect(options).toMatchObject({ zone: 'cluster.local', reverseZones: ['in-addr.arpa', 'ip6.arpa'], pods: 'insecure', fallthrough: ['in-addr.arpa', 'ip6.arpa'], ttl: 30 });
    expect(notApplied).toEqual(expect.arrayContaining(['errors', 'health', 'ready', 'prometheus', 'loop', 'reload', 'loadbalance', 'forward options (max_concurrent)']));
    expect(notApplied.find((n) => n.startsWith('cache 30'))).toBeDefined();
    // The settings are valid options as they are.
    expect(() => resolveOptions({ ...options, upstream: '127.0.0.1:53' })).not.toThrow();
  });

  it('k3s: hosts and import are named, not dropped', () => {
    const { options, notApplied } = corefileSettings(corefile('k3s'));
    expect(options).toMatchObject({ zone: 'cluster.local', pods: 'insecure', fallthrough: ['in-addr.arpa', 'ip6.arpa'] });
    expect(options.ttl).toBeUndefined();
    expect(notApplied).toEqual(expect.arrayContaining(['hosts', 'import', 'import (top level)']));
  });

  it('endpoint_pod_names, namespaces, ignore empty_service, one reverse zone, forward to addresses', () => {
    const { options, notApplied, applied } = corefileSettings(corefile('endpoint-pod-names'));
    expect(options).toEqual({
      zone: 'cluster.test',
      reverseZones: ['0.10.in-addr.arpa'],
      pods: 'verified',
      endpointPodNames: true,
      namespaces: ['testns', 'default'],
      ignoreEmptyService: true,
      ttl: 5,
      upstream: '10.0.0.53:53',
    });
    expect(notApplied).toEqual(['log (no query log)', 'errors', "forward's other servers (10.0.0.54)", 'cache 5 (answers are prepared when membership changes; nothing is cached)']);
    expect(applied[0]).toBe('zone cluster.test, reverse zones 0.10.in-addr.arpa');
  });

  it('parses nested blocks, quotes, comments and comma-separated keys', () => {
    const blocks = parseCorefile('a.example, b.example:53 {\n  # comment\n  hosts "/etc/my hosts" {\n    fallthrough\n  }\n}\n');
    expect(blocks).toEqual([{ keys: ['a.example', 'b.example:53'], directives: [{ name: 'hosts', args: ['/etc/my hosts'], line: 3, block: [{ name: 'fallthrough', args: [], line: 4, block: [] }] }] }]);
  });

  it.each([
    ['.:53 {\n  errors\n', /Corefile:2: a block is not closed with }/],
    ['.:53 {\n  errors\n}\n', /no server block has a kubernetes plugin/],
    ['.:53 {\n  hosts "unterminated\n}', /Corefile:2: unterminated quote/],
  ])('refuses %j', (text, message) => {
    expect(() => corefileSettings(text)).toThrow(message);
  });
});
