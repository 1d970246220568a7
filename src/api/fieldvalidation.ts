// Server-side field validation (the `fieldValidation` query parameter), as the
// API server's strict decoding does it: a field the kind's schema does not
// declare is an "unknown field". Strict refuses the request, Warn (the default
// when the parameter is absent) answers with a Warning header per field,
// Ignore says nothing. kubectl relies on this: our OpenAPI documents declare
// the parameter, so kubectl sends fieldValidation=Strict and validates nothing
// itself.
//
// The schemas are the OpenAPI v3 ones we serve (openapi.ts), read on the first
// write that carries a body.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mediaType, parseBody, patchTypeOf } from './body.js';
import { openApiV3Schemas } from './openapi.js';
import { type ResourceDef, findResource } from './resources.js';
import { ApiError } from './status.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

const DIRECTIVES: readonly string[] = ['Ignore', 'Warn', 'Strict'];

/** The directive of a request; the API server's default is Warn. */
export function fieldValidationOf(value: string | undefined, operation: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): FieldValidation {
  if (value === undefined || value === '') return 'Warn';
  if (!DIRECTIVES.includes(value)) {
    throw new ApiError(422, 'Invalid', `${operation}.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: ${JSON.stringify(value)}: supported values: "Ignore", "Strict", "Warn"`);
  }
  return value as FieldValidation;
}

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
};

const API_GROUP_PATH = { '': 'api/v1', apps: 'apis/apps/v1', 'discovery.k8s.io': 'apis/discovery.k8s.io/v1', 'coordination.k8s.io': 'apis/coordination.k8s.io/v1', 'events.k8s.io': 'apis/events.k8s.io/v1' } as const;
const PACKAGE = { '': 'core', apps: 'apps', 'discovery.k8s.io': 'discovery', 'coordination.k8s.io': 'coordination', 'events.k8s.io': 'events' } as const;

/** The schemas and root schema name of what a request body is: the kind, autoscaling/v1 Scale for /scale, policy/v1 Eviction for /eviction. */
function rootOf(def: ResourceDef, subresource: string | undefined): { schemas: Record<string, unknown>; root: string; kind: string } | undefined {
  const schemas = openApiV3Schemas(API_GROUP_PATH[def.group]);
  if (!schemas) return undefined;
  if (subresource === 'scale') return { schemas, root: 'io.k8s.api.autoscaling.v1.Scale', kind: 'Scale' };
  // pods/{name}/eviction takes a policy/v1 Eviction; api/v1's document holds its schema.
  if (subresource === 'eviction') return { schemas, root: 'io.k8s.api.policy.v1.Eviction', kind: 'Eviction' };
  return { schemas, root: `io.k8s.api.${PACKAGE[def.group]}.${def.version}.${def.kind}`, kind: def.kind };
}

function resolve(schemas: Record<string, unknown>, schema: Schema): Schema {
  // Kubernetes wraps a described reference as { allOf: [{ $ref }] }.
  for (let i = 0; i < 8; i++) {
    if (schema.$ref) schema = (schemas[schema.$ref.replace('#/components/schemas/', '')] ?? {}) as Schema;
    else if (schema.allOf?.length === 1 && !schema.properties) schema = schema.allOf[0]!;
    else break;
  }
  return schema;
}

/**
 * Paths of the fields in `value` its schema does not declare, written as the
 * API server writes them (`spec.template.spec.containers[0].foo`). Keys
 * starting with `$` are strategic-merge-patch directives when `patch` is set.
 */
export function unknownFields(schemas: Record<string, unknown>, root: string, value: unknown, patch = false): string[] {
  const found: string[] = [];
  const walk = (schema: Schema, node: unknown, path: string, depth: number): void => {
    if (depth > 100 || node === null || typeof node !== 'object') return;
    schema = resolve(schemas, schema);
    if (schema['x-kubernetes-preserve-unknown-fields']) return;
    if (Array.isArray(node)) {
      if (schema.items) node.forEach((item, i) => walk(schema.items!, item, `${path}[${i}]`, depth + 1));
      return;
    }
    const at = (key: string): string => (path ? `${path}.${key}` : key);
    if (schema.properties) {
      for (const [key, child] of Object.entries(node)) {
        if (patch && key.startsWith('$')) continue;
        const property = Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
        if (property) walk(property, child, at(key), depth + 1);
        else found.push(at(key));
      }
    } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      for (const [key, child] of Object.entries(node)) walk(schema.additionalProperties, child, at(key), depth + 1);
    }
  };
  walk({ $ref: root }, value, '', 0);
  return found;
}

function strictError(fields: string[]): string {
  return `strict decoding error: ${fields.map((field) => `unknown field ${JSON.stringify(field)}`).join(', ')}`;
}

/**
 * Checks a create, update or patch body against the kind's schema: throws the
 * API server's error under Strict, adds its warnings under Warn. JSON patches
 * are not objects of the kind and are not checked.
 */
export function validateFields(
  reply: FastifyReply,
  request: { def: ResourceDef; subresource?: string; directive: FieldValidation; operation: 'create' | 'update' | 'patch'; patchType?: string },
  body: unknown,
): void {
  if (request.directive === 'Ignore' || request.patchType === 'json') return;
  const root = rootOf(request.def, request.subresource);
  if (!root) return;
  // A body of another kind is refused by the write itself, with its own message.
  const kind = (body as { kind?: unknown } | null)?.kind;
  if (request.patchType === undefined || request.patchType === 'apply') {
    if (kind !== undefined && kind !== root.kind) return;
  }
  const isPatch = request.operation === 'patch' && request.patchType !== 'apply';
  const fields = unknownFields(root.schemas, root.root, body, isPatch);
  if (fields.length === 0) return;
  if (request.directive === 'Strict') {
    if (isPatch) {
      // As the API server's patch handler words it (an Invalid with no kind).
      throw new ApiError(422, 'Invalid', ` "" is invalid: patch: Invalid value: ${JSON.stringify(JSON.stringify(body))}: ${strictError(fields)}`);
    }
    throw ApiError.of('BadRequest', `${root.kind} in version ${JSON.stringify(request.def.version)} cannot be handled as a ${root.kind}: ${strictError(fields)}`);
  }
  void reply.header('Warning', fields.map((field) => `299 - ${JSON.stringify(`unknown field ${JSON.stringify(field)}`)}`));
}

/** What a write's URL names: the resource and subresource, as app.ts's router reads it. */
function writeTarget(group: string, path: string): { def: ResourceDef; subresource?: string } | undefined {
  const [version = '', ...rest] = path.split('/').filter(Boolean);
  const parts = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  const [plural = '', name, subresource] = parts;
  const def = findResource(group, version, plural);
  if (!def || name === undefined) return def && { def };
  return { def, ...(subresource !== undefined ? { subresource } : {}) };
}

/**
 * Checks the body of every create, update and patch before its handler runs.
 * A request this cannot read (no such resource, a body that does not parse, a
 * bad media type) is left alone: the handler answers it as before.
 */
export function registerFieldValidation(app: FastifyInstance): void {
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    if (reply.sent || !['POST', 'PUT', 'PATCH'].includes(request.method)) return;
    const url = request.routeOptions.url;
    if (url !== '/api/*' && url !== '/apis/:group/*') return;
    const params = request.params as { group?: string; '*': string };
    const target = writeTarget(params.group ?? '', params['*']);
    if (!target || (target.subresource !== undefined && !(target.def.subresources as string[]).includes(target.subresource))) return;
    const raw = request.body as Buffer | undefined;
    if (!raw || raw.length === 0) return;
    const query = (request.query ?? {}) as Record<string, string | undefined>;
    const operation = request.method === 'POST' ? 'create' : request.method === 'PUT' ? 'update' : 'patch';
    const directive = fieldValidationOf(query.fieldValidation, operation === 'create' ? 'CreateOptions' : operation === 'update' ? 'UpdateOptions' : 'PatchOptions');
    let patchType: string | undefined;
    let body: unknown;
    try {
      const type = request.headers['content-type'];
      if (operation === 'patch') patchType = patchTypeOf(type);
      body = parseBody(raw, type === undefined ? 'application/json' : operation === 'patch' ? type : mediaType(type));
    } catch {
      return;
    }
    validateFields(reply, { ...target, directive, operation, ...(patchType !== undefined ? { patchType } : {}) }, body);
  });
}
