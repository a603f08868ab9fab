/**
 * Tickets name what a DoGet will stream. Ours are signed (HMAC-SHA256 with a key shared by the
 * replicas through the registry), expire, and are bound to the principal they were issued to:
 * `fgt2.<base64url JSON {d, e, p}>.<base64url MAC>`. A bare dataset name is accepted too, as many
 * Flight examples build tickets that way; the caller's read permission is checked either way.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalidArgument, permissionDenied } from '../core/errors.js';
import { isValidDatasetName } from '../catalog/names.js';
import { isCanonicalBase64url } from '../core/strict-encoding.js';

export interface TicketContent {
  dataset: string;
  /** Expiry, ms since the epoch. */
  expiresAt?: number;
  /** The principal it was issued to; only that principal may use it. */
  principal?: string;
}

const PREFIX = 'fgt2.';
const NOT_OURS = 'ticket is not one this server issued (get one from GetFlightInfo)';

export class TicketCodec {
  constructor(private readonly key: Buffer = randomBytes(32)) {}

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(PREFIX).update(payload).digest();
  }

  /**
   * Signed tickets for the same content are identical, so recent ones are kept: a client asking
   * for the same flight again (with expiries rounded to the second) costs no new MAC.
   */
  private readonly recent = new Map<string, Uint8Array>();

  encode(t: TicketContent): Uint8Array {
    const json = JSON.stringify({ d: t.dataset, e: t.expiresAt, p: t.principal });
    const hit = this.recent.get(json);
    if (hit) return hit;
    const payload = Buffer.from(json).toString('base64url');
    const ticket = Buffer.from(`${PREFIX}${payload}.${this.mac(payload).toString('base64url')}`, 'utf8');
    if (this.recent.size >= 4096) this.recent.clear();
    this.recent.set(json, ticket);
    return ticket;
  }

  /**
   * Checks a ticket presented by `principal`: ours, unaltered, unexpired, and issued to them
   * (PERMISSION_DENIED otherwise). A bare dataset name belongs to no one.
   */
  decode(bytes: Uint8Array, principal: string, now = Date.now()): TicketContent {
    if (bytes.length === 0) throw invalidArgument('empty ticket');
    if (bytes.length > 4096) throw invalidArgument('ticket is too long');
    const text = Buffer.from(bytes).toString('utf8');
    if (!text.startsWith(PREFIX)) {
      if (isValidDatasetName(text)) return { dataset: text };
      throw invalidArgument(NOT_OURS);
    }
    const [payload = '', signature = '', ...rest] = text.slice(PREFIX.length).split('.');
    // One ticket, one spelling: base64url with stray bits or padding decodes to the same bytes.
    if (!isCanonicalBase64url(payload) || !isCanonicalBase64url(signature)) throw invalidArgument(NOT_OURS);
    const given = Buffer.from(signature, 'base64url');
    const expected = this.mac(payload);
    if (rest.length || given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidArgument(NOT_OURS);
    let parsed: { d?: unknown; e?: unknown; p?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      throw invalidArgument('ticket is corrupt');
    }
    const { d, e, p } = parsed;
    if (typeof d !== 'string' || !isValidDatasetName(d) || (e !== undefined && typeof e !== 'number') || (p !== undefined && typeof p !== 'string')) {
      throw invalidArgument('ticket is corrupt');
    }
    if (typeof e === 'number' && e < now) {
      throw invalidArgument('ticket has expired; call GetFlightInfo (or RenewFlightEndpoint) for a fresh one');
    }
    if (p !== undefined && p !== principal) {
      throw permissionDenied('this ticket was issued to another principal; call GetFlightInfo for your own');
    }
    return { dataset: d, expiresAt: e, principal: p };
  }
}
