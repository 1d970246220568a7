// OpenAPI documents, as small as kubectl accepts. Refined from what kubectl asks for.

const INFO = { title: 'Kubernetes', version: 'v1.32.0' };

export function openApiV2(): unknown {
  return { swagger: '2.0', info: INFO, paths: {}, definitions: {} };
}

const GROUP_VERSIONS = ['api/v1', 'apis/apps/v1', 'apis/discovery.k8s.io/v1', 'apis/autoscaling/v1'];

export function openApiV3Index(): unknown {
  return { paths: Object.fromEntries(GROUP_VERSIONS.map((gv) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=headless-dns` }])) };
}

export function openApiV3Document(path: string): unknown {
  if (!GROUP_VERSIONS.includes(path)) return undefined;
  return { openapi: '3.0.0', info: INFO, paths: {}, components: { schemas: {} } };
}
