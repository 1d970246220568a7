// The Kubernetes object shapes headless-dns keeps. They follow the API's JSON
// field names so that manifests, kubectl bodies and stored objects are one type.
// Fields DNS never reads are still kept (objects round-trip), typed loosely.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
}

export interface KubeObjectBase {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

export interface Namespace extends KubeObjectBase {
  kind: 'Namespace';
  spec?: Record<string, unknown>;
  status?: { phase?: string };
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface ServicePort {
  name?: string;
  protocol?: Protocol;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface Service extends KubeObjectBase {
  kind: 'Service';
  spec: {
    type?: ServiceType;
    clusterIP?: string;
    clusterIPs?: string[];
    ipFamilies?: ('IPv4' | 'IPv6')[];
    ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
    ports?: ServicePort[];
    selector?: Record<string, string>;
    externalName?: string;
    publishNotReadyAddresses?: boolean;
    /** Defaulted: None (SetDefaults_Service). */
    sessionAffinity?: 'None' | 'ClientIP';
    sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    /** Defaulted to Cluster for ClusterIP, NodePort and LoadBalancer Services. */
    internalTrafficPolicy?: 'Cluster' | 'Local';
    /** Defaulted to Cluster for externally reachable Services. */
    externalTrafficPolicy?: 'Cluster' | 'Local';
    externalIPs?: string[];
    allocateLoadBalancerNodePorts?: boolean;
    [field: string]: unknown;
  };
  status?: Record<string, unknown>;
}

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  [field: string]: unknown;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  targetRef?: ObjectReference;
  nodeName?: string;
  zone?: string;
  [field: string]: unknown;
}

export interface EndpointPort {
  name?: string;
  protocol?: Protocol;
  port?: number;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObjectBase {
  kind: 'EndpointSlice';
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: Endpoint[];
  ports?: EndpointPort[];
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: Protocol;
  hostPort?: number;
}

/** core/v1 HTTPGetAction (probes and lifecycle hooks); `path` and `scheme` are defaulted. */
export interface HTTPGetAction {
  port: number | string;
  path?: string;
  host?: string;
  scheme?: 'HTTP' | 'HTTPS';
  httpHeaders?: { name: string; value: string }[];
  [field: string]: unknown;
}

/** core/v1 Probe; the four timing fields are defaulted as SetDefaults_Probe does. */
export interface Probe {
  httpGet?: HTTPGetAction;
  tcpSocket?: { port: number | string; host?: string };
  exec?: { command?: string[] };
  grpc?: { port: number; service?: string };
  initialDelaySeconds?: number;
  timeoutSeconds?: number;
  periodSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
  terminationGracePeriodSeconds?: number;
  [field: string]: unknown;
}

export interface ResourceRequirements {
  limits?: Record<string, string>;
  requests?: Record<string, string>;
  [field: string]: unknown;
}

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  imagePullPolicy?: PullPolicy;
  terminationMessagePath?: string;
  terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError';
  /** Always present once stored (`{}` when nothing is asked), as Go serialises the struct. */
  resources?: ResourceRequirements;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  [field: string]: unknown;
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';
export type DNSPolicy = 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  hostname?: string;
  subdomain?: string;
  /** Defaulted (SetDefaults_PodSpec): Always, 30, ClusterFirst, default-scheduler, `{}`. */
  restartPolicy?: RestartPolicy;
  terminationGracePeriodSeconds?: number;
  dnsPolicy?: DNSPolicy;
  schedulerName?: string;
  securityContext?: Record<string, unknown>;
  /** Defaulted to true on Pods only (SetDefaults_Pod), never in templates. */
  enableServiceLinks?: boolean;
  activeDeadlineSeconds?: number;
  volumes?: { name: string; [source: string]: unknown }[];
  [field: string]: unknown;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastTransitionTime?: string;
  [field: string]: unknown;
}

export interface Pod extends KubeObjectBase {
  kind: 'Pod';
  spec: PodSpec;
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
    podIP?: string;
    podIPs?: { ip: string }[];
    conditions?: PodCondition[];
    [field: string]: unknown;
  };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** apps/v1 StatefulSetUpdateStrategy; `rollingUpdate` only with `RollingUpdate`. */
export interface StatefulSetUpdateStrategy {
  type?: 'RollingUpdate' | 'OnDelete';
  rollingUpdate?: {
    /** Ordinals below it keep the old revision; defaulted to 0 when `rollingUpdate` is there. */
    partition?: number;
    /** A number (at least 1) or a percentage of replicas ("25%"); not defaulted. */
    maxUnavailable?: number | string;
  };
}

export type PersistentVolumeClaimRetentionPolicyType = 'Retain' | 'Delete';

/** An entry of `volumeClaimTemplates`: a claim without namespace, as the set stores it. */
export interface PersistentVolumeClaimTemplate {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string>; [field: string]: unknown };
  spec: PersistentVolumeClaim['spec'];
  status?: PersistentVolumeClaim['status'];
}

export interface StatefulSet extends KubeObjectBase {
  kind: 'StatefulSet';
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: LabelSelector;
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [field: string]: unknown }; spec: PodSpec };
    podManagementPolicy?: 'OrderedReady' | 'Parallel';
    ordinals?: { start?: number };
    /** Defaulted to `{type: RollingUpdate, rollingUpdate: {partition: 0}}` (apps/v1 SetDefaults_StatefulSet). */
    updateStrategy?: StatefulSetUpdateStrategy;
    /** Defaulted to 10. */
    revisionHistoryLimit?: number;
    /** Not defaulted in the object (an omitted 0), as apps/v1 serialises it. */
    minReadySeconds?: number;
    /** Defaulted to `{whenDeleted: Retain, whenScaled: Retain}`. */
    persistentVolumeClaimRetentionPolicy?: { whenDeleted?: PersistentVolumeClaimRetentionPolicyType; whenScaled?: PersistentVolumeClaimRetentionPolicyType };
    volumeClaimTemplates?: PersistentVolumeClaimTemplate[];
    [field: string]: unknown;
  };
  status?: Record<string, unknown>;
}

/** coordination.k8s.io/v1 Lease: how a local process says it is still alive. */
export interface Lease extends KubeObjectBase {
  kind: 'Lease';
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
    [field: string]: unknown;
  };
}

/** apps/v1 ControllerRevision: one distinct pod template of a StatefulSet, and how to restore it. */
export interface ControllerRevision extends KubeObjectBase {
  kind: 'ControllerRevision';
  /** The patch that restores the template: `{"spec":{"template":{...,"$patch":"replace"}}}`. */
  data?: unknown;
  revision: number;
}

/** core/v1 PersistentVolumeClaim: a member's stable storage. */
export interface PersistentVolumeClaim extends KubeObjectBase {
  kind: 'PersistentVolumeClaim';
  spec: {
    accessModes?: string[];
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    storageClassName?: string;
    volumeName?: string;
    volumeMode?: string;
    selector?: LabelSelector;
    [field: string]: unknown;
  };
  status?: { phase?: 'Pending' | 'Bound' | 'Lost'; accessModes?: string[]; capacity?: Record<string, string>; [field: string]: unknown };
}

/** core/v1 PersistentVolume (cluster-scoped): here a directory on this machine. */
export interface PersistentVolume extends KubeObjectBase {
  kind: 'PersistentVolume';
  spec: {
    capacity?: Record<string, string>;
    accessModes?: string[];
    persistentVolumeReclaimPolicy?: 'Retain' | 'Delete' | 'Recycle';
    storageClassName?: string;
    claimRef?: ObjectReference;
    hostPath?: { path: string; type?: string };
    [field: string]: unknown;
  };
  status?: { phase?: 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed'; [field: string]: unknown };
}

/** core/v1 Node (cluster-scoped): where pods are bound (`spec.nodeName`). */
export interface Node extends KubeObjectBase {
  kind: 'Node';
  spec?: {
    unschedulable?: boolean;
    taints?: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'; timeAdded?: string }[];
    podCIDR?: string;
    [field: string]: unknown;
  };
  status?: { conditions?: { type: string; status: 'True' | 'False' | 'Unknown'; [field: string]: unknown }[]; [field: string]: unknown };
}

/** core/v1 Event (also served as events.k8s.io/v1). */
export interface KubeEvent extends KubeObjectBase {
  kind: 'Event';
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  type?: 'Normal' | 'Warning';
  source?: { component?: string; host?: string };
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string | null;
  reportingComponent?: string;
  reportingInstance?: string;
  action?: string;
  [field: string]: unknown;
}

export type KubeObject =
  | Namespace
  | Service
  | EndpointSlice
  | Pod
  | StatefulSet
  | Lease
  | ControllerRevision
  | PersistentVolumeClaim
  | PersistentVolume
  | Node
  | KubeEvent;
export type Kind = KubeObject['kind'];

export const KINDS: readonly Kind[] = [
  'Namespace',
  'Service',
  'EndpointSlice',
  'Pod',
  'StatefulSet',
  'Lease',
  'ControllerRevision',
  'PersistentVolumeClaim',
  'PersistentVolume',
  'Node',
  'Event',
];

/** apiVersion each kind is served under, as a cluster would. */
export const API_VERSIONS: Record<Kind, string> = {
  Namespace: 'v1',
  Service: 'v1',
  Pod: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  StatefulSet: 'apps/v1',
  Lease: 'coordination.k8s.io/v1',
  ControllerRevision: 'apps/v1',
  PersistentVolumeClaim: 'v1',
  PersistentVolume: 'v1',
  Node: 'v1',
  Event: 'v1',
};

const CLUSTER_SCOPED: ReadonlySet<Kind> = new Set<Kind>(['Namespace', 'PersistentVolume', 'Node']);

export function isNamespaced(kind: Kind): boolean {
  return !CLUSTER_SCOPED.has(kind);
}

/** The label that ties an EndpointSlice to its Service (discovery.k8s.io/v1 LabelServiceName). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
