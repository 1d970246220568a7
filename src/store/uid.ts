// metadata.uid for new objects: random (version 4) UUIDs. Made from a pool of
// random bytes into one flat string, because a store of 100k pods keeps 100k
// of them and crypto.randomUUID's text is a chain of joined pieces.

import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 512);
let used = pool.length;
const text = Buffer.alloc(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

export function newUid(): string {
  if (used === pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const at = used;
  used += 16;
  pool[at + 6] = (pool[at + 6]! & 0x0f) | 0x40;
  pool[at + 8] = (pool[at + 8]! & 0x3f) | 0x80;
  let o = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[o++] = 0x2d;
    const byte = pool[at + i]!;
    text[o++] = HEX[byte >> 4]!;
    text[o++] = HEX[byte & 15]!;
  }
  return text.toString('latin1');
}
