/**
 * A cap on memory held for messages still being received, per connection or per process. A
 * budget may sit inside a larger one (a connection's inside the process's): a reservation must
 * fit in both, and over either it is refused with RESOURCE_EXHAUSTED naming that one's setting.
 */
import { FlightgateError } from '../../core/errors.js';
import { Status } from '../../core/status.js';
import type { PendingBudget } from './framing.js';

const mib = (n: number): string => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(n % (1 << 20) ? 1 : 0)} MiB` : `${n} bytes`);

export class ByteBudget implements PendingBudget {
  private used = 0;

  constructor(
    readonly limit: number,
    /** The setting that sets `limit`, and what it covers, for the error message. */
    private readonly setting: string,
    private readonly what: string,
    private readonly parent?: ByteBudget,
  ) {}

  get inUse(): number {
    return this.used;
  }

  reserve(bytes: number): void {
    if (this.used + bytes > this.limit) {
      throw new FlightgateError(
        Status.RESOURCE_EXHAUSTED,
        `${bytes} more bytes do not fit: ${mib(this.used)} of ${mib(this.limit)} for ${this.what} are already held (${this.setting})`,
      );
    }
    this.parent?.reserve(bytes);
    this.used += bytes;
  }

  release(bytes: number): void {
    this.used -= bytes;
    this.parent?.release(bytes);
  }
}
