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

export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[];
  [field: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  hostname?: string;
  subdomain?: string;
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

export interface StatefulSet extends KubeObjectBase {
  kind: 'StatefulSet';
  spec: {
    replicas?: number;
    serviceName?: string;
    selector: LabelSelector;
    template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };
    podManagementPolicy?: 'OrderedReady' | 'Parallel';
    ordinals?: { start?: number };
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
