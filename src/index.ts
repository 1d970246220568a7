// Public entry point of the headless-dns package.

export { type Address, type ClusterEvent, type DnsCluster, type StartedCluster, formatHostPort, kubeconfigFor, startCluster } from './cluster.js';
export type { ClusterRoute, LookupAddress } from './node-dns/patch.js';
export { type Examples, examples } from './examples.js';
export { type ClusterOptions, DEFAULTS } from './options.js';
export { ERROR_CODES, type ErrorCode, type FieldCause, HeadlessDnsError, isHeadlessDnsError } from './errors.js';
export type {
  Endpoint,
  EndpointSlice,
  KubeObject,
  Kind,
  Namespace,
  ObjectMeta,
  Pod,
  Service,
  ServicePort,
  StatefulSet,
} from './model/types.js';
export type { PodMode } from './records/build.js';
export type { RR } from './records/rr.js';
