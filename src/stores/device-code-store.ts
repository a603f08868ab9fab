/**
 * Device authorization requests (RFC 8628), shared by replicas: looked up by the device code's
 * hash (the polling client) or by the user code (the person approving on the web page).
 */
export type DeviceCodeStatus = 'pending' | 'approved' | 'denied' | 'used';

export interface DeviceApproval {
  readonly subject: string;
  readonly subjectKind: 'user' | 'external';
  readonly subjectIssuer?: string;
  readonly roles: readonly string[];
}

export interface DeviceCodeRecord {
  readonly deviceHash: string;
  readonly userCode: string;
  readonly clientId: string;
  readonly scope: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The least time between two polls, ms (grows with every slow_down). */
  readonly intervalMs: number;
  readonly lastPollAt?: number;
  readonly status: DeviceCodeStatus;
  readonly approval?: DeviceApproval;
}

export interface DeviceCodeStore {
  /** Throws ALREADY_EXISTS when the user code is taken (the caller draws another). */
  add(record: Omit<DeviceCodeRecord, 'status' | 'approval' | 'lastPollAt'>): Promise<void>;
  byUserCode(userCode: string): Promise<DeviceCodeRecord | undefined>;
  /**
   * Records a poll at `now` and returns the request as it was before it: one atomic step, so two
   * polls racing cannot both pass the interval check.
   */
  poll(deviceHash: string, now: number): Promise<DeviceCodeRecord | undefined>;
  /** Slows a client down: its interval grows by `byMs`. */
  slowDown(deviceHash: string, byMs: number): Promise<void>;
  /** Settles a pending request (approved with who approved it, or denied); false when it was not pending. */
  settle(userCode: string, outcome: { status: 'approved'; approval: DeviceApproval } | { status: 'denied' }): Promise<boolean>;
  /** Marks an approved request used; true only for the one caller that did it. */
  markUsed(deviceHash: string): Promise<boolean>;
  /** Requests still waiting (pending and unexpired) at `now`. */
  countPending(now: number): Promise<number>;
  /** Removes requests that expired before `before`. */
  purge(before: number): Promise<void>;
}
