// OpenAPI v3 documents, as small as kubectl accepts. kubectl (cli-runtime's
// query-param verifier) looks for a PATCH operation tagged with the kind's
// x-kubernetes-group-version-kind that takes the `fieldValidation` query
// parameter; finding it, it leaves validation to the server (fieldValidation=
// Strict) instead of downloading schemas. Without it, kubectl falls back to
// OpenAPI v2 in protobuf, which is not served.

import { RESOURCES, type ResourceDef } from './resources.js';

const INFO = { title: 'Kubernetes', version: 'v1.32.0' };

// A Map, not an object literal: a path is looked up as given, and "constructor"
// or "__proto__" must not find Object.prototype's members.
const GROUP_VERSIONS = new Map<string, ResourceDef['group']>([
  ['api/v1', ''],
  ['apis/apps/v1', 'apps'],
  ['apis/discovery.k8s.io/v1', 'discovery.k8s.io'],
  ['apis/coordination.k8s.io/v1', 'coordination.k8s.io'],
]);

const QUERY_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'].map((name) => ({
  name,
  in: 'query',
  schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
}));

function operation(def: ResourceDef, action: string): unknown {
  return {
    operationId: `${action}${def.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: def.group, version: def.version, kind: def.kind },
    parameters: QUERY_PARAMETERS,
    responses: { '200': { description: 'OK' } },
  };
}

function pathsOf(prefix: string, group: ResourceDef['group']): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const def of RESOURCES.filter((r) => r.group === group)) {
    const collection = def.namespaced ? `/${prefix}/namespaces/{namespace}/${def.plural}` : `/${prefix}/${def.plural}`;
    paths[collection] = { post: operation(def, 'post') };
    paths[`${collection}/{name}`] = { put: operation(def, 'put'), patch: operation(def, 'patch') };
  }
  return paths;
}

export function openApiV3Index(): unknown {
  return { paths: Object.fromEntries([...GROUP_VERSIONS.keys()].map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=headless-dns-1` }])) };
}

export function openApiV3Document(path: string): unknown {
  const group = GROUP_VERSIONS.get(path);
  if (group === undefined) return undefined;
  const paths = pathsOf(path, group);
  return { openapi: '3.0.0', info: INFO, paths, components: { schemas: {} } };
}
