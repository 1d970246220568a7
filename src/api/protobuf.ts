// kubectl's typed-client commands (`kubectl create namespace`) send protobuf.
// This reads the one such body worth supporting, a Namespace: the `k8s\0`
// envelope (runtime.Unknown) around a v1.Namespace, of which only ObjectMeta's
// name, labels and annotations matter. Anything else is refused with 415.

import { ApiError } from './status.js';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

interface Field {
  number: number;
  wire: number;
  value: bigint | Buffer;
}

function* fields(data: Buffer): Generator<Field> {
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (offset >= data.length) throw new Error('truncated varint');
      const byte = data[offset++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
    }
    throw new Error('varint too long');
  };
  while (offset < data.length) {
    const key = Number(varint());
    const number = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { number, wire, value: varint() };
    else if (wire === 2) {
      const length = Number(varint());
      if (offset + length > data.length) throw new Error('truncated field');
      yield { number, wire, value: data.subarray(offset, offset + length) };
      offset += length;
    } else if (wire === 1) offset += 8;
    else if (wire === 5) offset += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

function bytesOf(data: Buffer, number: number): Buffer | undefined {
  for (const field of fields(data)) if (field.number === number && field.wire === 2) return field.value as Buffer;
  return undefined;
}

function stringMap(data: Buffer, number: number): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  let any = false;
  for (const field of fields(data)) {
    if (field.number !== number || field.wire !== 2) continue;
    const entry = field.value as Buffer;
    // Defined, not assigned: `out["__proto__"] = "x"` is silently dropped (it
    // would set the prototype), which would hide the key from parseBody's
    // forbidden-key check; as an own property the check sees it and refuses it.
    Object.defineProperty(out, bytesOf(entry, 1)?.toString('utf8') ?? '', {
      value: bytesOf(entry, 2)?.toString('utf8') ?? '',
      enumerable: true,
      writable: true,
      configurable: true,
    });
    any = true;
  }
  return any ? out : undefined;
}

/** Decodes a protobuf Namespace into its JSON shape; throws a 415 ApiError for anything else. */
export function decodeProtobufBody(raw: Buffer): unknown {
  const refuse = (why: string): never => {
    throw new ApiError(415, 'UnsupportedMediaType', `protobuf bodies are read for Namespaces only (${why}); send JSON or YAML, e.g. kubectl apply -f`);
  };
  if (!raw.subarray(0, 4).equals(MAGIC)) refuse('no k8s envelope');
  try {
    const unknown = raw.subarray(4);
    const typeMeta = bytesOf(unknown, 1);
    const apiVersion = typeMeta ? bytesOf(typeMeta, 1)?.toString('utf8') : undefined;
    const kind = typeMeta ? bytesOf(typeMeta, 2)?.toString('utf8') : undefined;
    if (apiVersion !== 'v1' || kind !== 'Namespace') refuse(`got ${apiVersion ?? '?'} ${kind ?? '?'}`);
    const object = bytesOf(unknown, 2) ?? Buffer.alloc(0);
    const meta = bytesOf(object, 1) ?? Buffer.alloc(0);
    const name = bytesOf(meta, 1)?.toString('utf8');
    const generateName = bytesOf(meta, 2)?.toString('utf8');
    const labels = stringMap(meta, 11);
    const annotations = stringMap(meta, 12);
    return {
      apiVersion,
      kind,
      metadata: {
        ...(name ? { name } : {}),
        ...(generateName ? { generateName } : {}),
        ...(labels ? { labels } : {}),
        ...(annotations ? { annotations } : {}),
      },
    };
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw ApiError.of('BadRequest', `the protobuf body does not decode: ${(error as Error).message}`);
  }
}
