// Label and field selectors, parsed the way the Kubernetes API server parses
// them, so that a selector a real cluster rejects is rejected here too (with the
// same message), and one it accepts selects the same objects.
//
// Labels: a port of k8s.io/apimachinery/pkg/labels/selector.go (Lexer, Parser,
// NewRequirement, Requirement.Matches) as of v0.32, the version /version
// reports, with the label key and value checks of pkg/util/validation. Two
// later changes are deliberately not taken: v0.35 says "a valid label key" and
// "bytes" where v0.32 says "a qualified name" and "characters", and accepts
// `x in (a,,)` that v0.32 rejects (apimachinery 65de33d3).
//
// Fields: a port of k8s.io/apimachinery/pkg/fields/selector.go (splitTerms,
// splitTerm, UnescapeValue), then the per-kind field label conversion the API
// server runs, which rejects unknown fields with "field label not supported".
//
// Both parsers run once per request and return a matcher that does no parsing,
// and they throw before anything is read or changed, so a bad selector never
// lists, watches or deletes anything.

import { Buffer } from 'node:buffer';
import type { KubeObject } from '../model/types.js';
import { ApiError } from './status.js';

/** Matches one object; built once per request. */
export type ObjectMatcher = (object: KubeObject) => boolean;

const everything: ObjectMatcher = () => true;

// ---------------------------------------------------------------------------
// Label selectors: the lexer

/** Tokens of the label selector lexer; the literal text for operators, as in `string2token`. */
type Token = 'end' | 'identifier' | ')' | ',' | '!' | '==' | '=' | '>' | 'in' | '<' | '!=' | 'notin' | '(';

interface ScannedItem {
  token: Token;
  literal: string;
}

const KEYWORDS: ReadonlyMap<string, Token> = new Map<string, Token>([
  [')', ')'],
  [',', ','],
  ['!', '!'],
  ['==', '=='],
  ['=', '='],
  ['>', '>'],
  ['in', 'in'],
  ['<', '<'],
  ['!=', '!='],
  ['notin', 'notin'],
  ['(', '('],
]);

const isWhitespace = (ch: string): boolean => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecialSymbol = (ch: string): boolean => ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';

/**
 * Splits the selector into tokens. Like Go's lexer, reading past the end and
 * reading a NUL both give "no character": a NUL where a token starts ends the
 * selector, and one inside a token ends that token. That is what the API server
 * does with `%00`, so it is kept.
 */
function lex(text: string): ScannedItem[] {
  let pos = 0;
  const read = (): string => {
    if (pos >= text.length) return '';
    const ch = text[pos++]!;
    return ch === '\0' ? '' : ch;
  };
  const unread = (): void => {
    pos--;
  };

  const scanIdOrKeyword = (): ScannedItem => {
    let buffer = '';
    for (;;) {
      const ch = read();
      if (ch === '') break;
      if (isSpecialSymbol(ch) || isWhitespace(ch)) {
        unread();
        break;
      }
      buffer += ch;
    }
    return { token: KEYWORDS.get(buffer) ?? 'identifier', literal: buffer };
  };

  // The longest run of symbols that is still an operator: "!=" rather than "!" then "=".
  // Every symbol alone is an operator, so Go's ErrorToken cannot occur here.
  const scanSpecialSymbol = (): ScannedItem => {
    let buffer = '';
    let last: ScannedItem | undefined;
    for (;;) {
      const ch = read();
      if (ch === '') break;
      if (!isSpecialSymbol(ch)) {
        unread();
        break;
      }
      buffer += ch;
      const token = KEYWORDS.get(buffer);
      if (token) last = { token, literal: buffer };
      else if (last) {
        unread();
        break;
      }
    }
    return last!;
  };

  const items: ScannedItem[] = [];
  for (;;) {
    let ch = read();
    while (isWhitespace(ch)) ch = read();
    let item: ScannedItem;
    if (ch === '') item = { token: 'end', literal: '' };
    else {
      unread();
      item = isSpecialSymbol(ch) ? scanSpecialSymbol() : scanIdOrKeyword();
    }
    items.push(item);
    if (item.token === 'end') return items;
  }
}

// ---------------------------------------------------------------------------
// Label selectors: validation (pkg/util/validation, v0.32)

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_ERR = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

const maxLenError = (length: number): string => `must be no more than ${length} characters`;
const emptyError = (): string => 'must be non-empty';
/** validation.RegexError, double spaces before "or" included. */
function regexError(message: string, fmt: string, ...examples: string[]): string {
  return `${message} (e.g. ${examples.map((e, i) => `${i > 0 ? ' or ' : ''}'${e}', `).join('')}regex used for validation is '${fmt}')`;
}

/** Go's len(): limits count UTF-8 bytes, not characters. */
const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');

/** validation.IsQualifiedName: an optional DNS-1123 subdomain prefix and '/', then a name of at most 63. */
function qualifiedNameErrors(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errors.push(`prefix part ${emptyError()}`);
    else {
      if (byteLength(prefix) > 253) errors.push(`prefix part ${maxLenError(253)}`);
      if (!DNS1123_SUBDOMAIN.test(prefix)) errors.push(`prefix part ${regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, 'example.com')}`);
    }
  } else {
    return [`a qualified name ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) errors.push(`name part ${emptyError()}`);
  else if (byteLength(name) > 63) errors.push(`name part ${maxLenError(63)}`);
  if (!QUALIFIED_NAME.test(name)) errors.push(`name part ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errors;
}

/** validation.IsValidLabelValue: at most 63, may be empty. */
function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > 63) errors.push(maxLenError(63));
  if (!LABEL_VALUE.test(value)) errors.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errors;
}

/** Go's %q (strconv.Quote), which field errors use for a bad string value. */
function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\x07') out += '\\a';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\v') out += '\\v';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    // Not printable in Go's tables: C1 controls, line/paragraph separators, BOM, lone surrogates.
    else if ((code >= 0x80 && code < 0xa0) || code === 0x2028 || code === 0x2029 || code === 0xfeff || (code >= 0xd800 && code < 0xe000)) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

/** field.Invalid(path, value, detail).Error() */
const invalid = (path: string, value: string, detail: string): string => `${path}: Invalid value: ${goQuote(value)}: ${detail}`;

/** utilerrors.NewAggregate(errs).Error(): one message alone, several deduplicated in brackets. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

// ---------------------------------------------------------------------------
// Label selectors: the parser

type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';
const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt';

interface Requirement {
  key: string;
  operator: Operator;
  /** Sorted and without duplicates, as Go's sets.String.List() gives them. */
  values: readonly string[];
  /** For gt and lt, the one value as an integer. */
  bound?: bigint;
}

/** A parse failure; its message is the whole of the Status message. */
class SelectorSyntaxError extends Error {}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(text, 10, 64): optional sign, ASCII digits, within int64. */
function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** labels.NewRequirement: the checks the parser leaves to it, errors in the same order. */
function newRequirement(key: string, operator: Operator, values: string[]): Requirement {
  const errors: string[] = [];
  const keyErrors = qualifiedNameErrors(key);
  if (keyErrors.length) errors.push(invalid('key', key, keyErrors.join('; ')));
  if (operator === 'gt' || operator === 'lt') {
    values.forEach((v, i) => {
      if (parseInt64(v) === undefined) errors.push(invalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
    });
  }
  values.forEach((v, i) => {
    const valueErrors = labelValueErrors(v);
    if (valueErrors.length) errors.push(invalid(`values[${i}][${key}]`, v, valueErrors.join('; ')));
  });
  if (errors.length) throw new SelectorSyntaxError(aggregate(errors));
  const bound = operator === 'gt' || operator === 'lt' ? parseInt64(values[0]!) : undefined;
  return { key, operator, values, ...(bound !== undefined ? { bound } : {}) };
}

const sortedSet = (values: Iterable<string>): string[] => [...new Set(values)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

function parseRequirements(text: string): Requirement[] {
  const items = lex(text);
  let position = 0;
  // In "values" context the keywords in and notin are ordinary identifiers: `in in (in)` is valid.
  const asValue = (item: ScannedItem): ScannedItem => (item.token === 'in' || item.token === 'notin' ? { token: 'identifier', literal: item.literal } : item);
  // Past the end there is only the end: an error is always thrown before reading further.
  const at = (index: number): ScannedItem => items[Math.min(index, items.length - 1)]!;
  const lookahead = (): ScannedItem => asValue(at(position));
  const consumeValue = (): ScannedItem => asValue(at(position++));
  const consumeOperator = (): ScannedItem => at(position++);

  const parseKeyAndInferOperator = (): { key: string; operator: Operator | undefined } => {
    let operator: Operator | undefined;
    let item = consumeValue();
    if (item.token === '!') {
      operator = '!';
      item = consumeValue();
    }
    if (item.token !== 'identifier') throw new SelectorSyntaxError(`found '${item.literal}', expected: identifier`);
    // The parser checks the key itself, with no field path: hence "<nil>".
    const keyErrors = qualifiedNameErrors(item.literal);
    if (keyErrors.length) throw new SelectorSyntaxError(invalid('<nil>', item.literal, keyErrors.join('; ')));
    const next = lookahead().token;
    if ((next === 'end' || next === ',') && operator !== '!') operator = 'exists';
    return { key: item.literal, operator };
  };

  const parseOperator = (): Operator => {
    const { token, literal } = consumeOperator();
    switch (token) {
      case 'in': return 'in';
      case 'notin': return 'notin';
      case '=': return '=';
      case '==': return '==';
      case '!=': return '!=';
      case '>': return 'gt';
      case '<': return 'lt';
      default: throw new SelectorSyntaxError(`found '${literal}', expected: ${BINARY_OPERATORS}`);
    }
  };

  // (x,y,z); an empty list or an empty place in it stands for the empty value.
  const parseValues = (): string[] => {
    const open = consumeValue();
    if (open.token !== '(') throw new SelectorSyntaxError(`found '${open.literal}' expected: '('`);
    const first = lookahead();
    if (first.token === ')') {
      consumeValue();
      return [''];
    }
    if (first.token !== 'identifier' && first.token !== ',') throw new SelectorSyntaxError(`found '${first.literal}', expected: ',', ')' or identifier`);
    const values = new Set<string>();
    for (;;) {
      const item = consumeValue();
      if (item.token === 'identifier') {
        values.add(item.literal);
        const next = lookahead();
        if (next.token === ',') continue;
        if (next.token === ')') break;
        throw new SelectorSyntaxError(`found '${next.literal}', expected: ',' or ')'`);
      } else if (item.token === ',') {
        if (values.size === 0) values.add('');
        const next = lookahead().token;
        if (next === ')') {
          values.add('');
          break;
        }
        if (next === ',') {
          // v0.32 consumes the second comma here, so `(a,,)` fails at the ')' (fixed in v0.35).
          consumeValue();
          values.add('');
        }
      } else {
        throw new SelectorSyntaxError(`found '${item.literal}', expected: ',', or identifier`);
      }
    }
    consumeValue(); // the ')' just seen
    return sortedSet(values);
  };

  const parseExactValue = (): string[] => {
    const next = lookahead().token;
    if (next === 'end' || next === ',') return [''];
    const item = consumeValue();
    if (item.token === 'identifier') return [item.literal];
    throw new SelectorSyntaxError(`found '${item.literal}', expected: identifier`);
  };

  const parseRequirement = (): Requirement => {
    const { key, operator: inferred } = parseKeyAndInferOperator();
    if (inferred === 'exists' || inferred === '!') return newRequirement(key, inferred, []);
    const operator = parseOperator();
    const values = operator === 'in' || operator === 'notin' ? parseValues() : parseExactValue();
    return newRequirement(key, operator, values);
  };

  const requirements: Requirement[] = [];
  for (;;) {
    const { token, literal } = lookahead();
    if (token === 'end') return requirements;
    if (token !== 'identifier' && token !== '!') throw new SelectorSyntaxError(`found '${literal}', expected: !, identifier, or 'end of string'`);
    try {
      requirements.push(parseRequirement());
    } catch (error) {
      if (error instanceof SelectorSyntaxError) throw new SelectorSyntaxError(`unable to parse requirement: ${error.message}`);
      throw error;
    }
    const after = consumeValue();
    if (after.token === 'end') return requirements;
    if (after.token !== ',') throw new SelectorSyntaxError(`found '${after.literal}', expected: ',' or 'end of string'`);
    const next = lookahead();
    if (next.token !== 'identifier' && next.token !== '!') throw new SelectorSyntaxError(`found '${next.literal}', expected: identifier after ','`);
  }
}

/** labels.Requirement.Matches */
function matchesRequirement(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(labels[r.key]!);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(labels[r.key]!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      // A label that is not an integer matches neither way.
      const value = has ? parseInt64(labels[r.key]!) : undefined;
      if (value === undefined) return false;
      return r.operator === 'gt' ? value > r.bound! : value < r.bound!;
    }
  }
}

/**
 * Parses a label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3`) as the
 * API server does. Throws a 400 BadRequest ApiError with apimachinery's message
 * for anything it rejects; an empty or blank selector matches everything.
 */
export function parseLabelSelector(text: string | undefined): ObjectMatcher {
  if (!text) return everything;
  let requirements: Requirement[];
  try {
    requirements = parseRequirements(text);
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw ApiError.of('BadRequest', error.message);
    throw error;
  }
  if (requirements.length === 0) return everything;
  return (object) => {
    const labels = object.metadata.labels ?? {};
    return requirements.every((r) => matchesRequirement(r, labels));
  };
}

// ---------------------------------------------------------------------------
// Field selectors

const FIELDS: Record<string, (object: KubeObject) => string | undefined> = {
  'metadata.name': (o) => o.metadata.name,
  'metadata.namespace': (o) => o.metadata.namespace,
  'status.phase': (o) => (o.kind === 'Pod' ? o.status?.phase : undefined),
  'spec.nodeName': (o) => (o.kind === 'Pod' && typeof o.spec.nodeName === 'string' ? o.spec.nodeName : undefined),
};

type FieldGetter = (object: KubeObject) => string | undefined;
const eventField =
  (read: (event: Extract<KubeObject, { kind: 'Event' }>) => unknown): FieldGetter =>
  (o) => (o.kind === 'Event' ? String(read(o) ?? '') : undefined);

/**
 * The fields Events are selected by (pkg/registry/core/event/strategy.go
 * ToSelectableFields); `kubectl describe` asks for involvedObject.name,
 * namespace, kind and uid. Only Events have them.
 */
const EVENT_FIELDS: Record<string, FieldGetter> = {
  'involvedObject.kind': eventField((e) => e.involvedObject.kind),
  'involvedObject.namespace': eventField((e) => e.involvedObject.namespace),
  'involvedObject.name': eventField((e) => e.involvedObject.name),
  'involvedObject.uid': eventField((e) => e.involvedObject.uid),
  'involvedObject.apiVersion': eventField((e) => e.involvedObject.apiVersion),
  'involvedObject.resourceVersion': eventField((e) => e.involvedObject.resourceVersion),
  'involvedObject.fieldPath': eventField((e) => e.involvedObject.fieldPath),
  reason: eventField((e) => e.reason),
  reportingComponent: eventField((e) => e.reportingComponent),
  // source.component, else reportingController (the events.k8s.io writers leave source empty).
  source: eventField((e) => e.source?.component || e.reportingComponent),
  type: eventField((e) => e.type),
};

/** The events.k8s.io/v1 names of the same fields (eventsv1.ts rewrites them before a request's kind is parsed). */
const EVENTS_V1_FIELDS = ['regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid', 'regarding.apiVersion', 'regarding.resourceVersion', 'regarding.fieldPath', 'reportingController'];

/** The field a selector names, for objects of `kind`; with no kind (a syntax pre-check), any kind's field. */
function fieldGetter(field: string, kind: KubeObject['kind'] | undefined): FieldGetter | undefined {
  if (Object.hasOwn(FIELDS, field)) return FIELDS[field]!;
  if ((kind === 'Event' || kind === undefined) && Object.hasOwn(EVENT_FIELDS, field)) return EVENT_FIELDS[field]!;
  if (kind === undefined && EVENTS_V1_FIELDS.includes(field)) return () => undefined;
  return undefined;
}

/** fields.splitTerms: split on commas not escaped by a backslash (the backslash stays). */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** fields.splitTerm: the first operator from the left; the field name has no escaping, and is not trimmed. */
function splitTerm(term: string): { field: string; op: '!=' | '==' | '='; value: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), op, value: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** fields.UnescapeValue: `\\`, `\,` and `\=` are the only escapes; a bare ',' or '=' is an error. */
function unescapeValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = '';
  let inSlash = false;
  for (const c of value) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=') throw new SelectorSyntaxError(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
    } else if (c === '\\') inSlash = true;
    // Go prints the rune with %v, i.e. its number.
    else if (c === ',' || c === '=') throw new SelectorSyntaxError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw new SelectorSyntaxError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/**
 * Parses a field selector (`metadata.name=x,status.phase!=Running`) as the API
 * server does: first the syntax of every term, then whether each field is one
 * this server can select on. Throws a 400 BadRequest ApiError otherwise.
 */
export function parseFieldSelector(text: string | undefined, kind?: KubeObject['kind']): ObjectMatcher {
  if (!text) return everything;
  // Go sorts the terms before parsing, so of several bad terms the first in byte order is reported.
  const terms = splitTerms(text).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const parsed: { field: string; op: '!=' | '==' | '='; value: string }[] = [];
  try {
    for (const term of terms) {
      if (term === '') continue;
      const split = splitTerm(term);
      if (!split) throw new SelectorSyntaxError(`invalid selector: '${text}'; can't understand '${term}'`);
      parsed.push({ ...split, value: unescapeValue(split.value) });
    }
  } catch (error) {
    if (error instanceof SelectorSyntaxError) throw ApiError.of('BadRequest', error.message);
    throw error;
  }
  const tests = parsed.map(({ field, op, value }) => {
    // The API server's field label conversion (e.g. the Pod one in pkg/apis/core/v1/conversion.go).
    const getter = fieldGetter(field, kind);
    if (!getter) throw ApiError.of('BadRequest', `field label not supported: ${field}`);
    return op === '!=' ? (o: KubeObject) => (getter(o) ?? '') !== value : (o: KubeObject) => (getter(o) ?? '') === value;
  });
  if (tests.length === 0) return everything;
  return (object) => tests.every((t) => t(object));
}
