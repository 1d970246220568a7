// Every error headless-dns reports, in one place. The CLI prints `CODE: message`;
// the API (later) turns the same codes into Kubernetes `Status` objects, which is
// why each code carries the HTTP status and the Kubernetes `reason` it maps to.
// A test keeps this table, the README's table and the exported types in sync.

export const ERROR_CODES = {
  INVALID_OPTION: { status: 400, reason: 'BadRequest', summary: 'a command-line or startCluster option is invalid' },
  MANIFEST_NOT_FOUND: { status: 404, reason: 'NotFound', summary: 'a manifest path or URL given with -f does not exist' },
  MANIFEST_UNREADABLE: { status: 400, reason: 'BadRequest', summary: 'a manifest cannot be read (a URL failed) or is not valid YAML or JSON' },
  MANIFEST_EMPTY: { status: 400, reason: 'BadRequest', summary: 'a file, directory, stdin or URL given with -f holds no objects' },
  INVALID_OBJECT: { status: 422, reason: 'Invalid', summary: 'an object fails validation; the message names each bad field' },
  NAMESPACE_NOT_FOUND: { status: 404, reason: 'NotFound', summary: 'an object names a namespace that does not exist' },
  NOT_FOUND: { status: 404, reason: 'NotFound', summary: 'the object does not exist' },
  ALREADY_EXISTS: { status: 409, reason: 'AlreadyExists', summary: 'an object with that kind, namespace and name exists' },
  CONFLICT: { status: 409, reason: 'Conflict', summary: 'the update names a stale resourceVersion' },
  IP_EXHAUSTED: { status: 500, reason: 'InternalError', summary: 'no free address is left in the service or pod range' },
  LISTEN_FAILED: { status: 500, reason: 'InternalError', summary: 'a server could not bind its address and port' },
  STATE_UNREADABLE: { status: 500, reason: 'InternalError', summary: 'the --state file is corrupt or cannot be read' },
} as const satisfies Record<string, { status: number; reason: string; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One invalid field, shaped like a Kubernetes `StatusCause`. */
export interface FieldCause {
  /** Kubernetes cause reason: FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, FieldValueDuplicate, FieldValueForbidden. */
  reason: string;
  /** Path of the field, e.g. `spec.ports[0].port`. */
  field: string;
  message: string;
}

export class HeadlessDnsError extends Error {
  readonly code: ErrorCode;
  readonly causes: readonly FieldCause[];

  constructor(code: ErrorCode, message: string, causes: readonly FieldCause[] = []) {
    super(message);
    this.name = 'HeadlessDnsError';
    this.code = code;
    this.causes = causes;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  get reason(): string {
    return ERROR_CODES[this.code].reason;
  }

  override toString(): string {
    return `${this.code}: ${this.message}`;
  }
}

export function isHeadlessDnsError(value: unknown): value is HeadlessDnsError {
  return value instanceof HeadlessDnsError;
}
