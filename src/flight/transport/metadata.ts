/**
 * gRPC metadata: HTTP/2 headers with lower-case names; names ending in `-bin` carry binary
 * values as base64 on the wire. Names reserved by HTTP/2 and gRPC are not metadata.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';

const RESERVED = new Set([
  'content-type', 'te', 'user-agent', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding',
  'grpc-status', 'grpc-message', 'grpc-status-details-bin', 'content-length', 'accept-encoding',
  'host', 'connection', 'transfer-encoding', 'upgrade', 'keep-alive', 'proxy-connection',
]);

export type MetadataValue = string | Uint8Array;

export class Metadata {
  private parsedEntries: Map<string, MetadataValue[]> | undefined;
  /** Received headers not parsed yet: most calls only ever read one or two of them. */
  private raw: IncomingHttpHeaders | undefined;

  /** Reads metadata from received headers, decoding `-bin` values (when first needed). */
  static fromHeaders(headers: IncomingHttpHeaders): Metadata {
    const md = new Metadata();
    md.raw = headers;
    return md;
  }

  private get entries(): Map<string, MetadataValue[]> {
    if (this.parsedEntries) return this.parsedEntries;
    this.parsedEntries = new Map();
    const raw = this.raw;
    this.raw = undefined;
    for (const [rawKey, value] of Object.entries(raw ?? {})) {
      const key = rawKey.toLowerCase();
      if (key.startsWith(':') || RESERVED.has(key) || value === undefined) continue;
      for (const v of splitValues(key, value)) this.add(key, key.endsWith('-bin') ? Buffer.from(v.trim(), 'base64') : v);
    }
    return this.parsedEntries;
  }

  /** The first raw value of `key` while the headers are still unparsed (node gives lower-case names). */
  private firstRaw(key: string): string | undefined {
    const k = key.toLowerCase();
    if (k.startsWith(':') || RESERVED.has(k)) return undefined;
    const value = this.raw![k];
    return value === undefined ? undefined : splitValues(k, value)[0];
  }

  add(key: string, value: MetadataValue): this {
    const k = key.toLowerCase();
    const list = this.entries.get(k);
    if (list) list.push(value);
    else this.entries.set(k, [value]);
    return this;
  }

  set(key: string, value: MetadataValue): this {
    this.entries.set(key.toLowerCase(), [value]);
    return this;
  }

  /** The first value of a text entry. */
  get(key: string): string | undefined {
    if (this.raw) {
      const v = this.firstRaw(key);
      if (v === undefined) return undefined;
      return key.toLowerCase().endsWith('-bin') ? Buffer.from(v.trim(), 'base64').toString('utf8') : v;
    }
    const v = this.entries.get(key.toLowerCase())?.[0];
    if (v === undefined) return undefined;
    return typeof v === 'string' ? v : Buffer.from(v).toString('utf8');
  }

  getBinary(key: string): Uint8Array | undefined {
    if (this.raw) {
      const v = this.firstRaw(key);
      if (v === undefined) return undefined;
      return key.toLowerCase().endsWith('-bin') ? Buffer.from(v.trim(), 'base64') : Buffer.from(v, 'utf8');
    }
    const v = this.entries.get(key.toLowerCase())?.[0];
    if (v === undefined) return undefined;
    return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  }

  getAll(key: string): MetadataValue[] {
    return this.entries.get(key.toLowerCase()) ?? [];
  }

  has(key: string): boolean {
    return this.entries.has(key.toLowerCase());
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Copies entries into outgoing headers, base64-encoding `-bin` values. */
  writeTo(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
    for (const [key, values] of this.entries) {
      const encoded = values.map((v) =>
        key.endsWith('-bin')
          ? Buffer.from(typeof v === 'string' ? Buffer.from(v) : v).toString('base64')
          : typeof v === 'string' ? v : Buffer.from(v).toString('utf8'),
      );
      headers[key] = encoded.length === 1 ? encoded[0] : encoded;
    }
    return headers;
  }

  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const key of this.entries.keys()) out[key] = this.get(key) ?? '';
    return out;
  }
}

function splitValues(key: string, value: string | string[]): string[] {
  return Array.isArray(value) ? value : String(value).split(key.endsWith('-bin') ? ',' : '\u0000');
}

/** Whether `key` may be sent as custom metadata. */
export function isValidMetadataKey(key: string): boolean {
  return /^[0-9a-z_.-]+$/.test(key) && !RESERVED.has(key);
}
