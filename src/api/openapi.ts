// The OpenAPI documents kubectl downloads: the v3 index (/openapi/v3), one v3
// document per served group-version, and an empty v2 document.
//
// The v3 documents are Kubernetes v1.32's own (Apache-2.0, see
// openapi/NOTICE), trimmed by scripts/trim-openapi.mjs to the paths we serve
// (every kind in resources.ts, with its status, scale, pods/eviction and
// pods/log subresources) and the schemas reachable from them. kubectl uses
// them three ways:
//  - `apply`/`create` look for a PATCH operation of the kind that takes the
//    `fieldValidation` query parameter; finding it, they leave validation to
//    the server (fieldValidation=Strict, see fieldvalidation.ts).
//  - `apply` computes its strategic merge patch from the schemas' patch keys.
//  - `explain` renders the schemas.
// They are large, so nothing is read at import time: each file is read (and
// hashed, for the ETag and the index's ?hash=) on its first request.
//
// The v2 document is empty on purpose. For a kind we do not serve (Deployment,
// ConfigMap) kubectl finds no PATCH operation in v3, falls back to OpenAPI v2
// and, without one, fails the file with "failed to download openapi" before
// mapping it. With an empty v2 it finds no schema, skips client-side
// validation, and reports the kind as Kubernetes does for a kind that is not
// installed ("no matches for kind ... ensure CRDs are installed first").

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, toStatus } from './status.js';
import { packageFile } from '../package-root.js';

const VERSION = 'v1.32.0';

// A Map, not an object literal: a path is looked up as given, and "constructor"
// or "__proto__" must not find Object.prototype's members.
const FILES = new Map<string, string>([
  ['api/v1', 'api__v1.json'],
  ['apis/apps/v1', 'apis__apps__v1.json'],
  ['apis/coordination.k8s.io/v1', 'apis__coordination.k8s.io__v1.json'],
  ['apis/discovery.k8s.io/v1', 'apis__discovery.k8s.io__v1.json'],
  ['apis/events.k8s.io/v1', 'apis__events.k8s.io__v1.json'],
]);

export interface OpenApiDocument {
  /** The document as served (JSON). */
  readonly body: Buffer;
  /** Upper-case hex SHA-512 of the body, as the API server's kube-openapi names a document version. */
  readonly hash: string;
}

const loaded = new Map<string, OpenApiDocument>();

/** Reads `src/api/openapi/<file>`, shipped with the package, whichever build runs. */
function readDocument(file: string): Buffer {
  return readFileSync(packageFile(`src/api/openapi/${file}`));
}

function document(body: Buffer): OpenApiDocument {
  return { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

/** The v3 document of a group-version path ("apis/apps/v1"), or undefined if it is not served. */
export function openApiV3Document(path: string): OpenApiDocument | undefined {
  const file = FILES.get(path);
  if (file === undefined) return undefined;
  let doc = loaded.get(path);
  if (!doc) {
    doc = document(readDocument(file));
    loaded.set(path, doc);
  }
  return doc;
}

let index: OpenApiDocument | undefined;

/** /openapi/v3: every group-version with the URL of its current version. */
export function openApiV3Index(): OpenApiDocument {
  if (!index) {
    const paths = Object.fromEntries([...FILES.keys()].map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=${openApiV3Document(gv)!.hash}` }]));
    index = document(Buffer.from(JSON.stringify({ paths })));
  }
  return index;
}

/**
 * An openapi_v2.Document (gnostic) in protobuf with only `swagger` (field 1),
 * `info` (field 2: title, version) and empty `paths` (field 8): what kubectl's
 * discovery client asks /openapi/v2 for.
 */
function emptyV2Protobuf(): Buffer {
  const field = (tag: number, bytes: Buffer): Buffer => Buffer.concat([Buffer.from([(tag << 3) | 2, bytes.length]), bytes]);
  const text = (s: string): Buffer => Buffer.from(s, 'utf8');
  return Buffer.concat([field(1, text('2.0')), field(2, Buffer.concat([field(1, text('Kubernetes')), field(2, text(VERSION))])), field(8, Buffer.alloc(0))]);
}

const V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const V2_PROTOBUF_TYPES = [V2_PROTOBUF, 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'];

function acceptedTypes(request: FastifyRequest): string[] {
  const accept = request.headers.accept;
  if (!accept) return ['*/*'];
  return accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
}

function acceptsJson(request: FastifyRequest): boolean {
  return acceptedTypes(request).some((type) => type === 'application/json' || type === 'application/*' || type === '*/*');
}

function notAcceptable(reply: FastifyReply): FastifyReply {
  const status = toStatus(ApiError.of('NotAcceptable', 'only the following media types are accepted: application/json'));
  return reply.code(406).type('application/json').send(status);
}

/** Sends a document with its ETag, and 304 when the client holds it already. */
function sendDocument(request: FastifyRequest, reply: FastifyReply, doc: OpenApiDocument, type = 'application/json'): FastifyReply {
  const etag = `"${doc.hash}"`;
  void reply.header('ETag', etag);
  const given = request.headers['if-none-match'];
  if (given !== undefined && given.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) return reply.code(304).send();
  return reply.type(type).send(doc.body);
}

/** The /openapi routes, registered on the API app. */
export function registerOpenApiRoutes(app: FastifyInstance): void {
  app.get('/openapi/v2', async (request, reply) => {
    // Protobuf is all kubectl asks for; JSON for anyone else, empty as well.
    if (acceptedTypes(request).some((type) => V2_PROTOBUF_TYPES.includes(type))) {
      return sendDocument(request, reply, v2Protobuf(), V2_PROTOBUF);
    }
    if (!acceptsJson(request)) return notAcceptable(reply);
    return sendDocument(request, reply, v2Json());
  });

  app.get('/openapi/v3', async (request, reply) => {
    if (!acceptsJson(request)) return notAcceptable(reply);
    return sendDocument(request, reply, openApiV3Index());
  });

  app.get('/openapi/v3/*', async (request, reply) => {
    const path = (request.params as { '*': string })['*'];
    const doc = openApiV3Document(path);
    if (!doc) throw ApiError.of('NotFound', 'the server could not find the requested resource');
    if (!acceptsJson(request)) return notAcceptable(reply);
    const hash = (request.query as Record<string, string | undefined>).hash;
    if (hash !== undefined && hash !== '') {
      // As kube-openapi's handler3: an old hash is sent to the current one; the
      // current one may be cached for good, as its URL changes with the content.
      if (hash !== doc.hash) return reply.redirect(`/openapi/v3/${path}?hash=${doc.hash}`, 301);
      void reply.header('Vary', 'Accept').header('Cache-Control', 'public, immutable').header('Expires', new Date(Date.now() + 365 * 86_400_000).toUTCString());
    }
    return sendDocument(request, reply, doc);
  });
}

let v2: { protobuf: OpenApiDocument; json: OpenApiDocument } | undefined;

function v2Documents(): { protobuf: OpenApiDocument; json: OpenApiDocument } {
  v2 ??= {
    protobuf: document(emptyV2Protobuf()),
    json: document(Buffer.from(JSON.stringify({ swagger: '2.0', info: { title: 'Kubernetes', version: VERSION }, paths: {} }))),
  };
  return v2;
}

const v2Protobuf = (): OpenApiDocument => v2Documents().protobuf;
const v2Json = (): OpenApiDocument => v2Documents().json;

/** The parsed v3 document of a group-version, for field validation; parsed once, on first use. */
const parsed = new Map<string, unknown>();
export function openApiV3Schemas(path: string): Record<string, unknown> | undefined {
  if (!parsed.has(path)) {
    const doc = openApiV3Document(path);
    if (!doc) return undefined;
    parsed.set(path, (JSON.parse(doc.body.toString('utf8')) as { components: { schemas: Record<string, unknown> } }).components.schemas);
  }
  return parsed.get(path) as Record<string, unknown>;
}
