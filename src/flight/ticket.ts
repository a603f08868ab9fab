/**
 * Tickets name what a DoGet will stream. Ours are JSON with a version and an expiry, so they
 * can be renewed (RenewFlightEndpoint) and later signed without changing the wire shape.
 * A bare dataset name is accepted too, as many Flight examples build tickets that way.
 */
import { invalidArgument } from '../core/errors.js';
import { isValidDatasetName } from '../catalog/names.js';

export interface TicketContent {
  dataset: string;
  /** Expiry, ms since the epoch. */
  expiresAt?: number;
}

const PREFIX = 'fgt1:';

export function encodeTicket(t: TicketContent): Uint8Array {
  return Buffer.from(PREFIX + JSON.stringify({ d: t.dataset, e: t.expiresAt }), 'utf8');
}

export function decodeTicket(bytes: Uint8Array, now = Date.now()): TicketContent {
  if (bytes.length === 0) throw invalidArgument('empty ticket');
  if (bytes.length > 4096) throw invalidArgument('ticket is too long');
  const text = Buffer.from(bytes).toString('utf8');
  if (!text.startsWith(PREFIX)) {
    if (isValidDatasetName(text)) return { dataset: text };
    throw invalidArgument('ticket is not one this server issued (get one from GetFlightInfo)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(PREFIX.length));
  } catch {
    throw invalidArgument('ticket is corrupt');
  }
  const p = parsed as { d?: unknown; e?: unknown };
  if (typeof p.d !== 'string' || !isValidDatasetName(p.d) || (p.e !== undefined && typeof p.e !== 'number')) {
    throw invalidArgument('ticket is corrupt');
  }
  if (typeof p.e === 'number' && p.e < now) {
    throw invalidArgument('ticket has expired; call GetFlightInfo (or RenewFlightEndpoint) for a fresh one');
  }
  return { dataset: p.d, expiresAt: p.e as number | undefined };
}
