// The hand-written IPv6 grammar must agree with net.isIPv6 (for addresses
// without a zone index, which it hands to net.isIPv6).

import { isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipFamily, isIPv6Address } from '../../src/model/ip.js';

const TABLE = [
  '::', '::1', '1::', 'fd00:10:96::', '2001:db8::ffff', '::ffff:10.0.0.1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::',
  '1:2:3:4:5:6:7::8', ':1', '1:', ':::', '1::2::3', '12345::', 'g::', '::ffff:1.2.3', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4',
  '1:2:3:4:5:6:7:1.2.3.4', '', ':', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', '::ffff:01.2.3.4', 'a:b::c:1.2.3.4', '1.2.3.4::',
  '::1.2.3.4:5', 'FD00::A', '0:0:0:0:0:0:0:0', '1::2:3:4:5:6:7', '1::2:3:4:5:6:7:8', '::2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8::',
];

/** Random near-addresses: valid ones with a group changed, dropped, doubled, or a separator moved. */
function mutated(random: () => number): string {
  const groups = Array.from({ length: 8 }, () => Math.floor(random() * 0x10000).toString(16));
  if (random() < 0.3) groups.splice(6, 2, `${Math.floor(random() * 300)}.${Math.floor(random() * 256)}.1.${Math.floor(random() * 256)}`);
  let text = groups.join(':');
  if (random() < 0.6) {
    const from = Math.floor(random() * groups.length);
    const to = from + Math.floor(random() * (groups.length - from + 1));
    text = `${groups.slice(0, from).join(':')}::${groups.slice(to).join(':')}`;
  }
  const edits = Math.floor(random() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (text.length + 1));
    const pick = ':.0fgF12345'[Math.floor(random() * 11)]!;
    text = random() < 0.5 ? text.slice(0, at) + pick + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
  }
  return text;
}

describe('isIPv6Address', () => {
  it.each(TABLE)('%j as net.isIPv6', (address) => {
    expect(isIPv6Address(address)).toBe(isIPv6(address));
  });

  it('agrees with net.isIPv6 on 50,000 mutated addresses', () => {
    let seed = 7;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    let valid = 0;
    for (let i = 0; i < 50_000; i++) {
      const address = mutated(random);
      const expected = isIPv6(address);
      if (expected) valid++;
      if (isIPv6Address(address) !== expected) expect.fail(`${address}: net.isIPv6 says ${expected}`);
    }
    // The generator makes both kinds, or the comparison proves little.
    expect(valid).toBeGreaterThan(5_000);
    expect(valid).toBeLessThan(45_000);
  });

  it('ipFamily', () => {
    expect(ipFamily('10.0.0.1')).toBe(4);
    expect(ipFamily('fd00::1')).toBe(6);
    expect(ipFamily('kubia')).toBeUndefined();
  });
});
