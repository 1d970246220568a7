// The process runtime: the kubelet's part for containers that run as local
// processes (exec.ts says which). A pod the emulated kubelet gave an IP is
// started here: each local container a process in its own process group, with
// the pod's environment (env.ts), its probes (probes.ts) and its output kept
// (logs.ts). Its status goes back through the store as the kubelet writes it:
// Pending with ContainerCreating, Running, Ready as the readiness probe says,
// restarts with the kubelet's back-off (CrashLoopBackOff), Succeeded or Failed
// under restartPolicy Never/OnFailure. A pod being deleted is stopped as the
// kubelet stops one (preStop exec hook, SIGTERM to the group, SIGKILL when the
// grace period ends) and removed once its processes are gone. The watchdog makes
// sure none outlives this process.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { LocalPods } from '../controllers/kubelet.js';
import type { EventRecorder } from '../controllers/events.js';
import { podGracePeriod } from '../controllers/nodelifecycle.js';
import type { Clock, ClockTimer } from '../model/clock.js';
import { rfc3339At } from '../model/timestamp.js';
import type { Container, Pod, PodCondition, Service } from '../model/types.js';
import type { ObjectStore, StoreEvent } from '../store/store.js';
import { containerEnv, EnvProblem, expandArgv, podDnsEnv } from './env.js';
import { type CommandProblem, type ExecMap, type LocalCommand, localCommand, runsLocally } from './exec.js';
import { ContainerLog, type LogLine } from './logs.js';
import { Prober, runUntil, signalGroup } from './probes.js';
import { Watchdog } from './watchdog.js';
import { EmptyDirs, mountRequests, mountVariables, podVolumeDirs } from './volumes.js';
import { mountNamespaces, withMounts } from './mounts.js';

/** kubelet's restart back-off (pkg/kubelet/kubelet.go): 10 s, doubling, at most 5 minutes. */
export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
/** A back-off entry older than twice the maximum is forgotten (flowcontrol.Backoff hasExpired): the next restart is immediate. */
const BACKOFF_RESET_MS = 2 * BACKOFF_MAX_MS;
/** How long after its processes end a stopped pod's object goes (see removeLater). */
const REMOVE_AFTER_MS = 500;
/** `close()` waits at most this long for members that ignore SIGTERM, whatever their grace period. */
const CLOSE_GRACE_CAP_MS = 10_000;

export interface RuntimeOptions {
  readonly store: ObjectStore;
  /** Image → command (`--exec`, the fixture's `exec`). */
  readonly exec: ExecMap;
  /** Honour `headless-dns.io/exec` annotations (the cluster runs commands). */
  readonly annotations: boolean;
  readonly clock: Clock;
  /** Where commands run when nothing else says (serve's working directory). */
  readonly cwd: string;
  readonly log: (message: string) => void;
  /** Each line a member writes, as `serve` prints it (`pod-name | line`); none when not given. */
  readonly output?: (pod: Pod, container: string, line: string) => void;
  readonly recorder?: EventRecorder;
  /** The register preload's file: URL, put into NODE_OPTIONS so Node members resolve cluster names. */
  readonly preload?: string;
  /** Show each volume at its mountPath, in a user and mount namespace (mounts.ts), where Linux allows. */
  readonly mountVolumes?: boolean;
}

/** What members are told about the cluster, known once it listens. */
export interface ClusterInfo {
  readonly dns: string;
  readonly zone: string;
  readonly api?: string;
}

type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; signal?: number; reason: string; message?: string; startedAt: string; finishedAt: string; containerID?: string } };

/** One container of a pod run here, across its restarts. */
class ContainerRun {
  child: ChildProcess | undefined;
  state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState: ContainerState | Record<string, never> = {};
  restartCount = 0;
  started = false;
  ready = false;
  log = new ContainerLog();
  previousLog: ContainerLog | undefined;
  backoff: { ms: number; updated: number } | undefined;
  restartTimer: ClockTimer | undefined;
  killTimer: NodeJS.Timeout | undefined;
  probers: Prober[] = [];
  /** Container port → the port it really listens on, when members share 127.0.0.1 (moveToLoopback). */
  readonly portMap = new Map<number, number>();
  startedAtMs = 0;
  /** The process exited (or never started) and will not be started again. */
  done = false;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly spec: Container,
    readonly command: LocalCommand | CommandProblem,
  ) {}
}

class PodRun {
  readonly containers = new Map<string, ContainerRun>();
  stopping = false;
  removed = false;

  constructor(
    readonly namespace: string,
    readonly name: string,
    readonly uid: string,
  ) {}
}

const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export class ProcessRuntime implements LocalPods {
  private readonly pods = new Map<string, PodRun>();
  /** Pods given an IP before the cluster listened: started by `activate`. */
  private info: ClusterInfo | undefined;
  private readonly watchdog = new Watchdog();
  private readonly emptyDirs = new EmptyDirs();
  private mountsExplained = false;
  /** Can members listen on their pod IPs here? Asked once, with the first member's. */
  private podIpsLocal: Promise<boolean> | undefined;
  private readonly unsubscribe: () => void;
  private closed = false;

  constructor(private readonly options: RuntimeOptions) {
    this.unsubscribe = options.store.subscribe((events) => this.onEvents(events));
  }

  /** Does a container of this pod run here? (The emulated kubelet then leaves its status to us.) */
  runs(pod: Pod): boolean {
    return runsLocally(pod, this.options.exec, this.options.annotations);
  }

  /** The status the kubelet writes with the pod's IP: containers being created, not ready. */
  pendingStatus(pod: Pod, at: string): Pod['status'] {
    const waiting = { waiting: { reason: 'ContainerCreating' } };
    const statuses = pod.spec.containers.map((c) => ({ name: c.name, image: c.image ?? '', imageID: '', ready: false, started: false, restartCount: 0, state: waiting, lastState: {} }));
    return { ...(pod.status ?? {}), phase: 'Pending', conditions: conditions(pod, false, true, at, pod.spec.containers.map((c) => c.name)), containerStatuses: statuses };
  }

  /** The cluster is listening: start what waited, and tell members where it is. */
  activate(info: ClusterInfo): void {
    this.info = info;
    for (const pod of this.options.store.list('Pod')) this.consider(pod);
    // Pods restored from a saved state say what their processes did before: until
    // they run again here, they are being created, and not ready.
    for (const run of this.pods.values()) this.writeStatus(run);
  }

  /** A member's output, current or previous instance (`kubectl logs [--previous]`). */
  containerLog(namespace: string, name: string, container: string | undefined, previous: boolean): { log: ContainerLog; container: string } | { problem: string } {
    const run = this.pods.get(podKey(namespace, name));
    const pod = this.options.store.get('Pod', namespace, name);
    if (!pod) return { problem: `pods "${name}" not found` };
    const names = pod.spec.containers.map((c) => c.name);
    const chosen = container ?? (names.length === 1 ? names[0] : undefined);
    if (!chosen) return { problem: `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]` };
    if (!names.includes(chosen)) return { problem: `container ${chosen} is not valid for pod ${name}` };
    const containerRun = run?.containers.get(chosen);
    if (!containerRun) return { problem: `container "${chosen}" in pod "${name}" is not running as a local process (headless-dns emulates it: it has no output)` };
    if (previous) {
      if (!containerRun.previousLog) return { problem: `previous terminated container "${chosen}" in pod "${name}" not found` };
      return { log: containerRun.previousLog, container: chosen };
    }
    if ('waiting' in containerRun.state && !containerRun.child && containerRun.restartCount === 0 && !containerRun.log.read().length) {
      return { problem: `container "${chosen}" in pod "${name}" is waiting to start: ${containerRun.state.waiting.reason}` };
    }
    return { log: containerRun.log, container: chosen };
  }

  /** Stops every member (SIGTERM, SIGKILL after its grace period, at most 10 s) and waits for them. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    const waits: Promise<void>[] = [];
    for (const run of this.pods.values()) {
      const pod = this.options.store.get('Pod', run.namespace, run.name);
      const graceMs = Math.min(CLOSE_GRACE_CAP_MS, (pod ? podGracePeriod(pod) : 30) * 1000);
      for (const container of run.containers.values()) {
        container.done = true;
        container.restartTimer?.cancel();
        for (const prober of container.probers) prober.stop();
        if (container.child) {
          this.signal(container, 'SIGTERM');
          container.killTimer = setTimeout(() => this.signal(container, 'SIGKILL'), graceMs);
          waits.push(container.exited);
        }
      }
    }
    await Promise.all(waits);
    for (const run of this.pods.values()) for (const container of run.containers.values()) clearTimeout(container.killTimer);
    this.pods.clear();
    this.emptyDirs.removeAll();
    this.watchdog.close();
  }

  private onEvents(events: readonly StoreEvent[]): void {
    for (const event of events) {
      if (event.object.kind !== 'Pod') continue;
      const pod = event.object;
      const key = podKey(pod.metadata.namespace ?? 'default', pod.metadata.name);
      const run = this.pods.get(key);
      if (event.type === 'DELETED') {
        // Force-deleted (or its grace period ran out): what is left is killed now.
        if (run && run.uid === (pod.metadata.uid ?? '')) {
          run.removed = true;
          this.stop(run, 0);
          this.pods.delete(key);
          void Promise.all([...run.containers.values()].map((c) => c.exited)).then(() => this.emptyDirs.remove(run.uid));
        }
        continue;
      }
      if (run && run.uid !== (pod.metadata.uid ?? '')) continue;
      if (run && pod.metadata.deletionTimestamp && !run.stopping) {
        this.stop(run, (pod.metadata.deletionGracePeriodSeconds ?? podGracePeriod(pod)) * 1000);
        continue;
      }
      if (!run && pod.metadata.deletionTimestamp && this.runs(pod)) {
        // Being deleted before it ever ran (or after its processes ended): nothing to stop, so it goes.
        this.removeLater(pod.metadata.namespace ?? 'default', pod.metadata.name, pod.metadata.uid ?? '');
        continue;
      }
      if (!run) this.consider(pod);
    }
  }

  /** Starts a pod that is ours, has its IP and is not being deleted (once the cluster listens). */
  private consider(pod: Pod): void {
    if (!this.info || this.closed) return;
    if (!pod.status?.podIP || pod.metadata.deletionTimestamp) return;
    if (pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') return;
    const namespace = pod.metadata.namespace ?? 'default';
    const key = podKey(namespace, pod.metadata.name);
    if (this.pods.has(key) || !this.runs(pod)) return;
    const run = new PodRun(namespace, pod.metadata.name, pod.metadata.uid ?? '');
    pod.spec.containers.forEach((container, index) => {
      const command = localCommand(pod, index, this.options.exec, this.options.annotations);
      if (command) run.containers.set(container.name, new ContainerRun(container, command));
    });
    this.pods.set(key, run);
    this.podIpsLocal ??= this.checkAddress(pod.status.podIP);
    // Out of the store's delivery: spawning and status writes happen after the write that caused them.
    void this.podIpsLocal.then(async (local) => {
      if (!local && pod.status?.podIP !== '127.0.0.1') await this.moveToLoopback(run);
      for (const container of run.containers.values()) this.startContainer(run, container);
      this.writeStatus(run);
    });
  }

  /**
   * Once: can a process listen on a pod IP here? On Linux every 127.x address is
   * local; on macOS only 127.0.0.1 is, until the others are added as aliases.
   * Where they are not, members share 127.0.0.1, each on ports of its own.
   */
  private checkAddress(ip: string): Promise<boolean> {
    return new Promise((resolve) => {
      const probe = createServer();
      probe.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRNOTAVAIL') return resolve(true);
        const alias = process.platform === 'darwin' ? `sudo ifconfig lo0 alias ${ip} up` : `sudo ip addr add ${ip}/32 dev lo`;
        this.options.log(
          `exec: pod IPs such as ${ip} are not addresses of this machine, so members share 127.0.0.1, each on ports of its own (SRV records carry them where a Service's targetPort names the port); ` +
            `for every member on the same port at its own address, as in a cluster, add each pod IP as a loopback alias (${alias}) or give --pod-cidr a range this machine has`,
        );
        resolve(false);
      });
      probe.listen(0, ip, () => probe.close(() => resolve(true)));
    });
  }

  /**
   * Members that cannot have their pod IP (see checkAddress) get 127.0.0.1 and a
   * free port for each container port: the pod is rewritten so its status and
   * container ports say where it really listens, which is what EndpointSlices
   * and DNS then carry. The Node preload moves the app's listen there (HEADLESS_DNS_PORTS).
   */
  private async moveToLoopback(run: PodRun): Promise<void> {
    const pod = this.currentPod(run);
    if (!pod) return;
    const containers = [];
    for (const container of pod.spec.containers) {
      const local = run.containers.get(container.name);
      if (!local || !container.ports?.length) {
        containers.push(container);
        continue;
      }
      const ports = [];
      for (const port of container.ports) {
        const host = await freePort();
        if ((port.protocol ?? 'TCP') === 'TCP') local.portMap.set(port.containerPort, host);
        ports.push({ ...port, containerPort: host });
      }
      containers.push({ ...container, ports });
    }
    const current = this.currentPod(run);
    if (!current || this.closed) return;
    try {
      this.options.store.apply([{ ...current, spec: { ...current.spec, containers }, status: { ...(current.status ?? {}), podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } }], 'update');
    } catch (error) {
      this.options.log(`pod ${run.namespace}/${run.name}: ${(error as Error).message}`);
    }
  }

  private currentPod(run: PodRun): Pod | undefined {
    const pod = this.options.store.get('Pod', run.namespace, run.name);
    return pod && (pod.metadata.uid ?? '') === run.uid ? pod : undefined;
  }

  private startContainer(run: PodRun, container: ContainerRun): void {
    if (this.closed || run.stopping || run.removed) return;
    const pod = this.currentPod(run);
    if (!pod || !this.info) return;
    const now = this.options.clock.now();
    const source = { component: 'kubelet', host: typeof pod.spec.nodeName === 'string' ? pod.spec.nodeName : 'headless-dns' };
    const fieldPath = `spec.containers{${container.spec.name}}`;
    if ('problem' in container.command) return this.failToCreate(run, container, 'CreateContainerError', container.command.problem);
    const volumes = podVolumeDirs(pod, this.options.store, this.emptyDirs);
    if ('waiting' in volumes) {
      // The kubelet waits for its volumes to attach (ContainerCreating); a claim is bound within a cascade, so soon.
      container.restartTimer = this.options.clock.setTimeout(() => this.startContainer(run, container), 100);
      return;
    }
    if ('problem' in volumes) return this.failToCreate(run, container, 'CreateContainerConfigError', volumes.problem);
    let env: NodeJS.ProcessEnv;
    let argv: string[];
    try {
      const vars = containerEnv(pod, container.spec, this.options.store.list('Service', run.namespace) as Service[]);
      argv = container.command.expand ? expandArgv(container.command.argv, vars) : [...container.command.argv];
      env = this.environment(pod, [...vars, ...mountVariables(container.spec, volumes.dirs)], container.portMap);
    } catch (error) {
      if (error instanceof EnvProblem) return this.failToCreate(run, container, 'CreateContainerConfigError', error.message);
      throw error;
    }
    const cwd = this.workingDir(container);
    if (this.options.mountVolumes) argv = this.mounted(run, container, argv, volumes.dirs, pod);
    if (container.restartCount > 0 || container.log.read().length) {
      container.previousLog = container.log;
      container.log = new ContainerLog();
    }
    const groups = process.platform !== 'win32';
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd,
      env,
      // Its own process group, so `sh -c` and everything under it is stopped at once.
      detached: groups,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    container.child = child;
    container.started = false;
    container.ready = false;
    container.startedAtMs = now;
    let resolveExit: () => void = () => undefined;
    container.exited = new Promise((resolve) => (resolveExit = resolve));
    if (child.pid && groups) this.watchdog.watch(child.pid, podGracePeriod(pod) * 1000);
    const log = container.log;
    const emit = (lines: LogLine[]): void => {
      if (this.options.output) for (const line of lines) this.options.output(pod, container.spec.name, line.text);
    };
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => emit(log.write('stdout', chunk)));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => emit(log.write('stderr', chunk)));
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.once('spawn', () => {
      container.state = { running: { startedAt: rfc3339At(now) } };
      this.options.recorder?.record(pod, 'Normal', 'Started', `Started container ${container.spec.name}`, source, fieldPath);
      this.startProbes(run, container, pod, env, cwd);
      this.writeStatus(run);
    });
    child.once('close', (code, signal) => {
      emit(log.end());
      if (child.pid && groups) this.watchdog.forget(child.pid);
      clearTimeout(container.killTimer);
      container.child = undefined;
      this.exited(run, container, spawnError, code, signal, now);
      resolveExit();
    });
    this.options.recorder?.record(pod, 'Normal', 'Created', `Created container: ${container.spec.name}`, source, fieldPath);
  }

  /** The command started with its volumes at their mountPaths, where namespaces allow; as it was otherwise. */
  private mounted(run: PodRun, container: ContainerRun, argv: string[], dirs: ReadonlyMap<string, string>, pod: Pod): string[] {
    const requests = mountRequests(container.spec, dirs);
    if (!requests.length) return argv;
    const support = mountNamespaces();
    if (!support.ok) {
      if (!this.mountsExplained) this.options.log(`--mount-volumes: ${support.reason}; members find their volumes through HEADLESS_DNS_VOLUME_<NAME> instead`);
      this.mountsExplained = true;
      return argv;
    }
    const wrapped = withMounts(argv, requests, this.emptyDirs.dir(pod.metadata.uid ?? pod.metadata.name, '.mounts'));
    for (const path of wrapped.skipped) this.options.log(`pod ${run.namespace}/${run.name}: container ${container.spec.name}: ${path} is right under /, where no overlay can be made; the volume is only in HEADLESS_DNS_VOLUME_*`);
    return wrapped.argv;
  }

  private environment(pod: Pod, vars: readonly [string, string][], portMap?: ReadonlyMap<number, number>): NodeJS.ProcessEnv {
    // The machine's own environment underneath (PATH, HOME: a local process needs them to find `node`), the pod's on top.
    const env: NodeJS.ProcessEnv = { ...process.env };
    const hostname = (typeof pod.spec.hostname === 'string' && pod.spec.hostname) || pod.metadata.name.slice(0, 63);
    env.HOSTNAME = hostname;
    for (const [name, value] of vars) env[name] = value;
    env.HEADLESS_DNS = this.info!.dns;
    env.HEADLESS_DNS_ZONE = this.info!.zone;
    if (this.info!.api) env.HEADLESS_DNS_API = this.info!.api;
    env.HEADLESS_DNS_POD_IP = pod.status?.podIP ?? '';
    // The pod's search list, for the preload (Node) and for glibc's resolver (LOCALDOMAIN,
    // RES_OPTIONS), so short names resolve as in the pod where the OS routes the zone here.
    Object.assign(env, podDnsEnv(pod, this.info!.zone));
    if (portMap?.size) env.HEADLESS_DNS_PORTS = JSON.stringify(Object.fromEntries(portMap));
    if (this.options.preload) {
      const inherited = env.NODE_OPTIONS ?? '';
      const flag = `--import ${JSON.stringify(this.options.preload)}`;
      env.NODE_OPTIONS = inherited.includes(this.options.preload) ? inherited : `${inherited} ${flag}`.trim();
    }
    return env;
  }

  private workingDir(container: ContainerRun): string {
    const command = container.command as LocalCommand;
    const base = command.cwd ? resolvePath(this.options.cwd, command.cwd) : this.options.cwd;
    const asked = typeof container.spec.workingDir === 'string' ? container.spec.workingDir : undefined;
    if (!asked) return base;
    // A container's workingDir is a path in its image; here it counts only where it exists on this machine.
    const candidate = isAbsolute(asked) ? asked : resolvePath(base, asked);
    try {
      if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate;
    } catch {
      // unreadable: the default
    }
    return base;
  }

  private failToCreate(run: PodRun, container: ContainerRun, reason: string, message: string): void {
    container.state = { waiting: { reason, message } };
    container.done = true;
    this.options.log(`pod ${run.namespace}/${run.name}: container ${container.spec.name}: ${message}`);
    const pod = this.currentPod(run);
    if (pod) this.options.recorder?.record(pod, 'Warning', 'Failed', `Error: ${message}`, { component: 'kubelet', host: String(pod.spec.nodeName ?? 'headless-dns') }, `spec.containers{${container.spec.name}}`);
    this.writeStatus(run);
  }

  private startProbes(run: PodRun, container: ContainerRun, pod: Pod, env: NodeJS.ProcessEnv, cwd: string): void {
    const target = { ip: pod.status?.podIP ?? '127.0.0.1', ports: container.spec.ports, env, cwd, ...(container.portMap.size ? { remap: (port: number) => container.portMap.get(port) ?? port } : {}) };
    const { startupProbe, readinessProbe, livenessProbe } = container.spec;
    const child = container.child;
    const current = (): boolean => container.child === child && !run.stopping;
    const afterStartup = (): void => {
      container.started = true;
      if (readinessProbe) {
        const readiness = new Prober('readiness', readinessProbe, target, this.options.clock, (ok) => {
          if (!current()) return;
          container.ready = ok;
          this.writeStatus(run);
        });
        container.probers.push(readiness);
        readiness.start();
      } else container.ready = true;
      if (livenessProbe) {
        const liveness = new Prober('liveness', livenessProbe, target, this.options.clock, (ok) => {
          if (!ok && current()) this.probeKill(run, container, 'Liveness', livenessProbe);
        });
        container.probers.push(liveness);
        liveness.start();
      }
      this.writeStatus(run);
    };
    if (startupProbe) {
      const startup = new Prober('startup', startupProbe, target, this.options.clock, (ok) => {
        if (!current()) return;
        if (ok) afterStartup();
        else this.probeKill(run, container, 'Startup', startupProbe);
      });
      container.probers.push(startup);
      startup.start();
    } else afterStartup();
  }

  /** A failed liveness or startup probe: the kubelet kills the container (its restart follows restartPolicy). */
  private probeKill(run: PodRun, container: ContainerRun, kind: string, probe: Container['livenessProbe']): void {
    const pod = this.currentPod(run);
    if (pod) {
      const source = { component: 'kubelet', host: String(pod.spec.nodeName ?? 'headless-dns') };
      const fieldPath = `spec.containers{${container.spec.name}}`;
      this.options.recorder?.record(pod, 'Warning', 'Unhealthy', `${kind} probe failed`, source, fieldPath);
      this.options.recorder?.record(pod, 'Normal', 'Killing', `Container ${container.spec.name} failed ${kind.toLowerCase()} probe, will be restarted`, source, fieldPath);
    }
    for (const prober of container.probers) prober.stop();
    container.probers = [];
    container.ready = false;
    this.writeStatus(run);
    const probeGrace = (probe as { terminationGracePeriodSeconds?: unknown } | undefined)?.terminationGracePeriodSeconds;
    const graceSeconds = typeof probeGrace === 'number' ? probeGrace : pod ? podGracePeriod(pod) : 30;
    this.terminate(container, graceSeconds * 1000);
  }

  /** SIGTERM to the group, SIGKILL when the grace period ends. */
  private terminate(container: ContainerRun, graceMs: number): void {
    if (!container.child) return;
    if (graceMs <= 0) return void this.signal(container, 'SIGKILL');
    this.signal(container, 'SIGTERM');
    clearTimeout(container.killTimer);
    container.killTimer = setTimeout(() => this.signal(container, 'SIGKILL'), graceMs);
    container.killTimer.unref();
  }

  private signal(container: ContainerRun, signal: NodeJS.Signals): void {
    if (container.child) signalGroup(container.child, signal);
  }

  private exited(run: PodRun, container: ContainerRun, spawnError: Error | undefined, code: number | null, signal: NodeJS.Signals | null, startedMs: number): void {
    for (const prober of container.probers) prober.stop();
    container.probers = [];
    container.ready = false;
    container.started = false;
    const now = this.options.clock.now();
    const signalNumber = signal ? SIGNALS[signal] : undefined;
    const exitCode = spawnError ? 128 : code ?? (signalNumber !== undefined ? 128 + signalNumber : 1);
    const terminated = {
      terminated: {
        exitCode,
        ...(signalNumber !== undefined ? { signal: signalNumber } : {}),
        reason: spawnError ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error',
        ...(spawnError ? { message: `failed to start ${(container.command as LocalCommand).argv[0]}: ${spawnError.message}` } : {}),
        startedAt: rfc3339At(startedMs),
        finishedAt: rfc3339At(now),
      },
    };
    if (spawnError) this.options.log(`pod ${run.namespace}/${run.name}: container ${container.spec.name}: ${terminated.terminated.message}`);
    if (run.stopping || run.removed || this.closed) {
      container.state = terminated;
      container.done = true;
      // The kubelet reports the stopped container before the pod goes.
      this.writeStatus(run);
      this.finishStop(run);
      return;
    }
    const pod = this.currentPod(run);
    const policy = pod?.spec.restartPolicy ?? 'Always';
    const restart = policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0);
    if (!restart || !pod) {
      container.state = terminated;
      container.done = true;
      this.writeStatus(run);
      return;
    }
    // The kubelet's back-off: the first restart is at once; a container that exits again within
    // the back-off waits it out (CrashLoopBackOff), the wait doubling up to 5 minutes.
    container.lastState = terminated;
    const entry = container.backoff;
    const delay = !entry || now - entry.updated > BACKOFF_RESET_MS ? 0 : entry.ms;
    const restartNow = (): void => {
      container.backoff = { ms: delay === 0 ? BACKOFF_INITIAL_MS : Math.min(BACKOFF_MAX_MS, delay * 2), updated: this.options.clock.now() };
      container.restartCount++;
      container.restartTimer = undefined;
      this.startContainer(run, container);
      this.writeStatus(run);
    };
    if (delay === 0) {
      container.state = terminated;
      restartNow();
      return;
    }
    container.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${formatDuration(delay)} restarting failed container=${container.spec.name} pod=${run.name}_${run.namespace}(${run.uid})` } };
    this.options.recorder?.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container', { component: 'kubelet', host: String(pod.spec.nodeName ?? 'headless-dns') }, `spec.containers{${container.spec.name}}`);
    container.restartTimer = this.options.clock.setTimeout(restartNow, delay);
    this.writeStatus(run);
  }

  /** Stops a pod being deleted: preStop hooks, then SIGTERM, SIGKILL at the end of the grace period. */
  private stop(run: PodRun, graceMs: number): void {
    run.stopping = true;
    const pod = this.currentPod(run);
    const deadline = Date.now() + graceMs;
    for (const container of run.containers.values()) {
      container.restartTimer?.cancel();
      container.restartTimer = undefined;
      for (const prober of container.probers) prober.stop();
      container.probers = [];
      container.ready = false;
      if (!container.child) {
        container.done = true;
        continue;
      }
      const preStop = (container.spec.lifecycle as { preStop?: { exec?: { command?: unknown } } } | undefined)?.preStop?.exec?.command;
      if (graceMs > 0 && Array.isArray(preStop) && preStop.length && pod) {
        this.runHook(preStop as string[], pod, container, deadline).then(() => this.terminate(container, Math.max(0, deadline - Date.now())));
      } else this.terminate(container, graceMs);
    }
    // Not ready from the moment it is being stopped.
    this.writeStatus(run);
    this.finishStop(run);
  }

  /** A preStop exec hook, in the container's environment, cut short at the grace deadline. */
  private async runHook(command: string[], pod: Pod, container: ContainerRun, deadline: number): Promise<void> {
    let env: NodeJS.ProcessEnv;
    try {
      env = this.environment(pod, containerEnv(pod, container.spec, this.options.store.list('Service', pod.metadata.namespace ?? 'default') as Service[]));
    } catch {
      return;
    }
    await runUntil(command, env, this.workingDir(container), deadline - Date.now());
  }

  /** Every process of a stopping pod is gone: the kubelet confirms, and the pod object goes. */
  private finishStop(run: PodRun): void {
    if (!run.stopping || run.removed || this.closed) return;
    for (const container of run.containers.values()) if (container.child) return;
    run.removed = true;
    this.emptyDirs.remove(run.uid);
    const key = podKey(run.namespace, run.name);
    if (this.pods.get(key) === run) this.pods.delete(key);
    this.removeLater(run.namespace, run.name, run.uid);
  }

  private removeLater(namespace: string, name: string, uid: string): void {
    // Not at once: a kubelet removes a stopped pod on its next sync, well after its
    // processes are gone. kubectl delete relies on that: it GETs the terminating pod,
    // then lists by name; a pod removed and recreated (a StatefulSet member) between
    // the two looks to it like the same pod still there, and it waits forever.
    const timer = setTimeout(() => {
      const pod = this.options.store.get('Pod', namespace, name);
      if (this.closed || !pod || (pod.metadata.uid ?? '') !== uid || !pod.metadata.deletionTimestamp) return;
      try {
        this.options.store.delete('Pod', namespace, name);
      } catch (error) {
        this.options.log(`pod ${namespace}/${name}: ${(error as Error).message}`);
      }
    }, REMOVE_AFTER_MS);
    timer.unref();
  }

  /** Writes the pod's status from its containers, as the kubelet's status manager does. */
  private writeStatus(run: PodRun): void {
    if (this.closed || run.removed) return;
    const pod = this.currentPod(run);
    if (!pod) return;
    const at = rfc3339At(this.options.clock.now());
    const statuses = pod.spec.containers.map((spec) => {
      const local = run.containers.get(spec.name);
      if (!local) {
        // An emulated container of a pod that also runs a process: running and ready, as emulated pods are.
        return { name: spec.name, image: spec.image ?? '', imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: pod.status?.startTime ?? at } }, lastState: {} };
      }
      return {
        name: spec.name,
        image: spec.image ?? '',
        imageID: '',
        ...(local.child?.pid ? { containerID: `headless-dns://${local.child.pid}` } : {}),
        ready: local.ready,
        started: local.started,
        restartCount: local.restartCount,
        state: local.state,
        lastState: local.lastState,
      };
    });
    const locals = [...run.containers.values()];
    const allReady = statuses.every((s) => s.ready);
    const everStarted = locals.every((c) => c.restartCount > 0 || !('waiting' in c.state));
    const finished = locals.every((c) => c.done && 'terminated' in c.state);
    let phase: NonNullable<Pod['status']>['phase'] = everStarted ? 'Running' : 'Pending';
    if (finished && !run.stopping) {
      phase = locals.every((c) => 'terminated' in c.state && c.state.terminated.exitCode === 0) ? 'Succeeded' : 'Failed';
    }
    const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
    const status = {
      ...(pod.status ?? {}),
      phase,
      conditions: conditions(pod, allReady, true, at, unready, phase === 'Succeeded' || phase === 'Failed'),
      containerStatuses: statuses,
    };
    try {
      this.options.store.apply([{ ...pod, status }], 'update');
    } catch (error) {
      this.options.log(`pod ${run.namespace}/${run.name}: status: ${(error as Error).message}`);
    }
  }
}

/** The pod's conditions, keeping each one's lastTransitionTime while its status holds. */
function conditions(pod: Pod, ready: boolean, scheduled: boolean, at: string, unready: string[] = [], finished = false): PodCondition[] {
  const before = new Map((pod.status?.conditions ?? []).map((c) => [c.type, c]));
  const make = (type: string, value: boolean, extra: Partial<PodCondition> = {}): PodCondition => {
    const status = value ? 'True' : 'False';
    const previous = before.get(type);
    return { type, status, lastTransitionTime: previous?.status === status ? previous.lastTransitionTime : at, ...extra } as PodCondition;
  };
  const notReady = ready ? {} : finished ? { reason: 'PodCompleted' } : { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  return [
    make('PodReadyToStartContainers', !finished),
    make('Initialized', true),
    make('Ready', ready, notReady),
    make('ContainersReady', ready, notReady),
    make('PodScheduled', scheduled),
  ];
}

/** Go's time.Duration String for whole seconds and minutes: 10s, 1m20s, 5m0s. */
function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const minutes = Math.floor(total / 60);
  return minutes ? `${minutes}m${total % 60}s` : `${total}s`;
}

const SIGNALS: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

/** A port nobody listens on now, from the system (bound to 127.0.0.1 and let go). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
