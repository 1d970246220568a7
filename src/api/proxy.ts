// The API server's proxy (pkg/registry/core/pod/strategy.go ResourceLocation,
// pkg/registry/core/service/storage ResourceLocation): any method on
//   /api/v1/namespaces/{ns}/pods/[{scheme}:]{name}[:{port}]/proxy/{path}
//   /api/v1/namespaces/{ns}/services/[{scheme}:]{name}[:{port}]/proxy/{path}
// is passed to the pod's IP (the port given, else its first container port),
// or to a ready endpoint of the Service (a random one, on the port the Service
// port names), with the query, the body and the reply as they are. This is what
// `kubectl proxy` users and the book's `curl localhost:8001/...` reach.

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EndpointSlice, Pod, Service } from '../model/types.js';
import { SERVICE_NAME_LABEL } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import { ApiError } from './status.js';

export interface ProxyTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
}

/** A proxy path, or undefined when the path is not one. */
export interface ProxyPath {
  kind: 'pods' | 'services';
  namespace: string;
  /** `[scheme:]name[:port]` as given. */
  spec: string;
  /** What goes to the target: `/` and on. */
  path: string;
}

/** Recognises namespaces/{ns}/{pods|services}/{spec}/proxy[/...] (the segments after /api/v1/). */
export function proxyPath(segments: readonly string[], trailingSlash: boolean): ProxyPath | undefined {
  if (segments.length < 5 || segments[0] !== 'namespaces' || segments[4] !== 'proxy') return undefined;
  const kind = segments[2];
  if (kind !== 'pods' && kind !== 'services') return undefined;
  const rest = segments.slice(5).join('/');
  return { kind, namespace: segments[1]!, spec: segments[3]!, path: `/${rest}${rest && trailingSlash ? '/' : ''}` };
}

/** net.SplitSchemeNamePort: `name`, `name:port`, or `scheme:name:port` (scheme http or https). */
function splitSchemeNamePort(spec: string): { scheme: '' | 'http' | 'https'; name: string; port: string } {
  const parts = spec.split(':');
  if (parts.length === 1 && parts[0]) return { scheme: '', name: parts[0], port: '' };
  if (parts.length === 2 && parts[0]) return { scheme: '', name: parts[0], port: parts[1]! };
  if (parts.length === 3 && (parts[0] === 'http' || parts[0] === 'https' || parts[0] === '') && parts[1]) return { scheme: parts[0] as '' | 'http' | 'https', name: parts[1], port: parts[2]! };
  throw ApiError.of('BadRequest', `invalid request ${JSON.stringify(spec)}`);
}

export function podProxyTarget(store: ObjectStore, namespace: string, spec: string): ProxyTarget {
  const { scheme, name, port } = splitSchemeNamePort(spec);
  const pod = store.get('Pod', namespace, name) as Pod | undefined;
  if (!pod) throw ApiError.of('NotFound', `pods "${name}" not found`);
  const ip = pod.status?.podIP;
  if (!ip) throw new ApiError(503, 'ServiceUnavailable', `pod ${name} does not have a host assigned`);
  let number: number | undefined;
  if (port) {
    number = /^\d+$/.test(port) ? Number(port) : pod.spec.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === port)?.containerPort;
    if (number === undefined) throw ApiError.of('BadRequest', `invalid port ${JSON.stringify(port)} for pod ${name}`);
  } else {
    // The first port of the first container that has one (strategy.go); none means port 80.
    number = pod.spec.containers.find((c) => c.ports?.length)?.ports?.[0]?.containerPort ?? 80;
  }
  return { scheme: scheme || 'http', host: ip, port: number };
}

export function serviceProxyTarget(store: ObjectStore, namespace: string, spec: string, random: () => number = Math.random): ProxyTarget {
  const { scheme, name, port } = splitSchemeNamePort(spec);
  const service = store.get('Service', namespace, name) as Service | undefined;
  if (!service) throw ApiError.of('NotFound', `services "${name}" not found`);
  const ports = service.spec.ports ?? [];
  const servicePort = port ? ports.find((p) => p.name === port || String(p.port) === port) : ports.length === 1 ? ports[0] : undefined;
  if (!servicePort) {
    throw new ApiError(503, 'ServiceUnavailable', port ? `no service port "${port}" found for service "${name}"` : `no service port found for service "${name}"`);
  }
  const slices = (store.list('EndpointSlice', namespace) as EndpointSlice[]).filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name && s.addressType !== 'FQDN');
  const targets: { host: string; port: number }[] = [];
  for (const slice of slices) {
    const slicePort = (slice.ports ?? []).find((p) => (p.name ?? '') === (servicePort.name ?? ''));
    if (!slicePort?.port) continue;
    for (const endpoint of slice.endpoints) {
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses) targets.push({ host: address, port: slicePort.port });
    }
  }
  if (!targets.length) throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${name}"`);
  const chosen = targets[Math.floor(random() * targets.length)]!;
  return { scheme: scheme || 'http', ...chosen };
}

/** Headers that belong to one hop (RFC 9110 §7.6.1), and the API's own credentials, which the member must not see. */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'authorization', 'host', 'content-length']);

function forwardedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !NOT_FORWARDED.has(name)) out[name] = value;
  return out;
}

/** Sends the request on to the target and its reply back, as it comes. */
export function forward(request: FastifyRequest, reply: FastifyReply, target: ProxyTarget, path: string): FastifyReply {
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
  const body = Buffer.isBuffer(request.body) ? request.body : undefined;
  const headers = forwardedHeaders(request.headers);
  if (body) headers['content-length'] = String(body.length);
  void reply.hijack();
  const out = reply.raw;
  const upstream = (target.scheme === 'https' ? httpsRequest : httpRequest)(
    { host: target.host, port: target.port, method: request.method, path: `${path}${query}`, headers, timeout: 30_000, ...(target.scheme === 'https' ? { rejectUnauthorized: false } : {}) },
    (response) => {
      const replyHeaders: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(response.headers)) if (value !== undefined && !['connection', 'keep-alive', 'transfer-encoding'].includes(name)) replyHeaders[name] = value;
      out.writeHead(response.statusCode ?? 502, replyHeaders);
      response.pipe(out);
    },
  );
  upstream.on('timeout', () => upstream.destroy(new Error('timeout')));
  upstream.on('error', (error) => {
    if (out.headersSent) return void out.destroy();
    // The API server's wording when the backend cannot be reached (proxy ErrorResponder).
    const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `error trying to reach service: ${error.message}`, reason: 'ServiceUnavailable', code: 503 };
    out.writeHead(503, { 'Content-Type': 'application/json' }).end(JSON.stringify(status));
  });
  out.on('close', () => upstream.destroy());
  upstream.end(body);
  return reply;
}
