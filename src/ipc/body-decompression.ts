/**
 * Arrow IPC body compression (LZ4_FRAME or ZSTD, one frame per buffer, each prefixed by its
 * uncompressed length as an int64; -1 means stored as is): decompresses every buffer of a batch
 * into a fresh body, laid out 8-byte aligned, so the batch can be validated like an uncompressed
 * one. The compressed bytes are what gets stored; decompression is deterministic, so readers see
 * exactly the bytes that were validated.
 */
import { CompressionType } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import { invalidArgument } from '../core/errors.js';
import { decodeLz4Frames } from './lz4-frame.js';

export interface Region {
  readonly offset: number;
  readonly length: number;
}

/** The largest body a compressed batch may expand to. */
export const MAX_DECOMPRESSED_BODY_BYTES = 1024 * 1024 * 1024;

const pad8 = (n: number): number => (n + 7) & ~7;

export function decompressBody(
  regions: readonly Region[],
  body: Uint8Array,
  codec: number,
  where: string,
  maxBytes = MAX_DECOMPRESSED_BODY_BYTES,
): { body: Uint8Array; regions: Region[] } {
  if (codec !== CompressionType.LZ4_FRAME && codec !== CompressionType.ZSTD) {
    throw invalidArgument(`${where}: unknown body compression codec ${codec}; use lz4 or zstd (nothing was stored)`);
  }
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  // The declared sizes first, so nothing is allocated for a batch that would expand too far.
  const sizes = regions.map((r, i) => {
    if (r.length === 0) return 0;
    if (r.length < 8) throw invalidArgument(`${where}: compressed buffer ${i} is ${r.length} bytes, too short for its length prefix (corrupt batch; nothing was stored)`);
    const declared = view.getBigInt64(r.offset, true);
    if (declared === -1n) return r.length - 8;
    if (declared < 0n || declared > BigInt(maxBytes)) {
      throw invalidArgument(`${where}: compressed buffer ${i} declares ${declared} uncompressed bytes (corrupt batch, or over the ${maxBytes}-byte limit; nothing was stored)`);
    }
    return Number(declared);
  });
  const total = sizes.reduce((a, s) => a + pad8(s), 0);
  if (total > maxBytes) throw invalidArgument(`${where}: the batch expands to ${total} bytes, over the ${maxBytes}-byte limit (nothing was stored)`);
  const out = new Uint8Array(total);
  const laid: Region[] = [];
  let at = 0;
  regions.forEach((r, i) => {
    const size = sizes[i]!;
    laid.push({ offset: at, length: size });
    if (r.length === 0) return;
    const payload = body.subarray(r.offset + 8, r.offset + r.length);
    if (view.getBigInt64(r.offset, true) === -1n) out.set(payload, at);
    else out.set(inflate(payload, size, codec, `${where}: compressed buffer ${i}`), at);
    at += pad8(size);
  });
  return { body: out, regions: laid };
}

function inflate(payload: Uint8Array, size: number, codec: number, what: string): Uint8Array {
  try {
    const plain = codec === CompressionType.LZ4_FRAME ? decodeLz4Frames(payload, size) : zstdDecompress(payload, new Uint8Array(size));
    if (plain.length !== size) throw new Error(`holds ${plain.length} bytes, not the declared ${size}`);
    return plain;
  } catch (err) {
    throw invalidArgument(`${what} does not decompress: ${(err as Error).message} (corrupt batch; nothing was stored)`);
  }
}
