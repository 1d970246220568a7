// What a container wrote, kept as the kubelet's log files keep it: one bounded
// buffer per container instance, the current one and the one before it
// (`kubectl logs --previous`). Lines carry the time they were written, for
// `--timestamps` and `--since`.

/** The kubelet rotates a container's log at 10 MiB (containerLogMaxSize); here a smaller bound per instance. */
export const LOG_LIMIT_BYTES = 2 * 1024 * 1024;

export interface LogLine {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly text: string;
}

export class ContainerLog {
  private readonly lines: LogLine[] = [];
  private bytes = 0;
  private partial = { stdout: '', stderr: '' };
  private readonly followers = new Set<(line: LogLine) => void>();
  private readonly enders = new Set<() => void>();
  ended = false;

  constructor(
    private readonly limit = LOG_LIMIT_BYTES,
    private readonly now: () => number = Date.now,
  ) {}

  /** A chunk from the process: whole lines are kept, a partial one waits for its end (or the process's). */
  write(stream: 'stdout' | 'stderr', chunk: string): LogLine[] {
    const text = this.partial[stream] + chunk;
    const parts = text.split('\n');
    this.partial[stream] = parts.pop()!;
    return parts.map((part) => this.push(part));
  }

  /** The process ended: a last line without a newline is kept too. */
  end(): LogLine[] {
    const out: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) out.push(this.push(this.partial[stream]));
      this.partial[stream] = '';
    }
    this.ended = true;
    for (const end of this.enders) end();
    this.enders.clear();
    this.followers.clear();
    return out;
  }

  private push(text: string): LogLine {
    const line = { at: this.now(), text };
    this.lines.push(line);
    this.bytes += text.length + 1;
    // Oldest lines go first, as a rotated log file loses its start.
    while (this.bytes > this.limit && this.lines.length > 1) this.bytes -= this.lines.shift()!.text.length + 1;
    for (const follow of this.followers) follow(line);
    return line;
  }

  /** Lines written at or after `since` (ms), the last `tail` of them when given. */
  read(options: { since?: number; tail?: number } = {}): LogLine[] {
    let lines = options.since === undefined ? this.lines : this.lines.filter((line) => line.at >= options.since!);
    if (options.tail !== undefined) lines = options.tail <= 0 ? [] : lines.slice(-options.tail);
    return [...lines];
  }

  /** Calls `onLine` with each new line until the process ends (then `onEnd`) or the returned function is called. */
  follow(onLine: (line: LogLine) => void, onEnd: () => void): () => void {
    if (this.ended) {
      onEnd();
      return () => undefined;
    }
    this.followers.add(onLine);
    this.enders.add(onEnd);
    return () => {
      this.followers.delete(onLine);
      this.enders.delete(onEnd);
    };
  }
}
