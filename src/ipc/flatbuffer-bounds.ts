/**
 * Bounds for flatbuffer vectors, installed once for every reader in the process (Arrow JS's
 * included). The flatbuffers runtime trusts a vector's length field: a received Arrow IPC header
 * saying "2^31 buffers" makes Arrow's decoder loop and allocate until the process runs out of
 * memory (found by test/fuzz). A vector can never hold more elements than it has bytes, so a
 * length past the end of the buffer is refused here, before anything is allocated.
 */
import { ByteBuffer } from 'flatbuffers';

export class FlatbufferBoundsError extends RangeError {
  override name = 'FlatbufferBoundsError';
}

const GUARDED = Symbol.for('flightgate.flatbufferBounds');

interface GuardedPrototype {
  [GUARDED]?: true;
  __vector_len(offset: number): number;
  __vector(offset: number): number;
  capacity(): number;
}

export function installFlatbufferBounds(): void {
  const proto = ByteBuffer.prototype as unknown as GuardedPrototype;
  if (proto[GUARDED]) return;
  const vectorLength = proto.__vector_len;
  proto.__vector_len = function (this: GuardedPrototype, offset: number): number {
    const length = vectorLength.call(this, offset);
    const start = this.__vector(offset);
    if (!(length >= 0 && start >= 0 && start + length <= this.capacity())) {
      throw new FlatbufferBoundsError(`flatbuffer vector of ${length} elements at ${start} runs past the end of its ${this.capacity()}-byte buffer`);
    }
    return length;
  };
  proto[GUARDED] = true;
}

installFlatbufferBounds();
