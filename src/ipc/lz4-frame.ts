/**
 * LZ4 frame decoding (the LZ4_FRAME codec of Arrow IPC body compression) into an output of a
 * known size. Written here rather than taken from a package because the decoder must stop the
 * moment the output would pass the size the batch declared: a crafted frame can expand about
 * 255 times, and the JavaScript decoders available write on (silently, past the end of their
 * typed array) until the input is spent. Checksums are not verified: only the bytes matter here,
 * and a reader that checks them refuses a bad frame itself.
 */
export class Lz4FrameError extends Error {
  override name = 'Lz4FrameError';
}

const MAGIC = 0x184d2204;
const fail = (why: string): never => {
  throw new Lz4FrameError(why);
};

/** Decodes the LZ4 frames in `src`, which must produce exactly `size` bytes. */
export function decodeLz4Frames(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let o = 0;
  let i = 0;
  const u32 = (at: number): number => {
    if (at + 4 > src.length) fail('truncated frame');
    return (src[at]! | (src[at + 1]! << 8) | (src[at + 2]! << 16) | (src[at + 3]! << 24)) >>> 0;
  };
  while (i < src.length) {
    const magic = u32(i);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // A skippable frame: its length follows the magic.
      i += 8 + u32(i + 4);
      continue;
    }
    if (magic !== MAGIC) fail('not an LZ4 frame');
    i += 4;
    if (i + 2 > src.length) fail('truncated frame header');
    const flg = src[i]!;
    if (flg >> 6 !== 1) fail('unsupported LZ4 frame version');
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const dictionary = (flg & 0x01) !== 0;
    if (dictionary) fail('LZ4 frames with a dictionary are not supported');
    const maxBlock = [0, 0, 0, 0, 65_536, 262_144, 1_048_576, 4_194_304][(src[i + 1]! >> 4) & 7]!;
    if (maxBlock === 0) fail('invalid LZ4 block size');
    i += 2 + (contentSize ? 8 : 0) + 1; // FLG, BD, content size, header checksum
    for (;;) {
      const word = u32(i);
      i += 4;
      if (word === 0) break; // end mark
      const length = word & 0x7fffffff;
      if (length > maxBlock || i + length > src.length) fail('LZ4 block runs past the end of the frame');
      if (word & 0x80000000) {
        if (o + length > size) fail('LZ4 frame holds more than the declared size');
        out.set(src.subarray(i, i + length), o);
        o += length;
      } else {
        o = decodeBlock(src, i, i + length, out, o);
      }
      i += length + (blockChecksum ? 4 : 0);
    }
    if (contentChecksum) i += 4;
  }
  if (i > src.length) fail('truncated frame');
  if (o !== size) fail(`LZ4 frame holds ${o} bytes, not the declared ${size}`);
  return out;
}

/** One LZ4 block from src[start, end) into out at `o`; returns the new output position. */
function decodeBlock(src: Uint8Array, start: number, end: number, out: Uint8Array, o: number): number {
  let i = start;
  const limit = out.length;
  for (;;) {
    if (i >= end) fail('truncated LZ4 block');
    const token = src[i++]!;
    let literals = token >> 4;
    if (literals === 15) {
      for (;;) {
        if (i >= end) fail('truncated LZ4 literal length');
        const b = src[i++]!;
        literals += b;
        if (b !== 255) break;
      }
    }
    if (i + literals > end) fail('LZ4 literals run past the block');
    if (o + literals > limit) fail('LZ4 frame holds more than the declared size');
    out.set(src.subarray(i, i + literals), o);
    i += literals;
    o += literals;
    if (i === end) return o; // the last sequence has literals only
    if (i + 2 > end) fail('truncated LZ4 match offset');
    const offset = src[i]! | (src[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o) fail('LZ4 match refers before the start of the output');
    let length = (token & 15) + 4;
    if ((token & 15) === 15) {
      for (;;) {
        if (i >= end) fail('truncated LZ4 match length');
        const b = src[i++]!;
        length += b;
        if (b !== 255) break;
      }
    }
    if (o + length > limit) fail('LZ4 frame holds more than the declared size');
    // Overlapping copies repeat the last `offset` bytes, so they go byte by byte unless they cannot overlap.
    if (length <= offset) {
      out.copyWithin(o, o - offset, o - offset + length);
      o += length;
    } else {
      for (let k = 0; k < length; k++, o++) out[o] = out[o - offset]!;
    }
  }
}
