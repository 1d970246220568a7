// setup-dns's plan per mechanism: only the zone, idempotent, undoing only its own.

import { describe, expect, it } from 'vitest';
import { planFor } from '../../src/cli/setup-dns.js';
import { machine } from '../support/machine.js';

const OURS = '# written by headless-dns setup-dns\nnameserver 127.0.0.1\nport 1053\n';

describe('setup-dns plans', () => {
  it('macOS: /etc/resolver/<zone> with the port; nothing when it is there; undo only our file', () => {
    const plan = planFor(machine({ platform: 'darwin' }), '127.0.0.1', 1053, 'cluster.local', false);
    expect(plan.steps.map((s) => s.argv)).toEqual([['mkdir', '-p', '/etc/resolver'], ['tee', '/etc/resolver/cluster.local']]);
    expect(plan.steps[1]!.input).toBe(OURS);
    const done = machine({ platform: 'darwin', dirs: ['/etc/resolver'], files: { '/etc/resolver/cluster.local': OURS } });
    expect(planFor(done, '127.0.0.1', 1053, 'cluster.local', false).steps.every((s) => s.done?.())).toBe(true);
    expect(planFor(done, '127.0.0.1', 1053, 'cluster.local', true).steps.map((s) => s.argv)).toEqual([['rm', '-f', '/etc/resolver/cluster.local']]);
    const theirs = machine({ platform: 'darwin', files: { '/etc/resolver/cluster.local': 'nameserver 10.0.0.9\n' } });
    expect(planFor(theirs, '127.0.0.1', 1053, 'cluster.local', true).steps).toEqual([]);
  });

  it('systemd-resolved: a link of its own with ~zone as a routing-only domain, never the default route', () => {
    const plan = planFor(machine({ resolvConf: 'nameserver 127.0.0.53\n', dirs: ['/run/systemd/resolve'] }), '127.0.0.1', 1053, 'cluster.local', false);
    expect(plan.steps.map((s) => s.argv.join(' '))).toEqual([
      'ip link add headless-dns type dummy',
      'ip link set headless-dns up',
      'sh -c ip addr add 192.0.2.53/32 dev headless-dns 2>/dev/null || true',
      'resolvectl dns headless-dns 127.0.0.1:1053',
      'resolvectl domain headless-dns ~cluster.local',
      'resolvectl default-route headless-dns false',
    ]);
  });

  it('NetworkManager with dnsmasq: one server=/zone/ line, then a reload', () => {
    const facts = machine({ files: { '/etc/NetworkManager/NetworkManager.conf': '[main]\ndns=dnsmasq\n' } });
    const plan = planFor(facts, '127.0.0.1', 1053, 'cluster.local', false);
    expect(plan.steps.map((s) => s.argv)).toEqual([['tee', '/etc/NetworkManager/dnsmasq.d/headless-dns.conf'], ['systemctl', 'reload', 'NetworkManager']]);
    expect(plan.steps[0]!.input).toBe('# written by headless-dns setup-dns\nserver=/cluster.local/127.0.0.1#1053\n');
  });

  it('a plain resolv.conf: instructions, no changes', () => {
    const plan = planFor(machine({}), '127.0.0.1', 1053, 'cluster.local', false);
    expect(plan.steps).toEqual([]);
    expect(plan.instructions?.join('\n')).toContain('--upstream 10.0.0.2:53');
  });
});
