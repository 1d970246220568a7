// GET /api/v1/namespaces/{ns}/pods/{name}/log: what `kubectl logs` reads
// (PodLogOptions: container, follow, previous, tailLines, sinceSeconds,
// sinceTime, timestamps, limitBytes), served from what a local process wrote.
// The body is text/plain, one line per line; with `follow` it streams until the
// container ends or the client goes.

import type { ServerResponse } from 'node:http';
import { ApiError } from './status.js';
import { queryBool, queryInt64, type RawQuery } from './listoptions.js';

export interface LogLineView {
  readonly at: number;
  readonly text: string;
}

/** A container's output (kubelet/logs.ts ContainerLog). */
export interface LogStream {
  read(options?: { since?: number; tail?: number }): LogLineView[];
  follow(onLine: (line: LogLineView) => void, onEnd: () => void): () => void;
}

/** Where the API finds a container's output: the process runtime. */
export interface PodLogSource {
  containerLog(namespace: string, name: string, container: string | undefined, previous: boolean): { log: LogStream; container: string } | { problem: string };
}

export interface PodLogOptions {
  container?: string;
  follow: boolean;
  previous: boolean;
  tailLines?: number;
  since?: number;
  timestamps: boolean;
  limitBytes?: number;
}

function first(query: RawQuery, key: string): string | undefined {
  const value = query[key];
  return Array.isArray(value) ? value[0] : value;
}

/** PodLogOptions decoded and validated as the API server does (ValidatePodLogOptions). */
export function podLogOptions(query: RawQuery, now: number): PodLogOptions {
  const flag = (key: string): boolean => {
    const value = first(query, key);
    return value !== undefined && queryBool(value);
  };
  const int = (key: string): number | undefined => {
    const value = first(query, key);
    return value === undefined || value === '' ? undefined : queryInt64(value);
  };
  const tailLines = int('tailLines');
  const sinceSeconds = int('sinceSeconds');
  const limitBytes = int('limitBytes');
  const sinceTime = first(query, 'sinceTime');
  const causes: string[] = [];
  if (tailLines !== undefined && tailLines < 0) causes.push('tailLines: Invalid value: must be greater than or equal to 0');
  if (limitBytes !== undefined && limitBytes < 1) causes.push('limitBytes: Invalid value: must be greater than 0');
  if (sinceSeconds !== undefined && sinceSeconds < 1) causes.push('sinceSeconds: Invalid value: must be greater than 0');
  if (sinceSeconds !== undefined && sinceTime !== undefined) causes.push('sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified');
  let since: number | undefined;
  if (sinceTime !== undefined) {
    since = Date.parse(sinceTime);
    if (Number.isNaN(since)) throw ApiError.of('BadRequest', `parsing time ${JSON.stringify(sinceTime)} as "2006-01-02T15:04:05Z07:00": cannot parse`);
  }
  if (sinceSeconds !== undefined) since = now - sinceSeconds * 1000;
  if (causes.length) throw ApiError.of('BadRequest', `PodLogOptions "" is invalid: ${causes.join(', ')}`);
  const container = first(query, 'container');
  return {
    ...(container ? { container } : {}),
    follow: flag('follow'),
    previous: flag('previous'),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(since !== undefined ? { since } : {}),
    timestamps: flag('timestamps'),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
}

/** RFC 3339 with nanoseconds, as the kubelet stamps log lines (`--timestamps`). */
function stamp(at: number): string {
  const iso = new Date(at).toISOString();
  return `${iso.slice(0, 19)}.${iso.slice(20, 23)}000000Z`;
}

/** Writes the log to `response` (the reply is already the route's own); errors are thrown before anything is written. */
export function writePodLog(response: ServerResponse, found: { log: LogStream }, options: PodLogOptions): void {
  const format = (line: LogLineView): string => `${options.timestamps ? `${stamp(line.at)} ` : ''}${line.text}\n`;
  let left = options.limitBytes ?? Infinity;
  const write = (text: string): boolean => {
    if (left <= 0) return false;
    const chunk = Buffer.from(text);
    const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= part.length;
    response.write(part);
    return left > 0;
  };
  response.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  const lines = found.log.read({ ...(options.since !== undefined ? { since: options.since } : {}), ...(options.tailLines !== undefined ? { tail: options.tailLines } : {}) });
  let open = true;
  for (const line of lines) if (!(open = write(format(line)))) break;
  if (!options.follow || !open) return void response.end();
  const stop = found.log.follow(
    (line) => {
      if (!write(format(line))) finish();
    },
    () => finish(),
  );
  const finish = (): void => {
    stop();
    if (!response.writableEnded) response.end();
  };
  response.once('close', finish);
}
