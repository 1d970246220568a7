// A made-up machine for doctor and setup-dns: its files and directories, by path.

import type { MachineFacts } from '../../src/cli/doctor.js';

export const machine = (facts: Partial<MachineFacts> & { files?: Record<string, string>; dirs?: string[] }): MachineFacts => ({
  platform: 'linux',
  resolvConf: 'nameserver 10.0.0.2\n',
  nsswitch: 'hosts: files dns\n',
  exists: (path) => (facts.dirs ?? []).includes(path) || path in (facts.files ?? {}),
  read: (path) => facts.files?.[path],
  ...facts,
});
