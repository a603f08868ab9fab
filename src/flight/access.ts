/**
 * The seam through which every Flight RPC passes: who is calling, and may they do this?
 * The data plane only ever talks to this interface; authentication and authorization modules
 * plug in behind it.
 */
import type { Principal } from '../core/principal.js';
import { ANONYMOUS } from '../core/principal.js';
import type { ServerCall } from './transport/server.js';

export type DatasetAction = 'list' | 'read' | 'write' | 'admin';

export interface AccessControl {
  /** Establishes the caller of `call`, or throws UNAUTHENTICATED. */
  authenticate(call: ServerCall, rpc: string): Promise<Principal>;
  /** Throws PERMISSION_DENIED unless `principal` may do `action` on `dataset`. */
  authorize(principal: Principal, action: DatasetAction, dataset: string): Promise<void>;
}

/** Lets everyone do everything: the data plane's default until authentication is configured. */
export const allowAll: AccessControl = {
  async authenticate(): Promise<Principal> {
    return ANONYMOUS;
  },
  async authorize(): Promise<void> {},
};
