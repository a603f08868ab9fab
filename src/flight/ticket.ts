/**
 * Tickets name what a DoGet will stream. Ours are signed (HMAC-SHA256 with a key shared by the
 * replicas through the registry), expire, and are bound to the principal they were issued to:
 * `fgt2.<base64url JSON {d, e, p}>.<base64url MAC>`. A bare dataset name is accepted too, as many
 * Flight examples build tickets that way; the caller's read permission is checked either way.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { invalidArgument, permissionDenied } from '../core/errors.js';
import { isValidDatasetName } from '../catalog/names.js';
import type { SegmentRange } from '../catalog/dataset.js';
import { isCanonicalBase64url } from '../core/strict-encoding.js';

export interface TicketContent {
  dataset: string;
  /** Expiry, ms since the epoch. */
  expiresAt?: number;
  /** The principal it was issued to; only that principal may use it. */
  principal?: string;
  /** Only these segments of the dataset (one of several endpoints). */
  segments?: SegmentRange;
}

const SEGMENT_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function segmentRange(s: unknown): SegmentRange | undefined {
  if (!Array.isArray(s) || s.length !== 4) return undefined;
  const [from, to, first, last] = s as unknown[];
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || (from as number) < 0 || (to as number) <= (from as number)) return undefined;
  if (typeof first !== 'string' || typeof last !== 'string' || !SEGMENT_FILE.test(first) || !SEGMENT_FILE.test(last)) return undefined;
  return { from: from as number, to: to as number, first, last };
}

const PREFIX = 'fgt2.';
const SEALED_PREFIX = 'fgh1.';
const NOT_OURS = 'ticket is not one this server issued (get one from GetFlightInfo)';

export class TicketCodec {
  constructor(private readonly key: Buffer = randomBytes(32)) {}

  /** A key for another purpose, derived from this one (so replicas that share tickets share it too). */
  derive(purpose: string): Buffer {
    return createHmac('sha256', this.key).update('flightgate derived key\0').update(purpose).digest();
  }

  private mac(payload: string): Buffer {
    return createHmac('sha256', this.key).update(PREFIX).update(payload).digest();
  }

  /**
   * Signed tickets for the same content are identical, so recent ones are kept: a client asking
   * for the same flight again (with expiries rounded to the second) costs no new MAC.
   */
  private readonly recent = new Map<string, Uint8Array>();

  encode(t: TicketContent): Uint8Array {
    const json = JSON.stringify({ d: t.dataset, e: t.expiresAt, p: t.principal, s: t.segments && [t.segments.from, t.segments.to, t.segments.first, t.segments.last] });
    const hit = this.recent.get(json);
    if (hit) return hit;
    const payload = Buffer.from(json).toString('base64url');
    const ticket = Buffer.from(`${PREFIX}${payload}.${this.mac(payload).toString('base64url')}`, 'utf8');
    if (this.recent.size >= 4096) this.recent.clear();
    this.recent.set(json, ticket);
    return ticket;
  }

  /**
   * Seals `content` for `principal` until `expiresAt` under `purpose` (e.g. a Flight SQL
   * statement handle): `fgh1.<purpose>.<base64url JSON>.<MAC>`, with the ticket key, so every
   * replica accepts what one issued and nobody can alter it. Content is readable by its holder:
   * it must carry nothing secret, only what the holder may see anyway (their own SQL).
   */
  seal(purpose: string, content: unknown, principal: string, expiresAt: number): Uint8Array {
    const payload = Buffer.from(JSON.stringify({ c: content, p: principal, e: expiresAt })).toString('base64url');
    const signed = `${SEALED_PREFIX}${purpose}.${payload}`;
    return Buffer.from(`${signed}.${this.mac(signed).toString('base64url')}`, 'utf8');
  }

  /** The content of a sealed value, checked as `decode` checks tickets; `what` names it in errors. */
  open(purpose: string, bytes: Uint8Array, principal: string, what: string, maxBytes: number, now = Date.now()): unknown {
    if (bytes.length > maxBytes) throw invalidArgument(`${what} is too long`);
    const text = Buffer.from(bytes).toString('utf8');
    const head = `${SEALED_PREFIX}${purpose}.`;
    const notOurs = `${what} is not one this server issued`;
    if (!text.startsWith(head)) throw invalidArgument(notOurs);
    const cut = text.lastIndexOf('.');
    const signed = text.slice(0, cut);
    const signature = text.slice(cut + 1);
    const payload = signed.slice(head.length);
    if (!isCanonicalBase64url(payload) || !isCanonicalBase64url(signature)) throw invalidArgument(notOurs);
    const given = Buffer.from(signature, 'base64url');
    const expected = this.mac(signed);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidArgument(notOurs);
    let parsed: { c?: unknown; p?: unknown; e?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      throw invalidArgument(`${what} is corrupt`);
    }
    if (typeof parsed.e !== 'number' || typeof parsed.p !== 'string') throw invalidArgument(`${what} is corrupt`);
    if (parsed.e < now) throw invalidArgument(`${what} has expired`);
    if (parsed.p !== principal) throw permissionDenied(`this ${what} was issued to another principal`);
    return parsed.c;
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
    let parsed: { d?: unknown; e?: unknown; p?: unknown; s?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof parsed;
    } catch {
      throw invalidArgument('ticket is corrupt');
    }
    const { d, e, p } = parsed;
    const segments = parsed.s === undefined ? undefined : segmentRange(parsed.s);
    if (typeof d !== 'string' || !isValidDatasetName(d) || (e !== undefined && typeof e !== 'number') || (p !== undefined && typeof p !== 'string') || (parsed.s !== undefined && !segments)) {
      throw invalidArgument('ticket is corrupt');
    }
    if (typeof e === 'number' && e < now) {
      throw invalidArgument('ticket has expired; call GetFlightInfo (or RenewFlightEndpoint) for a fresh one');
    }
    if (p !== undefined && p !== principal) {
      throw permissionDenied('this ticket was issued to another principal; call GetFlightInfo for your own');
    }
    return { dataset: d, expiresAt: e, principal: p, ...(segments ? { segments } : {}) };
  }
}
