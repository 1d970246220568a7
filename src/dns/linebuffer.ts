// ASCII text written byte by byte into one reused buffer: how the query log
// prints its lines. Formatting a line as strings (template literals, toFixed,
// toISOString, a join per batch) cost more than answering the query did; bytes
// written in place cost a small share of it, and a batch leaves as one string.

/** Room for a batch; a writer flushes before a line could run past it. */
const BUFFER_SIZE = 64 * 1024;
/** The longest line (a 255-octet name escaped as \DDD is 1,020 characters, the rest is short). */
export const LINE_ROOM = 1400;

export class LineBuffer {
  private readonly bytes = Buffer.allocUnsafe(BUFFER_SIZE);
  private at = 0;

  get empty(): boolean {
    return this.at === 0;
  }

  /** Whether another line may not fit. */
  get full(): boolean {
    return this.at > BUFFER_SIZE - LINE_ROOM;
  }

  /** ASCII text (what it writes always is: names, numbers, keywords). */
  text(value: string): void {
    const bytes = this.bytes;
    let at = this.at;
    for (let i = 0; i < value.length; i++) bytes[at++] = value.charCodeAt(i);
    this.at = at;
  }

  byte(code: number): void {
    this.bytes[this.at++] = code;
  }

  /** A non-negative integer in decimal, at least `width` digits (zero-padded). */
  int(value: number, width = 1): void {
    // Comparisons, not a division per digit, for the usual sizes (ports, ids, sizes).
    let digits = value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : value < 10000 ? 4 : value < 100000 ? 5 : 6;
    for (let rest = Math.floor(value / 1e6); rest >= 1; rest = Math.floor(rest / 10)) digits++;
    if (digits < width) digits = width;
    const bytes = this.bytes;
    let rest = value;
    for (let i = this.at + digits - 1; i >= this.at; i--) {
      // Integer division by |0 while the value fits in 31 bits.
      const next = rest < 0x80000000 ? (rest / 10) | 0 : Math.floor(rest / 10);
      bytes[i] = 48 + rest - next * 10;
      rest = next;
    }
    this.at += digits;
  }

  /**
   * A name's wire labels (from `start`, `end` past its last label, no root
   * label) as dig prints it: a dot after each label, `\.` and `\\` escaped,
   * other bytes outside 0x21-0x7e as `\DDD`; the root alone is `.`.
   * Locals, not byte() calls: this is most of a line's bytes.
   */
  name(labels: Uint8Array, start: number, end: number): void {
    const bytes = this.bytes;
    let at = this.at;
    if (end <= start) bytes[at++] = 0x2e;
    for (let offset = start; offset < end; ) {
      const last = offset + labels[offset]!;
      for (let i = offset + 1; i <= last; i++) {
        const byte = labels[i]!;
        if (byte > 0x20 && byte < 0x7f && byte !== 0x2e && byte !== 0x5c) bytes[at++] = byte;
        else if (byte === 0x2e || byte === 0x5c) {
          bytes[at++] = 0x5c;
          bytes[at++] = byte;
        } else {
          bytes[at++] = 0x5c;
          bytes[at++] = 48 + Math.floor(byte / 100);
          bytes[at++] = 48 + (Math.floor(byte / 10) % 10);
          bytes[at++] = 48 + (byte % 10);
        }
      }
      bytes[at++] = 0x2e;
      offset = last + 1;
    }
    this.at = at;
  }

  /** What was written, and the buffer empty again. */
  take(): string {
    const out = this.bytes.toString('latin1', 0, this.at);
    this.at = 0;
    return out;
  }
}
