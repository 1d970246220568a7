// Container probes as the kubelet runs them (pkg/kubelet/prober, v1.32):
// `httpGet` succeeds on a status of 200-399, `tcpSocket` on a connection,
// `exec` on exit 0, each within `timeoutSeconds`. A prober runs its probe every
// `periodSeconds` after `initialDelaySeconds`, and its result flips after
// `successThreshold` successes or `failureThreshold` failures in a row.
// Readiness and startup start as failed, liveness as succeeded-so-far.

import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { Clock, ClockTimer } from '../model/clock.js';
import type { Container, Probe } from '../model/types.js';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

/** Where a probe of one container goes. */
export interface ProbeTarget {
  readonly ip: string;
  readonly ports: Container['ports'];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Where a container port really is, when members share 127.0.0.1 (runtime.ts moveToLoopback). */
  readonly remap?: (port: number) => number;
}

interface HttpGet {
  path?: string;
  port?: number | string;
  host?: string;
  scheme?: string;
  httpHeaders?: { name: string; value: string }[];
}

/** A port given by number or by a container port's name. */
export function probePort(port: number | string | undefined, ports: Container['ports']): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string' && /^\d+$/.test(port)) return Number(port);
  return ports?.find((p) => p.name === port)?.containerPort;
}

const mapped = (port: number | undefined, target: ProbeTarget): number | undefined => (port === undefined || !target.remap ? port : target.remap(port));

const seconds = (value: unknown, fallback: number, min = 0): number => (typeof value === 'number' && Number.isFinite(value) && value >= min ? value : fallback);

/** One run of a probe's handler: true on success. */
export function probeOnce(probe: Probe, target: ProbeTarget): Promise<boolean> {
  const timeoutMs = seconds(probe.timeoutSeconds, 1, 1) * 1000;
  const spec = probe as Record<string, unknown>;
  if (spec.httpGet) return httpProbe(spec.httpGet as HttpGet, target, timeoutMs);
  if (spec.tcpSocket) {
    const socket = spec.tcpSocket as { port?: number | string; host?: string };
    return tcpProbe(socket.host || target.ip, mapped(probePort(socket.port, target.ports), target), timeoutMs);
  }
  if (spec.exec) return execProbe((spec.exec as { command?: unknown }).command, target, timeoutMs);
  // grpc probes are not run here; a probe with no handler the kubelet knows fails.
  return Promise.resolve(false);
}

function httpProbe(get: HttpGet, target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  const port = mapped(probePort(get.port, target.ports), target);
  if (port === undefined) return Promise.resolve(false);
  const https = (get.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
  for (const header of get.httpHeaders ?? []) if (header?.name) headers[header.name] = header.value ?? '';
  const path = get.path ? (get.path.startsWith('/') ? get.path : `/${get.path}`) : '/';
  return new Promise((resolve) => {
    const options = { host: get.host || target.ip, port, path, method: 'GET', headers, timeout: timeoutMs, ...(https ? { rejectUnauthorized: false } : {}) };
    // The kubelet does not verify a probed server's certificate.
    const req = (https ? httpsRequest : httpRequest)(options, (res) => {
      res.resume();
      resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tcpProbe(host: string, port: number | undefined, timeoutMs: number): Promise<boolean> {
  if (port === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

function execProbe(command: unknown, target: ProbeTarget, timeoutMs: number): Promise<boolean> {
  if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string')) return Promise.resolve(false);
  return runUntil(command as string[], target.env, target.cwd, timeoutMs).then((code) => code === 0);
}

/** Signals a child's whole process group (it was started detached), or the child alone where there are no groups. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (!child.pid) return;
  try {
    if (process.platform !== 'win32') process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

/**
 * Runs a command in a container's environment (an exec probe, a preStop hook),
 * its process group killed at `timeoutMs`; resolves with its exit code, or null
 * when it could not start or was killed.
 */
export function runUntil(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: 'ignore', detached: process.platform !== 'win32' });
    const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), Math.max(0, timeoutMs));
    child.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Runs one probe of one container on its period and reports each change of result. */
export class Prober {
  private timer: ClockTimer | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  /** The current result: readiness and startup start failed (not ready, not started), liveness succeeded-so-far. */
  result: boolean;

  constructor(
    readonly kind: ProbeKind,
    private readonly probe: Probe,
    private readonly target: ProbeTarget,
    private readonly clock: Clock,
    private readonly onChange: (result: boolean) => void,
    private readonly run: (probe: Probe, target: ProbeTarget) => Promise<boolean> = probeOnce,
  ) {
    this.result = kind === 'liveness';
  }

  start(): void {
    this.schedule(seconds(this.probe.initialDelaySeconds, 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const ok = await this.run(this.probe, this.target).catch(() => false);
    if (this.stopped) return;
    const failureThreshold = seconds(this.probe.failureThreshold, 3, 1);
    if (this.kind === 'readiness') {
      const successThreshold = seconds(this.probe.successThreshold, 1, 1);
      if (ok) {
        this.successes++;
        this.failures = 0;
        if (!this.result && this.successes >= successThreshold) this.flip(true);
      } else {
        this.failures++;
        this.successes = 0;
        if (this.result && this.failures >= failureThreshold) this.flip(false);
        // Until the first success, failures keep it unready: nothing to report.
      }
    } else if (ok) {
      this.failures = 0;
      // A startup probe is done at its first success (liveness and startup have a success threshold of 1).
      if (this.kind === 'startup') {
        this.flip(true);
        return this.stop();
      }
    } else if (++this.failures >= failureThreshold) {
      // The container is killed; its next instance gets new probers.
      this.flip(false, true);
      return this.stop();
    }
    this.schedule(seconds(this.probe.periodSeconds, 10, 1) * 1000);
  }

  private flip(result: boolean, always = false): void {
    if (this.result === result && !always) return;
    this.result = result;
    this.onChange(result);
  }
}
