// The Kubernetes-shaped HTTP API on fastify. Built by a function that does not
// listen (tests use inject()); cluster.ts listens. Paths, object shapes, Status
// errors and watch follow the Kubernetes API closely enough for kubectl.

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { ObjectStore } from '../store/store.js';
import { mediaType, parseBody, patchTypeOf } from './body.js';
import { answerClientError } from './client-error.js';
import { apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.js';
import type { Metrics } from './metrics.js';
import { ObjectApi, type ObjectTarget, type PodDeleter } from './objects.js';
import { EventsV1Api } from './eventsv1.js';
import { registerFieldValidation } from './fieldvalidation.js';
import { registerOpenApiRoutes } from './openapi.js';
import { HostPolicy, countParam, crossSiteReason, resourceVersionParam, tokenMatches } from './guards.js';
import { listOptionsOf, queryBool, type RawQuery } from './listoptions.js';
import { matchesFilter, type QueryLog } from '../dns/querylog.js';
import type { Faults } from '../dns/faults.js';
import { findResource } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, type StatusBody, toStatus } from './status.js';
import { type IncludeObject, wantsTable } from './tables.js';
import { WatchHub } from './watch.js';
import { podLogOptions, type PodLogSource, writePodLog } from './logs.js';
import { forward, podProxyTarget, proxyPath, serviceProxyTarget } from './proxy.js';
import type { Pod } from '../model/types.js';
import { isUiFile, registerUi } from './ui.js';

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
  /**
   * Names and addresses besides loopback (localhost, 127.0.0.0/8, ::1) that a
   * request's Host header may carry, with or without a port: the bound address
   * and any name the server is reached by. A wildcard (0.0.0.0, ::) admits
   * every address literal. Any other Host is refused (DNS rebinding).
   */
  allowedHosts?: readonly string[];
  /**
   * Resolves once everything a write set off is done (its cascade, and the DNS
   * answers prepared for it); a write's reply waits for it. Default: the store's cascade.
   */
  settled?: () => Promise<void>;
  /** The socket this app routes for is HTTPS (it is made elsewhere): a same-origin page's Origin is https://. */
  secure?: boolean;
  /** Serve HTTPS with this certificate chain and key (PEM) instead of plain HTTP. */
  https?: { cert: string; key: string };
  /** Where pods/{name}/log reads containers' output: the process runtime, when commands run. */
  logs?: PodLogSource;
  /** The query log, when the cluster keeps one (GET /debug/queries). */
  queryLog?: QueryLog;
  /** DNS fault rules (GET, POST /debug/faults, PATCH and DELETE /debug/faults/{id}). */
  faults?: Faults;
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

/** A query value as Go's url.Values.Get reads it: the first of a repeated key. */
function firstOf(query: RawQuery, key: string): string | undefined {
  const value = query[key];
  return Array.isArray(value) ? value[0] : value;
}

/** Media types an object body (create, update, DeleteOptions) may come in, as the API server lists them. */
const OBJECT_MEDIA_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/**
 * The raw body of a create, update or delete, and the media type to read it as;
 * refused unless that is one the API server decodes. Like the API server, a
 * body without a Content-Type is read as JSON (`kubectl create --raw`, `replace
 * --raw` and the scale client send none), but not from a browser (Origin or
 * Sec-Fetch-Site present): a page can POST a typeless Blob cross-site without
 * a preflight, and browsers add Origin to every such request. (Sec-Fetch-Mode
 * alone does not count: Node's own fetch sends it.)
 */
function objectBody(request: FastifyRequest): { raw: Buffer; type: string } | undefined {
  const raw = request.body as Buffer | undefined;
  if (!raw || raw.length === 0) return undefined;
  const headers = request.headers;
  const fromBrowser = headers.origin !== undefined || headers['sec-fetch-site'] !== undefined;
  const given = headers['content-type'];
  const type = given === undefined && !fromBrowser ? 'application/json' : mediaType(given);
  if (!OBJECT_MEDIA_TYPES.includes(type)) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${OBJECT_MEDIA_TYPES.join(', ')}`);
  }
  return { raw, type };
}

const REASONS: Record<number, string> = { 400: 'BadRequest', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 406: 'NotAcceptable', 408: 'Timeout', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType', 431: 'RequestHeaderFieldsTooLarge' };

function failure(code: number, message: string): StatusBody {
  return toStatus(new ApiError(code, REASONS[code] ?? 'BadRequest', message));
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
    ...(sub !== undefined ? { subresource: sub as 'status' | 'scale' | 'eviction' | 'log' } : {}),
  };
}

/**
 * The dryRun option of a write: a query parameter (create, update, patch) or
 * DeleteOptions.dryRun in a DELETE body, a list whose one defined value is
 * "All" (apimachinery ValidateDryRun). Anything else is refused as the API
 * server refuses it: 422, "<Kind>Options.meta.k8s.io "" is invalid", before
 * anything is done.
 */
function dryRunOf(value: unknown, options: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions'): boolean {
  if (value === undefined || value === null) return false;
  const values = Array.isArray(value) ? value : [value];
  if (values.every((v) => v === 'All')) return values.length > 0;
  // Go's %#v of the []string, as field.NotSupported prints it.
  const shown = `[]string{${values.map((v) => JSON.stringify(typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}}`;
  const message = `Unsupported value: ${shown}: supported values: "All"`;
  throw new ApiError(422, 'Invalid', `${options}.meta.k8s.io "" is invalid: dryRun: ${message}`, {
    group: 'meta.k8s.io',
    kind: options,
    causes: [{ reason: 'FieldValueNotSupported', field: 'dryRun', message }],
  });
}

function include(query: Query): IncludeObject {
  const value = query.includeObject;
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

export function buildApiApp(options: ApiOptions): ApiApp {
  const app = Fastify({
    // Fastify picks http or https when it is made. The routes are the same either
    // way, so the option is kept out of the types (it would change the instance's).
    ...((options.https ? { https: options.https } : {}) as object),
    logger: false,
    bodyLimit: BODY_LIMIT,
    forceCloseConnections: true,
    clientErrorHandler: answerClientError,
    // The router's own refusals (a bad %-encoding, an over-long parameter) as a Status too.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).code(400).type('application/json').send(failure(400, error.message));
    },
  });
  const watches = new WatchHub(options.store);
  const objects = new ObjectApi(options.store, options.pods, watches);
  // events.k8s.io/v1 serves the stored core/v1 Events in its own shape.
  const eventsV1 = new EventsV1Api(options.store, options.pods, watches);
  const apiFor = (target: ObjectTarget): ObjectApi => (target.def.group === 'events.k8s.io' ? eventsV1 : objects);

  // Kubernetes bodies come in several media types; read them raw and parse per type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error, request, reply) => {
    const fastifyError = error as { statusCode?: number; code?: string; message: string };
    const status =
      fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? failure(413, `the request body is larger than ${BODY_LIMIT} bytes`)
      : fastifyError.statusCode && fastifyError.statusCode < 500 && !(error instanceof ApiError) ? failure(fastifyError.statusCode, fastifyError.message)
      : toStatus(error);
    void reply.code(status.code).type('application/json').send(status);
    void request;
  });
  app.setNotFoundHandler((_request, reply) => {
    const status = toStatus(ApiError.of('NotFound', 'the server could not find the requested resource'));
    void reply.code(404).type('application/json').send(status);
  });

  // Before anything else, health checks included: a page in the user's browser
  // must get nothing from this server, by a cross-site request or by DNS rebinding.
  const hosts = new HostPolicy(options.allowedHosts);
  app.addHook('onRequest', async (request, reply) => {
    const host = request.headers.host;
    const crossSite = crossSiteReason(request.headers, options.secure === true || options.https !== undefined);
    const refusal = !hosts.allows(host) ? `forbidden: Host ${JSON.stringify(host)} does not name this server` : crossSite && `forbidden: ${crossSite} is not served`;
    if (refusal) await reply.code(403).type('application/json').send(failure(403, refusal));
  });

  if (options.token) {
    const expected = `Bearer ${options.token}`;
    app.addHook('onRequest', async (request, reply) => {
      if (reply.sent) return;
      const path = request.url.split('?')[0]!;
      if (['/healthz', '/readyz', '/livez'].includes(path) || isUiFile(path)) return;
      if (!tokenMatches(expected, request.headers.authorization)) {
        await reply.code(401).type('application/json').send(toStatus(new ApiError(401, 'Unauthorized', 'Unauthorized')));
      }
    });
  }

  for (const path of ['/healthz', '/readyz', '/livez']) app.get(path, async (_request, reply) => reply.type('text/plain').send('ok'));
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(options.metrics.render()));
  app.get('/version', async () => versionInfo(options.packageVersion));
  // The query log: newest last; ?watch=true streams one JSON object a line.
  app.get('/debug/queries', async (request, reply) => {
    const log = options.queryLog;
    if (!log) throw ApiError.of('NotFound', 'the query log is off: start serve with --log-queries (or startCluster with queryLog: true)');
    const query = request.query as RawQuery;
    const text = (key: string): string | undefined => {
      const value = query[key];
      return Array.isArray(value) ? value[0] : value;
    };
    const sinceText = text('since');
    const since = sinceText === undefined ? undefined : /^\d+$/.test(sinceText) ? Number(sinceText) : Date.parse(sinceText);
    if (since !== undefined && Number.isNaN(since)) throw ApiError.of('BadRequest', `since must be a time (RFC 3339) or milliseconds since the epoch, got "${sinceText}"`);
    const filter = { ...(text('name') ? { name: text('name')! } : {}), ...(text('type') ? { type: text('type')! } : {}), ...(text('rcode') ? { rcode: text('rcode')! } : {}), ...(since !== undefined ? { since } : {}) };
    const watchText = text('watch');
    if (watchText === undefined || !queryBool(watchText)) return { items: log.list(filter) };
    void reply.hijack();
    const out = reply.raw;
    out.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    for (const record of log.list(filter)) out.write(`${JSON.stringify(record)}\n`);
    // One write a batch: a write per query would be a syscall per query while the page watches.
    const stop = log.follow((records) => {
      let text = '';
      for (const record of records) if (matchesFilter(record, filter)) text += `${JSON.stringify(record)}\n`;
      if (text) out.write(text);
    });
    out.once('close', stop);
    return reply;
  });
  // DNS faults: list, add (the stored rule with its id comes back), remove.
  app.get('/debug/faults', async () => ({ items: options.faults?.list() ?? [] }));
  app.post('/debug/faults', async (request, reply) => {
    if (!options.faults) throw ApiError.of('NotFound', 'faults are not served here');
    const raw = Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw ApiError.of('BadRequest', 'the body must be a JSON fault rule, e.g. {"name": "kubia-0.kubia.default.svc.cluster.local", "type": "A", "rcode": "SERVFAIL"}');
    }
    try {
      return reply.code(201).send(options.faults.add(body));
    } catch (error) {
      throw new ApiError(422, 'Invalid', (error as Error).message);
    }
  });
  // Switches a rule on or off ({"enabled": false}); the rule keeps its id and hits.
  app.patch('/debug/faults/:id', async (request) => {
    const id = (request.params as { id: string }).id;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '');
    } catch {
      throw ApiError.of('BadRequest', 'the body must be JSON, {"enabled": true} or {"enabled": false}');
    }
    const enabled = (body as { enabled?: unknown } | null)?.enabled;
    if (typeof enabled !== 'boolean' || Object.keys(body as object).length !== 1) throw new ApiError(422, 'Invalid', 'fault: the body is {"enabled": true} or {"enabled": false}, nothing else');
    const rule = options.faults?.setEnabled(id, enabled);
    if (!rule) throw ApiError.of('NotFound', `fault "${id}" not found`);
    return rule;
  });
  app.delete('/debug/faults/:id', async (request) => {
    const id = (request.params as { id: string }).id;
    if (!options.faults?.remove(id)) throw ApiError.of('NotFound', `fault "${id}" not found`);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: id, kind: 'fault' } };
  });
  registerUi(app, options.store, () => {
    const dns = options.info?.().dns;
    const match = dns ? /^\[?([^\]]+?)\]?:(\d+)$/.exec(dns) : null;
    return match ? { host: match[1]!, port: Number(match[2]) } : undefined;
  });
  app.get('/headless-dns/v1/info', async () => ({ version: options.packageVersion, ...(options.info?.() ?? {}) }));
  app.get('/api', async () => apiVersions(options.serverAddress()));
  app.get('/apis', async () => apiGroupList());
  registerOpenApiRoutes(app);
  registerFieldValidation(app);

  const handle = async (request: FastifyRequest, reply: FastifyReply, group: string, path: string): Promise<unknown> => {
    const [version = '', ...segments] = path.split('/').filter(Boolean);
    // The deprecated /watch/ paths (GET /api/v1/watch/namespaces/NS/pods[/NAME]) are still
    // served: a watch whatever the query says, of one object when a name is given.
    // The API server's proxy to pods and services (kubectl proxy, the book's curl .../proxy/).
    const proxy = group === '' && version === 'v1' ? proxyPath(segments, request.url.split('?')[0]!.endsWith('/')) : undefined;
    if (proxy) {
      const target = proxy.kind === 'pods' ? podProxyTarget(options.store, proxy.namespace, proxy.spec) : serviceProxyTarget(options.store, proxy.namespace, proxy.spec);
      return forward(request, reply, target, proxy.path);
    }
    const forceWatch = request.method === 'GET' && segments[0] === 'watch';
    const rest = forceWatch ? segments.slice(1) : segments;
    const target = resolveTarget(group, version, rest);
    const query = queryOf(request);
    if (!target) {
      if (request.method !== 'GET' || forceWatch) throw ApiError.of(forceWatch ? 'NotFound' : 'MethodNotAllowed', forceWatch ? 'the server could not find the requested resource' : `${request.method} is not supported here`);
      const list = apiResourceList(group, version);
      if (!list) throw ApiError.of('NotFound', 'the server could not find the requested resource');
      return list;
    }
    const objects = apiFor(target);
    const selectors = {
      ...(query.labelSelector ? { labelSelector: query.labelSelector } : {}),
      ...(query.fieldSelector ? { fieldSelector: query.fieldSelector } : {}),
      ...(wantsTable(request.headers.accept) ? { table: { include: include(query) } } : {}),
    };
    const body = (): unknown => {
      const given = objectBody(request);
      return parseBody(given?.raw, given?.type);
    };
    if (target.subresource === 'log') {
      if (request.method !== 'GET') throw ApiError.of('MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const logOptions = podLogOptions(request.query as RawQuery, Date.now());
      const pod = objects.get({ ...target, subresource: undefined }) as Pod;
      const found = options.logs?.containerLog(target.namespace ?? 'default', pod.metadata.name, logOptions.container, logOptions.previous) ?? {
        problem: `container in pod "${pod.metadata.name}" has no output: headless-dns emulates it (run it as a local process with --exec to have logs)`,
      };
      if ('problem' in found) throw ApiError.of('BadRequest', found.problem);
      void reply.hijack();
      writePodLog(reply.raw, found, logOptions);
      return reply;
    }
    // An Eviction is only ever created (the API server answers any other verb this way).
    if (target.subresource === 'eviction' && request.method !== 'POST') throw ApiError.of('MethodNotAllowed', 'the server does not allow this method on the requested resource');
    switch (request.method) {
      case 'GET': {
        // Read as the API server reads it (decimal only) on get, list and watch alike.
        const resourceVersion = resourceVersionParam(query.resourceVersion);
        // A GET of one object reads no ListOptions (watch=true on it is still a get, as in the API server).
        if (target.name !== undefined && !forceWatch) return objects.get(target, selectors.table);
        // ListOptions as the API server decodes, defaults and validates them (400, or 422 naming the field).
        const options = listOptionsOf(request.query as RawQuery);
        if (options.watch || forceWatch) {
          const timeoutSeconds = countParam(firstOf(request.query as RawQuery, 'timeoutSeconds'), 'timeoutSeconds');
          const watchOptions = {
            ...selectors,
            ...(resourceVersion ? { resourceVersion } : {}),
            ...(timeoutSeconds ? { timeoutSeconds } : {}),
            ...(options.sendInitialEvents !== undefined ? { sendInitialEvents: options.sendInitialEvents } : {}),
            ...(options.allowWatchBookmarks ? { allowWatchBookmarks: true } : {}),
          };
          // Every parameter is checked before the reply is hijacked: after that,
          // an error has no Status to become and the client would wait forever.
          parseLabelSelector(selectors.labelSelector);
          parseFieldSelector(selectors.fieldSelector);
          void reply.hijack();
          try {
            objects.watch(target, watchOptions, reply.raw);
          } catch (error) {
            // Not expected (all is checked above), but answered rather than left hanging.
            const status = toStatus(error);
            if (reply.raw.headersSent) reply.raw.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
            else reply.raw.writeHead(status.code, { 'Content-Type': 'application/json' }).end(JSON.stringify(status));
          }
          return reply;
        }
        return objects.list(target, {
          ...selectors,
          ...(resourceVersion ? { resourceVersion } : {}),
          ...(options.resourceVersionMatch ? { resourceVersionMatch: options.resourceVersionMatch } : {}),
          ...(options.limit > 0 ? { limit: options.limit } : {}),
          ...(options.continue !== undefined ? { continue: options.continue } : {}),
        });
      }
      case 'POST': {
        if (target.subresource === 'eviction') return reply.code(201).send(objects.evict(target, body(), { dryRun: dryRunOf(query.dryRun, 'CreateOptions') }));
        if (target.name !== undefined) throw ApiError.of('MethodNotAllowed', 'POST is not supported on a named object');
        if (target.def.namespaced && target.namespace === undefined) throw ApiError.of('MethodNotAllowed', 'POST needs a namespace in the path');
        const dryRun = dryRunOf(query.dryRun, 'CreateOptions');
        return reply.code(201).send(objects.create(target, body(), { dryRun }));
      }
      case 'PUT': {
        if (target.name === undefined) throw ApiError.of('MethodNotAllowed', 'PUT needs an object name in the path');
        const dryRun = dryRunOf(query.dryRun, 'UpdateOptions');
        return objects.update(target, body(), { dryRun });
      }
      case 'PATCH': {
        if (target.name === undefined) throw ApiError.of('MethodNotAllowed', 'PATCH needs an object name in the path');
        const type = patchTypeOf(request.headers['content-type']);
        const dryRun = dryRunOf(query.dryRun, 'PatchOptions');
        // patchTypeOf has refused every type but the four patch types.
        const result = objects.patch(target, type, parseBody(request.body as Buffer | undefined, request.headers['content-type']), { dryRun }) as { created: boolean; object: unknown };
        return reply.code(result.created ? 201 : 200).send(result.object);
      }
      case 'DELETE': {
        const given = objectBody(request);
        const options = given ? (parseBody(given.raw, given.type) as Record<string, unknown>) : {};
        const grace = integer(query.gracePeriodSeconds, 'gracePeriodSeconds') ?? (typeof options.gracePeriodSeconds === 'number' ? options.gracePeriodSeconds : undefined);
        const policy = query.propagationPolicy ?? (typeof options.propagationPolicy === 'string' ? options.propagationPolicy : undefined);
        const preconditions = (typeof options.preconditions === 'object' && options.preconditions !== null ? options.preconditions : {}) as { uid?: string; resourceVersion?: string };
        // kubectl delete --dry-run=server sends it in the DeleteOptions body.
        const dryRun = dryRunOf(options.dryRun ?? query.dryRun, 'DeleteOptions');
        if (target.name === undefined) return objects.deleteCollection(target, { ...selectors, dryRun });
        return objects.delete(target, { ...(grace !== undefined ? { gracePeriodSeconds: grace } : {}), ...(policy ? { propagationPolicy: policy } : {}), preconditions, dryRun });
      }
      default:
        throw ApiError.of('MethodNotAllowed', `${request.method} is not supported`);
    }
  };

  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  // A write's cascade (a scale to 10,000 members) is applied in slices so DNS
  // keeps answering; the reply waits for the end, so DNS shows the change when
  // the command returns.
  const settled = (run: () => Promise<unknown>): Promise<unknown> => options.store.yielding(run);
  // Handlers send some replies themselves (201 Created), so the wait is a hook
  // every write's reply passes through on its way out.
  app.addHook('onSend', async (request) => {
    if (request.method !== 'GET') await (options.settled ? options.settled() : options.store.settled());
  });
  app.route({ method: [...methods], url: '/api/*', handler: (request, reply) => settled(() => handle(request, reply, '', (request.params as { '*': string })['*'])) });
  app.route({
    method: [...methods],
    url: '/apis/:group/*',
    handler: (request, reply) => settled(() => handle(request, reply, (request.params as { group: string }).group, (request.params as { '*': string })['*'])),
  });

  // Watches end with their final chunk before the server drops connections.
  app.addHook('preClose', async () => watches.close());
  return { app, watches };
}
