// Label and field selectors in the API's query syntax.

import type { KubeObject } from '../model/types.js';
import { ApiError } from './status.js';

type Requirement = (labels: Record<string, string>) => boolean;

/** Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`. */
export function parseLabelSelector(text: string | undefined): (object: KubeObject) => boolean {
  if (!text) return () => true;
  const requirements: Requirement[] = [];
  const parts = text.match(/([^,(]+(\([^)]*\))?)/g) ?? [];
  for (const raw of parts) {
    const part = raw.trim();
    if (!part) continue;
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part))) {
      const [, key = '', op, list = ''] = m;
      const values = list.split(',').map((v) => v.trim()).filter(Boolean);
      requirements.push(op === 'in' ? (l) => Object.hasOwn(l, key) && values.includes(l[key]!) : (l) => !Object.hasOwn(l, key) || !values.includes(l[key]!));
    } else if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)$/.exec(part))) {
      const [, key = '', op, value = ''] = m;
      requirements.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((m = /^!([\w./-]+)$/.exec(part))) {
      const key = m[1]!;
      requirements.push((l) => !Object.hasOwn(l, key));
    } else if ((m = /^([\w./-]+)$/.exec(part))) {
      const key = m[1]!;
      requirements.push((l) => Object.hasOwn(l, key));
    } else {
      throw ApiError.of('BadRequest', `unable to parse requirement: ${JSON.stringify(part)}`);
    }
  }
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((r) => r(labels));
  };
}

const FIELDS: Record<string, (object: KubeObject) => string | undefined> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace,
  'status.phase': (o) => (o.kind === 'Pod' ? o.status?.phase : undefined),
  'spec.nodeName': (o) => (o.kind === 'Pod' && typeof o.spec.nodeName === 'string' ? o.spec.nodeName : undefined),
};

/** Parses `metadata.name=x,metadata.namespace!=y`. */
export function parseFieldSelector(text: string | undefined): (object: KubeObject) => boolean {
  if (!text) return () => true;
  const tests = text.split(',').filter(Boolean).map((part) => {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(part.trim());
    const getter = m ? FIELDS[m[1]!] : undefined;
    if (!m || !getter) throw ApiError.of('BadRequest', `"${part}" is not a known field selector: only "metadata.name", "metadata.namespace", "status.phase", "spec.nodeName"`);
    const value = m[3] ?? '';
    return m[2] === '!=' ? (o: KubeObject) => (getter(o) ?? '') !== value : (o: KubeObject) => (getter(o) ?? '') === value;
  });
  return (object) => tests.every((t) => t(object));
}
