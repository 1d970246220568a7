// ASCII text written byte by byte into one reused buffer: how the query log
// prints its lines. Formatting a line as strings (template literals, toFixed,
// toISOString, a join per batch) cost more than answering the query did; bytes
// written in place cost a small share of it, and a batch leaves as one string.

/** Room for a batch; a writer flushes before a line could run past it. */
const BUFFER_SIZE = 64 * 1024;
/** The longest line (a 255-octet name escaped as \DDD is 1,020 characters, the rest is short). */
export const LINE_ROOM = 1400;

/** 1 for the bytes a name shows as they are (0x21-0x7e but `.` and `\\`): one load per byte, not four comparisons. */
const PLAIN = new Uint8Array(256);
for (let byte = 0x21; byte < 0x7f; byte++) if (byte !== 0x2e && byte !== 0x5c) PLAIN[byte] = 1;

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

  /** Bytes made beforehand (a loop: for the few bytes of a line's parts, faster than set()). */
  copy(chunk: Uint8Array): void {
    const bytes = this.bytes;
    let at = this.at;
    for (let i = 0; i < chunk.length; i++) bytes[at++] = chunk[i]!;
    this.at = at;
  }

  byte(code: number): void {
    this.bytes[this.at++] = code;
  }

  /** A non-negative integer in decimal, at least `width` digits (zero-padded). */
  int(value: number, width = 1): void {
    if (value >= 0x80000000) return this.bigInt(value, width);
    // 31 bits: comparisons for the digits, and integer division (|0), which V8 makes a multiply.
    let rest = value | 0;
    let digits = rest < 10 ? 1 : rest < 100 ? 2 : rest < 1000 ? 3 : rest < 10000 ? 4 : rest < 100000 ? 5 : rest < 1000000 ? 6 : rest < 10000000 ? 7 : rest < 100000000 ? 8 : rest < 1000000000 ? 9 : 10;
    if (digits < width) digits = width;
    const bytes = this.bytes;
    const first = this.at;
    for (let i = first + digits - 1; i >= first; i--) {
      const next = (rest / 10) | 0;
      bytes[i] = 48 + rest - next * 10;
      rest = next;
    }
    this.at = first + digits;
  }

  /** int() past 31 bits (a reply size never is; kept right for any safe integer). */
  private bigInt(value: number, width: number): void {
    let digits = 1;
    for (let rest = value; rest >= 10; rest = (rest - (rest % 10)) / 10) digits++;
    if (digits < width) digits = width;
    const bytes = this.bytes;
    let rest = value;
    for (let i = this.at + digits - 1; i >= this.at; i--) {
      // The remainder, then an exact division: rest / 10 rounds near 2^53.
      const digit = rest % 10;
      bytes[i] = 48 + digit;
      rest = (rest - digit) / 10;
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
        if (PLAIN[byte] === 1) bytes[at++] = byte;
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

  /** What was written, as bytes of its own (a copy the caller may keep), and the buffer empty again. */
  takeBytes(): Buffer {
    const out = Buffer.allocUnsafe(this.at);
    this.bytes.copy(out, 0, 0, this.at);
    this.at = 0;
    return out;
  }

  /** What was written, and the buffer empty again. */
  take(): string {
    const out = this.bytes.toString('latin1', 0, this.at);
    this.at = 0;
    return out;
  }
}
