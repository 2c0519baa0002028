/**
 * One error type with stable codes. Callers branch on `err.code`, never on the
 * message; the message says what is wrong and what to do about it.
 */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'INVALID_ARGUMENT'
  | 'CONFLICT'
  | 'FAILED_PRECONDITION'
  | 'UNSUPPORTED'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'DATA_LOSS'
  | 'CANCELLED'
  | 'DEADLINE_EXCEEDED'
  | 'INTERNAL';

export class SkiffError extends Error {
  override readonly name = 'SkiffError';
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isSkiffError(err: unknown, code?: ErrorCode): err is SkiffError {
  return err instanceof SkiffError && (code === undefined || err.code === code);
}

const make = (code: ErrorCode) => (message: string, cause?: unknown) =>
  new SkiffError(code, message, cause === undefined ? undefined : { cause });

export const notFound = make('NOT_FOUND');
export const alreadyExists = make('ALREADY_EXISTS');
export const invalidArgument = make('INVALID_ARGUMENT');
export const conflict = make('CONFLICT');
export const failedPrecondition = make('FAILED_PRECONDITION');
export const unsupported = make('UNSUPPORTED');
export const unavailable = make('UNAVAILABLE');
export const unauthenticated = make('UNAUTHENTICATED');
export const permissionDenied = make('PERMISSION_DENIED');
export const resourceExhausted = make('RESOURCE_EXHAUSTED');
export const dataLoss = make('DATA_LOSS');
export const cancelled = make('CANCELLED');
export const deadlineExceeded = make('DEADLINE_EXCEEDED');
export const internal = make('INTERNAL');

/** HTTP status for the daemon's Docker Engine API answers. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'NOT_FOUND': return 404;
    case 'ALREADY_EXISTS': case 'CONFLICT': return 409;
    case 'INVALID_ARGUMENT': return 400;
    case 'FAILED_PRECONDITION': return 409;
    case 'UNSUPPORTED': return 501;
    case 'UNAVAILABLE': return 503;
    case 'UNAUTHENTICATED': return 401;
    case 'PERMISSION_DENIED': return 403;
    case 'RESOURCE_EXHAUSTED': return 429;
    case 'CANCELLED': return 499;
    case 'DEADLINE_EXCEEDED': return 504;
    default: return 500;
  }
}

/**
 * The exit code docker's CLI gives when `run` could not start the container's
 * command: 127 when it is not found, 126 when it cannot be invoked (not
 * executable, a directory), 125 for any other failure. The CLI's other exit
 * codes, by verb, are in cli/exit-code.ts.
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof SkiffError) {
    if (err.code === 'NOT_FOUND') return 127;
    if (err.code === 'PERMISSION_DENIED') return 126;
  }
  return 125;
}

/** Wraps anything thrown into a SkiffError, keeping SkiffErrors as they are. */
export function toSkiffError(err: unknown, context?: string): SkiffError {
  if (err instanceof SkiffError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new SkiffError('INTERNAL', context ? `${context}: ${msg}` : msg, { cause: err });
}
