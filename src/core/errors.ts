import { Status, type StatusCode, statusName } from './status.js';

/**
 * Every error we mean to show a caller. The status travels to the client as the gRPC status;
 * the message must be safe to show (never a secret) and say what to fix.
 */
export class FlightgateError extends Error {
  readonly status: StatusCode;
  /** The status by name (`PERMISSION_DENIED`): an own property, so logs and inspection show it beside the number. */
  readonly statusName: string;
  constructor(status: StatusCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlightgateError';
    this.status = status;
    this.statusName = statusName(status);
  }
}

export const invalidArgument = (message: string, cause?: unknown): FlightgateError =>
  new FlightgateError(Status.INVALID_ARGUMENT, message, { cause });
export const notFound = (message: string): FlightgateError => new FlightgateError(Status.NOT_FOUND, message);
export const alreadyExists = (message: string): FlightgateError => new FlightgateError(Status.ALREADY_EXISTS, message);
export const unimplemented = (message: string): FlightgateError => new FlightgateError(Status.UNIMPLEMENTED, message);
export const failedPrecondition = (message: string): FlightgateError =>
  new FlightgateError(Status.FAILED_PRECONDITION, message);
export const resourceExhausted = (message: string): FlightgateError =>
  new FlightgateError(Status.RESOURCE_EXHAUSTED, message);
export const internal = (message: string, cause?: unknown): FlightgateError =>
  new FlightgateError(Status.INTERNAL, message, { cause });

/** Maps anything thrown to a FlightgateError; unknown errors become INTERNAL with a generic message. */
export function toFlightgateError(err: unknown): FlightgateError {
  if (err instanceof FlightgateError) return err;
  return internal('internal error', err);
}
export const unauthenticated = (message: string): FlightgateError => new FlightgateError(Status.UNAUTHENTICATED, message);
export const permissionDenied = (message: string): FlightgateError => new FlightgateError(Status.PERMISSION_DENIED, message);
/** A backing service (registry, session store) cannot be reached: fail closed, never allow. */
export const unavailable = (message: string, cause?: unknown): FlightgateError =>
  new FlightgateError(Status.UNAVAILABLE, message, { cause });
