// The Kubernetes-shaped HTTP API on fastify. Built by a function that does not
// listen (tests use inject()); cluster.ts listens. Paths, object shapes, Status
// errors and watch follow the Kubernetes API closely enough for kubectl.

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ObjectStore } from '../store/store.js';
import { parseBody, patchTypeOf } from './body.js';
import { apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import type { Metrics } from './metrics.js';
import { ObjectApi, type ObjectTarget, type PodDeleter } from './objects.js';
import { openApiV3Document, openApiV3Index } from './openapi.js';
import { findResource } from './resources.js';
import { ApiError, toStatus } from './status.js';
import { type IncludeObject, wantsTable } from './tables.js';
import { WatchHub } from './watch.js';

export interface ApiOptions {
  store: ObjectStore;
  pods: PodDeleter;
  metrics: Metrics;
  packageVersion: string;
  /** host:port the API is reached at, for discovery's serverAddressByClientCIDRs. */
  serverAddress: () => string;
  /** Bearer token required on every request but the health checks, when set. */
  token?: string;
  /** What `headless-dns run` needs to know about this server: where DNS answers, and the zone. */
  info?: () => { dns: string; zone: string };
}

export interface ApiApp {
  app: FastifyInstance;
  watches: WatchHub;
}

const BODY_LIMIT = 3 * 1024 * 1024;

type Query = Record<string, string | undefined>;

function queryOf(request: FastifyRequest): Query {
  return (request.query ?? {}) as Query;
}

function integer(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw ApiError.of('BadRequest', `${name} must be an integer, got "${value}"`);
  return Number(value);
}

/** Splits /api/v1/... or /apis/<group>/v1/... into a target; undefined for a group/version root. */
function resolveTarget(group: string, version: string, rest: string[]): ObjectTarget | undefined {
  if (rest.length === 0) return undefined;
  let namespace: string | undefined;
  let plural: string;
  let name: string | undefined;
  let sub: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && ['status', 'finalize'].includes(rest[2]!))) {
    [, namespace, plural = '', name, sub] = rest as [string, string, string, string?, string?];
    if (rest.length > 5) plural = '';
  } else {
    [plural = '', name, sub] = rest as [string, string?, string?];
    if (rest.length > 3) plural = '';
  }
  const def = findResource(group, version, plural);
  if (!def || (namespace !== undefined && !def.namespaced)) throw ApiError.of('NotFound', 'the server could not find the requested resource');
  if (sub !== undefined && !(def.subresources as string[]).includes(sub)) throw ApiError.of('NotFound', 'the server could not find the requested resource');
  return {
    def,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(sub !== undefined ? { subresource: sub as 'status' | 'scale' } : {}),
  };
}

function include(query: Query): IncludeObject {
  const value = query.includeObject;
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

export function buildApiApp(options: ApiOptions): ApiApp {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT, forceCloseConnections: true });
  const watches = new WatchHub(options.store);
  const objects = new ObjectApi(options.store, options.pods, watches);

  // Kubernetes bodies come in several media types; read them raw and parse per type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    const status =
      fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? toStatus(new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than ${BODY_LIMIT} bytes`))
      : fastifyError.statusCode && fastifyError.statusCode < 500 && !(error instanceof ApiError) ? toStatus(new ApiError(fastifyError.statusCode, 'BadRequest', fastifyError.message))
      : toStatus(error);
    void reply.code(status.code).type('application/json').send(status);
    void request;
  });
  app.setNotFoundHandler((_request, reply) => {
    const status = toStatus(ApiError.of('NotFound', 'the server could not find the requested resource'));
    void reply.code(404).type('application/json').send(status);
  });

  if (options.token) {
    const expected = `Bearer ${options.token}`;
    app.addHook('onRequest', async (request, reply) => {
      if (['/healthz', '/readyz', '/livez'].includes(request.url.split('?')[0]!)) return;
      if (request.headers.authorization !== expected) {
        await reply.code(401).type('application/json').send(toStatus(new ApiError(401, 'Unauthorized', 'Unauthorized')));
      }
    });
  }

  for (const path of ['/healthz', '/readyz', '/livez']) app.get(path, async (_request, reply) => reply.type('text/plain').send('ok'));
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(options.metrics.render()));
  app.get('/version', async () => versionInfo(options.packageVersion));
  app.get('/headless-dns/v1/info', async () => ({ version: options.packageVersion, ...(options.info?.() ?? {}) }));
  app.get('/api', async () => apiVersions(options.serverAddress()));
  app.get('/apis', async () => apiGroupList());
  app.get('/openapi/v3', async () => openApiV3Index());
  app.get('/openapi/v3/*', async (request) => {
    const document = openApiV3Document((request.params as { '*': string })['*']);
    if (!document) throw ApiError.of('NotFound', 'the server could not find the requested resource');
    return document;
  });

  const handle = async (request: FastifyRequest, reply: FastifyReply, group: string, path: string): Promise<unknown> => {
    const [version = '', ...rest] = path.split('/').filter(Boolean);
    const target = resolveTarget(group, version, rest);
    const query = queryOf(request);
    if (!target) {
      if (request.method !== 'GET') throw ApiError.of('MethodNotAllowed', `${request.method} is not supported here`);
      const list = apiResourceList(group, version);
      if (!list) throw ApiError.of('NotFound', 'the server could not find the requested resource');
      return list;
    }
    const selectors = {
      ...(query.labelSelector ? { labelSelector: query.labelSelector } : {}),
      ...(query.fieldSelector ? { fieldSelector: query.fieldSelector } : {}),
      ...(wantsTable(request.headers.accept) ? { table: { include: include(query) } } : {}),
    };
    const body = (): unknown => parseBody(request.body as Buffer | undefined, request.headers['content-type']);
    switch (request.method) {
      case 'GET': {
        if (target.name !== undefined) return objects.get(target);
        if (query.watch === 'true' || query.watch === '1') {
          const timeoutSeconds = integer(query.timeoutSeconds, 'timeoutSeconds');
          const watchOptions = { ...selectors, ...(query.resourceVersion ? { resourceVersion: query.resourceVersion } : {}), ...(timeoutSeconds ? { timeoutSeconds } : {}) };
          // Validate the selectors before the stream starts, so errors are still a Status.
          objects.list(target, { ...watchOptions, table: undefined });
          void reply.hijack();
          objects.watch(target, watchOptions, reply.raw);
          return reply;
        }
        return objects.list(target, selectors);
      }
      case 'POST':
        if (target.name !== undefined) throw ApiError.of('MethodNotAllowed', 'POST is not supported on a named object');
        if (target.def.namespaced && target.namespace === undefined) throw ApiError.of('MethodNotAllowed', 'POST needs a namespace in the path');
        return reply.code(201).send(objects.create(target, body()));
      case 'PUT':
        if (target.name === undefined) throw ApiError.of('MethodNotAllowed', 'PUT needs an object name in the path');
        return objects.update(target, body());
      case 'PATCH': {
        if (target.name === undefined) throw ApiError.of('MethodNotAllowed', 'PATCH needs an object name in the path');
        const type = patchTypeOf(request.headers['content-type']);
        const result = objects.patch(target, type, body()) as { created: boolean; object: unknown };
        return reply.code(result.created ? 201 : 200).send(result.object);
      }
      case 'DELETE': {
        const raw = request.body as Buffer | undefined;
        const options = raw && raw.length > 0 ? (parseBody(raw, request.headers['content-type'] ?? 'application/json') as Record<string, unknown>) : {};
        const grace = integer(query.gracePeriodSeconds, 'gracePeriodSeconds') ?? (typeof options.gracePeriodSeconds === 'number' ? options.gracePeriodSeconds : undefined);
        const policy = query.propagationPolicy ?? (typeof options.propagationPolicy === 'string' ? options.propagationPolicy : undefined);
        const preconditions = (typeof options.preconditions === 'object' && options.preconditions !== null ? options.preconditions : {}) as { uid?: string; resourceVersion?: string };
        if (target.name === undefined) return objects.deleteCollection(target, selectors);
        return objects.delete(target, { ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}), ...(policy ? { propagationPolicy: policy } : {}), preconditions });
      }
      default:
        throw ApiError.of('MethodNotAllowed', `${request.method} is not supported`);
    }
  };

  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  app.route({ method: [...methods], url: '/api/*', handler: (request, reply) => handle(request, reply, '', (request.params as { '*': string })['*']) });
  app.route({
    method: [...methods],
    url: '/apis/:group/*',
    handler: (request, reply) => handle(request, reply, (request.params as { group: string }).group, (request.params as { '*': string })['*']),
  });

  // Watches end with their final chunk before the server drops connections.
  app.addHook('preClose', async () => watches.close());
  return { app, watches };
}
