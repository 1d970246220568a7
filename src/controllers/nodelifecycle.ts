// Nodes and what happens to pods when one fails: the part of Kubernetes'
// node lifecycle controller (pkg/controller/nodelifecycle), taint-eviction
// controller (pkg/controller/tainteviction), DefaultTolerationSeconds admission
// plugin and scheduler that a StatefulSet user meets.
//
// - Every emulated kubelet registers a Node (`headless-dns`, `headless-dns-m02`,
//   ... as minikube names its nodes) that reports Ready.
// - A node whose Ready condition is not True (a user patches its status, or the
//   fixture's failNode) is tainted `node.kubernetes.io/unreachable` (Unknown) or
//   `node.kubernetes.io/not-ready` (False), NoSchedule and NoExecute, as
//   TaintNodesByCondition and the taint-based eviction do. Its pods are marked
//   not Ready at once (MarkPodsNotReady): they leave DNS.
// - Each pod is evicted when its toleration of the NoExecute taint runs out (300 s,
//   added to every pod at admission; none: at once). Eviction deletes it
//   gracefully, but no kubelet confirms on a failed node, so it stays Terminating
//   and its StatefulSet does not replace it until someone force-deletes it.
// - A node that is Ready again loses the taints; its kubelet reports its pods
//   Ready again and finishes the terminations it missed.
//
// Time comes from the injectable clock, so tests drive the 300 s.

import { arch, cpus, release, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { Clock, ClockTimer } from '../model/clock.js';
import { freezeJson, sameJson } from '../model/json.js';
import { isTerminal, isTerminating } from '../model/pods.js';
import type { KubeObject, Node, Pod, PodCondition } from '../model/types.js';
import { rfc3339At } from '../model/timestamp.js';
import type { ObjectStore } from '../store/store.js';
import type { EventRecorder } from './events.js';

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
/** kube-apiserver's --default-not-ready-toleration-seconds and --default-unreachable-toleration-seconds. */
export const DEFAULT_TOLERATION_SECONDS = 300;
/** The kubelet version the nodes report: the Kubernetes version the API serves (discovery's EMULATED_VERSION). */
export const KUBELET_VERSION = 'v1.32.0';
/** The first node's name; the others follow minikube: `headless-dns-m02`, `headless-dns-m03`, ... */
export const FIRST_NODE = 'headless-dns';

export type Taint = NonNullable<NonNullable<Node['spec']>['taints']>[number];

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** What the kubelet asks about nodes before it starts a pod (NodeLifecycleController answers). */
export interface PodPlacement {
  /** The scheduler: the node to bind a new pod to, or why none can take it. */
  schedule(pod: Pod): { node: string } | { unschedulable: string };
  kubeletUp(nodeName: string): boolean;
  recordScheduled(pod: Pod, node: string): void;
  recordUnschedulable(pod: Pod, message: string): void;
}

type NodeCondition = NonNullable<NonNullable<Node['status']>['conditions']>[number];

/** The names of `count` nodes: headless-dns, headless-dns-m02, headless-dns-m03, ... */
export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? FIRST_NODE : `${FIRST_NODE}-m${String(i + 1).padStart(2, '0')}`));
}

/** RFC 3339 with whole seconds, as the API server writes times. */
export function timestampAt(ms: number): string {
  return rfc3339At(ms);
}

function osImage(): string {
  try {
    const line = readFileSync('/etc/os-release', 'utf8').split('\n').find((l) => l.startsWith('PRETTY_NAME='));
    if (line) return line.slice('PRETTY_NAME='.length).replace(/^"|"$/g, '');
  } catch {
    // Not Linux, or no os-release: say what Node knows.
  }
  return process.platform;
}

/** The conditions a healthy kubelet posts (pkg/kubelet/nodestatus/setters.go), in its order. */
export function healthyConditions(at: string, since = at): NodeCondition[] {
  const condition = (type: string, status: 'True' | 'False', reason: string, message: string): NodeCondition => ({
    type,
    status,
    lastHeartbeatTime: at,
    lastTransitionTime: since,
    reason,
    message,
  });
  return [
    condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

/**
 * What the node lifecycle controller writes when a kubelet stops posting status
 * (tryUpdateNodeHealth): every condition Unknown, reason NodeStatusUnknown.
 */
export function unknownConditions(conditions: readonly NodeCondition[], at: string): NodeCondition[] {
  return conditions.map((c) => ({
    ...c,
    status: 'Unknown',
    reason: 'NodeStatusUnknown',
    message: 'Kubelet stopped posting node status.',
    ...(c.status !== 'Unknown' ? { lastTransitionTime: at } : {}),
  }));
}

/** A Node as a kubelet registers it (kind's and minikube's nodes, with this machine's facts). */
export function newNode(name: string, first: boolean, at: string): Node {
  const goArch = arch() === 'x64' ? 'amd64' : arch();
  const memoryKi = `${Math.floor(totalmem() / 1024)}Ki`;
  const resources = { cpu: String(cpus().length || 1), 'ephemeral-storage': '102400000Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: memoryKi, pods: '110' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': goArch,
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': goArch,
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        // The first node is the control plane, untainted as minikube's (pods run on it).
        ...(first ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: healthyConditions(at),
      addresses: [
        { type: 'InternalIP', address: '127.0.0.1' },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: release(),
        osImage: osImage(),
        containerRuntimeVersion: 'headless-dns://emulated',
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: goArch,
      },
      images: [],
    },
  };
}

/** The node's Ready condition status; a node that reports none is Unknown. */
export function nodeReadiness(node: Node): 'True' | 'False' | 'Unknown' {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
}

const MANAGED_TAINTS = new Set([TAINT_UNREACHABLE, TAINT_NOT_READY, TAINT_UNSCHEDULABLE]);

/**
 * The node's taints as the node lifecycle controller keeps them: not-ready or
 * unreachable (NoSchedule and NoExecute) while Ready is False or Unknown,
 * unschedulable (NoSchedule) while cordoned; every other taint as it is.
 * A taint that stays keeps its timeAdded; NoExecute taints get one.
 */
export function desiredTaints(node: Node, at: string): Taint[] {
  const current = node.spec?.taints ?? [];
  const wanted: Taint[] = current.filter((t) => !MANAGED_TAINTS.has(t.key));
  const keep = (key: string, effect: Taint['effect']): void => {
    const existing = current.find((t) => t.key === key && t.effect === effect);
    wanted.push(existing ?? { key, effect, ...(effect === 'NoExecute' ? { timeAdded: at } : {}) });
  };
  const ready = nodeReadiness(node);
  if (ready !== 'True') {
    const key = ready === 'Unknown' ? TAINT_UNREACHABLE : TAINT_NOT_READY;
    keep(key, 'NoSchedule');
    keep(key, 'NoExecute');
  }
  if (node.spec?.unschedulable === true) keep(TAINT_UNSCHEDULABLE, 'NoSchedule');
  return wanted;
}

/** v1helper.Toleration.ToleratesTaint */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key !== undefined && toleration.key !== '' && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

function tolerationsOf(pod: Pod): Toleration[] {
  return Array.isArray(pod.spec.tolerations) ? (pod.spec.tolerations as Toleration[]) : [];
}

/**
 * How long a pod may stay on a node with these NoExecute taints
 * (tainteviction.getMinTolerationTime): `null` forever, 0 not at all (evict now).
 */
export function tolerationSeconds(pod: Pod, taints: readonly Taint[]): number | null {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return null;
  let min: number | null = null;
  for (const taint of noExecute) {
    const matching = tolerationsOf(pod).filter((t) => tolerates(t, taint));
    if (matching.length === 0) return 0;
    for (const t of matching) {
      if (t.tolerationSeconds === undefined) continue;
      const seconds = Math.max(0, t.tolerationSeconds);
      if (min === null || seconds < min) min = seconds;
    }
  }
  return min;
}

const defaultTolerationsBySeconds = new Map<number, readonly Toleration[]>();

/** The two tolerations DefaultTolerationSeconds adds, one frozen list per value shared by every pod. */
export function defaultTolerations(seconds = DEFAULT_TOLERATION_SECONDS): readonly Toleration[] {
  let list = defaultTolerationsBySeconds.get(seconds);
  if (!list) {
    list = freezeJson([
      { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
      { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds },
    ] as Toleration[]);
    defaultTolerationsBySeconds.set(seconds, list);
  }
  return list;
}

/**
 * The DefaultTolerationSeconds admission plugin (plugin/pkg/admission/defaulttolerationseconds):
 * a pod created without a toleration of the not-ready or unreachable NoExecute
 * taint gets one for `seconds`. Returns the pod itself when it has both.
 */
export function admitPodTolerations(pod: Pod, seconds = DEFAULT_TOLERATION_SECONDS): Pod {
  const tolerations = tolerationsOf(pod);
  const has = (key: string): boolean => tolerations.some((t) => tolerates(t, { key, effect: 'NoExecute' }));
  const [notReady, unreachable] = defaultTolerations(seconds);
  const added = [...(has(TAINT_NOT_READY) ? [] : [notReady!]), ...(has(TAINT_UNREACHABLE) ? [] : [unreachable!])];
  if (added.length === 0) return pod;
  const next = tolerations.length === 0 && added.length === 2 ? defaultTolerations(seconds) : [...tolerations, ...added];
  return { ...pod, spec: { ...pod.spec, tolerations: next as Toleration[] } };
}

/** A store admission hook: DefaultTolerationSeconds on every pod created. */
export function podAdmission(seconds = DEFAULT_TOLERATION_SECONDS): (object: KubeObject) => KubeObject {
  return (object) => (object.kind === 'Pod' ? admitPodTolerations(object, seconds) : object);
}

/** Can a new pod be placed on this node? (NodeUnschedulable, TaintToleration, and a kubelet that is up.) */
export function nodeProblem(node: Node, pod: Pod): string | undefined {
  const untolerated = (node.spec?.taints ?? []).find(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerationsOf(pod).some((tol) => tolerates(tol, t)),
  );
  if (node.spec?.unschedulable === true && !tolerationsOf(pod).some((t) => tolerates(t, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }))) {
    return "node(s) were unschedulable";
  }
  if (untolerated) return `node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`;
  if (nodeReadiness(node) !== 'True') return "node(s) were not ready";
  return undefined;
}

/**
 * The scheduler's choice for a pod among these nodes: the schedulable one with
 * the fewest pods (ties: the first), or the message of FailedScheduling, worded
 * as the scheduler words it ("0/3 nodes are available: 3 node(s) were unschedulable. ...").
 */
export function chooseNode(pod: Pod, nodes: readonly Node[], load: (node: string) => number): { node: string } | { unschedulable: string } {
  let best: { node: string; load: number } | undefined;
  const reasons = new Map<string, number>();
  for (const node of nodes) {
    const problem = nodeProblem(node, pod);
    if (problem) {
      reasons.set(problem, (reasons.get(problem) ?? 0) + 1);
      continue;
    }
    const pods = load(node.metadata.name);
    if (!best || pods < best.load) best = { node: node.metadata.name, load: pods };
  }
  if (best) return { node: best.node };
  const parts = [...reasons].map(([reason, n]) => `${n} ${reason}`).sort();
  const total = nodes.length;
  return {
    unschedulable: `0/${total} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}. preemption: 0/${total} nodes are available: ${total} Preemption is not helpful for scheduling.`,
  };
}

/** What one pass over a node's pods does (pure: state in, actions out). */
export interface NodePodPlan {
  /** Pods to mark not Ready (the node is not Ready). */
  markNotReady: Pod[];
  /** Pods to report Ready again (the node is back and their containers are ready). */
  markReady: Pod[];
  /** Pods whose toleration ran out: evict now. */
  evict: Pod[];
  /** Terminating pods whose kubelet is back to finish them. */
  resume: Pod[];
  /** When the next pod's toleration runs out (ms since the epoch), if one will. */
  nextEvictionAt?: number;
}

function readyStatus(pod: Pod): PodCondition['status'] | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready')?.status;
}

/** The kubelet's view of readiness: every container it reported is ready (and there are some). */
function containersReady(pod: Pod): boolean {
  const statuses = pod.status?.containerStatuses;
  return Array.isArray(statuses) && statuses.length > 0 && (statuses as { ready?: boolean }[]).every((s) => s.ready === true);
}

/**
 * The node's pods, and what the controllers do with them. `taintedAt`: when the
 * NoExecute taint was seen (ms), from which tolerations count.
 */
export function planNodePods(node: Node, pods: readonly Pod[], now: number, taintedAt: number | undefined): NodePodPlan {
  const plan: NodePodPlan = { markNotReady: [], markReady: [], evict: [], resume: [] };
  const ready = nodeReadiness(node) === 'True';
  const taints = node.spec?.taints ?? [];
  for (const pod of pods) {
    if (isTerminal(pod)) continue;
    if (ready) {
      if (isTerminating(pod)) plan.resume.push(pod);
      else if (readyStatus(pod) === 'False' && pod.status?.phase === 'Running' && containersReady(pod)) plan.markReady.push(pod);
      continue;
    }
    if (readyStatus(pod) === 'True') plan.markNotReady.push(pod);
    if (isTerminating(pod)) continue;
    const seconds = tolerationSeconds(pod, taints);
    if (seconds === null) continue;
    const at = (taintedAt ?? now) + seconds * 1000;
    if (at <= now) plan.evict.push(pod);
    else if (plan.nextEvictionAt === undefined || at < plan.nextEvictionAt) plan.nextEvictionAt = at;
  }
  return plan;
}

/** The pod with its Ready condition set (MarkPodsNotReady changes only that one). */
export function withReady(pod: Pod, status: 'True' | 'False', at: string): Pod {
  const conditions = (pod.status?.conditions ?? []).map((c) => (c.type === 'Ready' && c.status !== status ? { ...c, status, lastTransitionTime: at } : c));
  return { ...pod, status: { ...pod.status, conditions } };
}

/** The DisruptionTarget condition the taint-eviction controller adds before it deletes a pod. */
function withDisruptionTarget(pod: Pod, at: string): Pod {
  const conditions = (pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget');
  conditions.push({ type: 'DisruptionTarget', status: 'True', lastTransitionTime: at, reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' });
  return { ...pod, status: { ...pod.status, conditions } };
}

export interface NodeLifecycleOptions {
  clock: Clock;
  recorder: EventRecorder;
  /** Deletes a pod as the API does (graceful: the terminator). */
  deletePod: (pod: Pod, graceSeconds?: number) => void;
  /** A terminating pod's kubelet is back: let it finish terminating. */
  resumeTermination: (pod: Pod) => void;
  log: (message: string) => void;
}

export class NodeLifecycleController implements PodPlacement {
  /** When each node's NoExecute taint was first seen, ms (the taint's timeAdded after a restart). */
  private readonly taintedAt = new Map<string, number>();
  private readonly timers = new Map<string, { at: number; timer: ClockTimer }>();
  /** pod uid → node it was placed on, and pods per node: the scheduler's load. */
  private readonly placed = new Map<string, string>();
  private readonly load = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: NodeLifecycleOptions,
  ) {
    for (const pod of store.list('Pod')) this.notePod(undefined, pod);
  }

  /** Registers the nodes that are not there yet, as their kubelets do at start. */
  register(names: readonly string[]): void {
    const at = timestampAt(this.options.clock.now());
    const missing = names.filter((name) => !this.store.get('Node', undefined, name)).map((name) => newNode(name, name === FIRST_NODE, at));
    if (missing.length) this.store.apply(missing, 'create', true);
  }

  /** Keeps the scheduler's pod counts; called with every pod event. */
  notePod(before: Pod | undefined, after: Pod | undefined): void {
    const uid = (after ?? before)?.metadata.uid;
    if (!uid) return;
    const node = after && !isTerminal(after) && typeof after.spec.nodeName === 'string' && after.spec.nodeName ? after.spec.nodeName : undefined;
    this.place(uid, node);
  }

  private place(uid: string, node: string | undefined): void {
    const was = this.placed.get(uid);
    if (was === node) return;
    if (was !== undefined) {
      this.load.set(was, (this.load.get(was) ?? 1) - 1);
      this.placed.delete(uid);
    }
    if (node !== undefined) {
      this.load.set(node, (this.load.get(node) ?? 0) + 1);
      this.placed.set(uid, node);
    }
  }

  /**
   * The node to bind a new pod to, or why there is none (the scheduler). The
   * choice counts at once, so a batch of pods spreads before their events arrive.
   */
  schedule(pod: Pod): { node: string } | { unschedulable: string } {
    const nodes = this.store.list('Node').sort((a, b) => a.metadata.name.localeCompare(b.metadata.name, 'en', { numeric: true }));
    const choice = chooseNode(pod, nodes, (name) => this.load.get(name) ?? 0);
    if ('node' in choice && pod.metadata.uid) this.place(pod.metadata.uid, choice.node);
    return choice;
  }

  recordScheduled(pod: Pod, node: string): void {
    this.options.recorder.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${pod.metadata.namespace ?? 'default'}/${pod.metadata.name} to ${node}`, 'default-scheduler');
  }

  recordUnschedulable(pod: Pod, message: string): void {
    this.options.recorder.record(pod, 'Warning', 'FailedScheduling', message, 'default-scheduler');
  }

  /** Is the kubelet of this node there to run (and confirm the end of) pods? */
  kubeletUp(nodeName: unknown): boolean {
    if (typeof nodeName !== 'string' || !nodeName) return false;
    const node = this.store.get('Node', undefined, nodeName);
    return node !== undefined && nodeReadiness(node) === 'True';
  }

  reconcile(name: string): void {
    if (this.closed) return;
    let node = this.store.get('Node', undefined, name);
    if (!node) {
      this.cancel(name);
      this.taintedAt.delete(name);
      return;
    }
    const clock = this.options.clock;
    const now = clock.now();
    const at = timestampAt(now);
    const taints = desiredTaints(node, at);
    if (!sameJson(taints, node.spec?.taints ?? [])) {
      const hadNoExecute = (node.spec?.taints ?? []).some((t) => t.effect === 'NoExecute' && MANAGED_TAINTS.has(t.key));
      const spec = { ...(node.spec ?? {}) };
      if (taints.length) spec.taints = taints;
      else delete spec.taints;
      [node] = this.store.apply([{ ...node, spec }], 'update', true) as Node[];
      const noExecute = taints.some((t) => t.effect === 'NoExecute' && MANAGED_TAINTS.has(t.key));
      if (noExecute && !hadNoExecute) {
        this.taintedAt.set(name, now);
        this.options.recorder.record(node!, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`, 'node-controller');
      }
      if (!noExecute && hadNoExecute) this.options.recorder.record(node!, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`, 'kubelet');
    }
    node = node!;
    const noExecute = (node.spec?.taints ?? []).find((t) => t.effect === 'NoExecute' && MANAGED_TAINTS.has(t.key));
    if (!noExecute) this.taintedAt.delete(name);
    const since = this.taintedAt.get(name) ?? (noExecute?.timeAdded ? Date.parse(noExecute.timeAdded) : undefined);

    const pods = this.store.list('Pod').filter((p) => p.spec.nodeName === name);
    const plan = planNodePods(node, pods, now, since);
    const updates = [...plan.markNotReady.map((p) => withReady(p, 'False', at)), ...plan.markReady.map((p) => withReady(p, 'True', at))];
    if (updates.length) this.store.apply(updates, 'update', true);
    for (const pod of plan.markNotReady) this.options.recorder.record(pod, 'Warning', 'NodeNotReady', 'Node is not ready', 'node-controller');
    for (const pod of plan.evict) this.evict(pod, at);
    for (const pod of plan.resume) this.options.resumeTermination(pod);

    this.cancel(name);
    if (plan.nextEvictionAt !== undefined) {
      const timer = clock.setTimeout(() => {
        this.timers.delete(name);
        try {
          this.reconcile(name);
        } catch (error) {
          this.options.log(`node lifecycle: ${(error as Error).message}`);
        }
      }, plan.nextEvictionAt - now);
      this.timers.set(name, { at: plan.nextEvictionAt, timer });
    }
  }

  /** The taint-eviction controller's deletion: a DisruptionTarget condition, an event, then a graceful delete. */
  private evict(pod: Pod, at: string): void {
    const namespace = pod.metadata.namespace ?? 'default';
    const current = this.store.get('Pod', namespace, pod.metadata.name);
    if (!current || current.metadata.uid !== pod.metadata.uid || isTerminating(current)) return;
    this.options.recorder.record(current, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${namespace}/${pod.metadata.name}`, 'taint-eviction-controller');
    const [marked] = this.store.apply([withDisruptionTarget(current, at)], 'update', true) as Pod[];
    // No grace period named: the pod's own (terminationGracePeriodSeconds), as the API server takes it.
    this.options.deletePod(marked ?? current);
  }

  private cancel(name: string): void {
    this.timers.get(name)?.timer.cancel();
    this.timers.delete(name);
  }

  close(): void {
    this.closed = true;
    for (const { timer } of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}

/** The grace period of a delete that names none, as the API server takes it from the pod (30 s by default). */
export function podGracePeriod(pod: Pod): number {
  const seconds = pod.spec.terminationGracePeriodSeconds;
  return typeof seconds === 'number' && Number.isInteger(seconds) && seconds >= 0 ? seconds : 30;
}
