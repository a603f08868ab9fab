/** UNAUTHENTICATED with what the audit log should know: who claimed to call, and why they failed. */
import { FlightgateError } from '../core/errors.js';
import { Status } from '../core/status.js';

export class AuthenticationFailure extends FlightgateError {
  constructor(
    message: string,
    readonly auditReason: string,
    readonly claimedPrincipal?: string,
  ) {
    super(Status.UNAUTHENTICATED, message);
  }
}
