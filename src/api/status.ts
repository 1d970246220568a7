// Kubernetes `Status` objects for every error the API answers.

import { ERROR_CODES, type ErrorCode, type FieldCause, HeadlessDnsError } from '../errors.js';

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  /** Empty, but for a list whose continue token expired: the token that goes on at the latest version. */
  metadata: { continue?: string };
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: FieldCause[]; retryAfterSeconds?: number };
  code: number;
}

/** Reasons the API answers that are not headless-dns error codes of their own. */
const EXTRA = {
  BadRequest: 400,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  UnsupportedMediaType: 415,
  Expired: 410,
  InternalError: 500,
} as const;

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: StatusBody['details'] = undefined,
    readonly listMeta: StatusBody['metadata'] = {},
  ) {
    super(message);
  }

  static of(reason: keyof typeof EXTRA, message: string, details?: StatusBody['details']): ApiError {
    return new ApiError(EXTRA[reason], reason, message, details);
  }
}

export interface Subject {
  kind?: string;
  group?: string;
  name?: string;
  /** Lower-case plural, as Kubernetes messages name resources ("pods"). */
  plural?: string;
}

export function toStatus(error: unknown, subject: Subject = {}): StatusBody {
  const details = (extra: StatusBody['details'] = {}): StatusBody['details'] => ({
    ...(subject.name ? { name: subject.name } : {}),
    ...(subject.group ? { group: subject.group } : {}),
    ...(subject.plural ? { kind: subject.plural } : {}),
    ...extra,
  });
  if (error instanceof ApiError) {
    return { kind: 'Status', apiVersion: 'v1', metadata: { ...error.listMeta }, status: 'Failure', message: error.message, reason: error.reason, details: error.details ?? details(), code: error.code };
  }
  if (error instanceof HeadlessDnsError) {
    const entry = ERROR_CODES[error.code as ErrorCode];
    const causes = error.causes.length ? { causes: [...error.causes] } : {};
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: error.message, reason: entry.reason, details: details(causes), code: entry.status };
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${(error as Error)?.message ?? String(error)}`,
    reason: 'InternalError',
    details: details(),
    code: 500,
  };
}
