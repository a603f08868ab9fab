/**
 * gRPC length-prefixed message framing: one flag byte (compressed or not) and a big-endian
 * uint32 length before each message.
 */
import { FlightgateError } from '../../core/errors.js';
import { Status } from '../../core/status.js';

export const PREFIX_LENGTH = 5;


/** Builds one buffer holding the gRPC prefix followed by `head`, for a message of `total` bytes. */
export function prefixed(head: Uint8Array, total: number): Buffer {
  const out = Buffer.allocUnsafe(PREFIX_LENGTH + head.length);
  out[0] = 0;
  out.writeUInt32BE(total, 1);
  out.set(head, PREFIX_LENGTH);
  return out;
}

/**
 * Memory set aside for messages still being received. A message's whole length is reserved as
 * soon as its prefix arrives, so a peer announcing more than the budget holds is refused at once,
 * before it has sent (and we have stored) the bytes.
 */
export interface PendingBudget {
  /** Reserves `bytes`; throws RESOURCE_EXHAUSTED, naming the setting, when that is over a limit. */
  reserve(bytes: number): void;
  release(bytes: number): void;
}

export interface ReadLimits {
  readonly maxMessageBytes: number;
  /** The setting behind `maxMessageBytes`, named in the error of a message over it. */
  readonly limitSetting?: string;
  readonly budget?: PendingBudget;
  /** Called once, when the first message is complete or the stream ends without one. */
  readonly onFirstMessage?: () => void;
}

/**
 * Reassembles messages from arbitrarily split chunks. A message that lies inside one chunk is
 * returned as a view of it; only messages spanning chunks are copied, once.
 */
export async function* deframe(
  chunks: AsyncIterable<Buffer | Uint8Array | string>,
  limits: ReadLimits,
  allocate: (size: number) => Uint8Array = (size) => Buffer.allocUnsafe(size),
): AsyncGenerator<Uint8Array> {
  const { maxMessageBytes, limitSetting, budget } = limits;
  let first = limits.onFirstMessage;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let need = -1; // length of the message being assembled, once its prefix is known
  let reserved = 0;

  const take = (n: number): Uint8Array => {
    const firstChunk = pending[0]!;
    if (firstChunk.length >= n) {
      const out = firstChunk.subarray(0, n);
      if (firstChunk.length === n) pending.shift();
      else pending[0] = firstChunk.subarray(n);
      pendingBytes -= n;
      return out;
    }
    const out = allocate(n);
    let filled = 0;
    while (filled < n) {
      const c = pending[0]!;
      const part = Math.min(c.length, n - filled);
      out.set(c.subarray(0, part), filled);
      filled += part;
      if (part === c.length) pending.shift();
      else pending[0] = c.subarray(part);
    }
    pendingBytes -= n;
    return out;
  };

  try {
    for await (const chunk of chunks) {
      if (typeof chunk === 'string') continue;
      if (chunk.length === 0) continue;
      pending.push(chunk);
      pendingBytes += chunk.length;
      for (;;) {
        if (need < 0) {
          if (pendingBytes < PREFIX_LENGTH) break;
          need = messageLength(take(PREFIX_LENGTH), 0, maxMessageBytes, limitSetting);
          if (budget && need > 0) {
            budget.reserve(need);
            reserved = need;
          }
        }
        if (pendingBytes < need) break;
        const msg = need === 0 ? new Uint8Array(0) : take(need);
        need = -1;
        if (reserved) {
          budget!.release(reserved);
          reserved = 0;
        }
        if (first) {
          first();
          first = undefined;
        }
        yield msg;
      }
    }
    if (need >= 0 || pendingBytes > 0) {
      pending = [];
      throw new FlightgateError(Status.INVALID_ARGUMENT, 'stream ended in the middle of a gRPC message (truncated)');
    }
    first?.();
  } finally {
    if (reserved) budget!.release(reserved);
  }
}

/** Percent-encodes a grpc-message value as the gRPC HTTP/2 spec asks. */
export function encodeGrpcMessage(message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  let out = '';
  for (const b of bytes) {
    if (b >= 0x20 && b <= 0x7e && b !== 0x25) out += String.fromCharCode(b);
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function decodeGrpcMessage(value: string | undefined): string {
  if (!value) return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** Parses a grpc-timeout header (e.g. `100m`) into milliseconds, or undefined when absent/invalid. */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!m) return undefined;
  return Number(m[1]) * TIMEOUT_UNITS[m[2]!]!;
}

export function formatGrpcTimeout(ms: number): string {
  if (ms < 1e8) return `${Math.max(1, Math.ceil(ms))}m`;
  return `${Math.ceil(ms / 1000)}S`;
}

/**
 * Until a call is authenticated, what its client sends is read at once (never left to pile up
 * in the HTTP/2 layer, where a stream's whole receive window could wait unread) and counted
 * against `budget`; over it, the call fails. Once authenticated, reading is flow-controlled.
 */
export interface PreAuthentication {
  readonly budget: PendingBudget;
  /** Settles when the call has been authenticated (or can no longer be). */
  readonly authenticated: Promise<void>;
  /** Told at once when the budget is exceeded (the handler may be busy authenticating, not reading). */
  readonly onExceeded: (err: Error) => void;
}

/**
 * The chunks a readable stream receives, as they arrive, read from the moment this is called.
 * Unlike the stream's own async iterator, this never concatenates buffered chunks (a copy of
 * everything queued) and never destroys the stream when the consumer stops early. Once
 * authenticated, reading pauses while more than `highWaterBytes` wait to be consumed, which keeps
 * HTTP/2 flow control in force.
 */
export function chunksOf(stream: NodeJS.ReadableStream, highWaterBytes = 8 * 1024 * 1024, preAuth?: PreAuthentication): AsyncIterable<Buffer> & { dispose(): void } {
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  let gated = preAuth !== undefined;
  let held = 0; // reserved against the pre-authentication budget
  const giveBack = (): void => {
    if (held) preAuth!.budget.release(held);
    held = 0;
  };
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let detached = false;
  const onData = (chunk: Buffer): void => {
    if (failure || detached) return;
    queue.push(chunk);
    queued += chunk.length;
    if (gated) {
      try {
        preAuth!.budget.reserve(chunk.length);
        held += chunk.length;
      } catch (err) {
        failure = err as Error;
        queue.length = 0;
        queued = 0;
        giveBack();
        preAuth!.onExceeded(failure);
      }
    } else if (queued > highWaterBytes) {
      stream.pause();
    }
    notify();
  };
  const onEnd = (): void => {
    ended = true;
    notify();
  };
  const onError = (err: Error): void => {
    failure = err;
    notify();
  };
  const onClose = (): void => {
    if (!ended) failure ??= new FlightgateError(Status.CANCELLED, 'the peer closed the stream before finishing it');
    notify();
    // A cancelled call's reader must not keep what it queued or reserved.
    if (!ended) detach();
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('error', onError);
  stream.on('close', onClose);
  preAuth?.authenticated.then(() => {
    gated = false;
    giveBack();
    if (queued > highWaterBytes && !failure) stream.pause();
  });
  function detach(): void {
    if (detached) return;
    detached = true;
    queue.length = 0;
    queued = 0;
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('error', onError);
    stream.off('close', onClose);
    giveBack();
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (;;) {
        if (queue.length > 0) {
          const chunk = queue.shift()!;
          queued -= chunk.length;
          if (queued <= highWaterBytes / 2 && stream.isPaused()) stream.resume();
          yield chunk;
          continue;
        }
        if (failure) throw failure;
        if (ended || detached) return;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      detach();
    }
  }
  const iterable = chunks();
  return Object.assign(iterable, { dispose: detach });
}

/** Splits a complete request body into its gRPC messages (views of `body`, not copies). */
export function splitMessages(body: Uint8Array, maxMessageBytes: number, limitSetting?: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < PREFIX_LENGTH) break;
    const need = messageLength(body, at, maxMessageBytes, limitSetting);
    if (body.length - at - PREFIX_LENGTH < need) break;
    out.push(body.subarray(at + PREFIX_LENGTH, at + PREFIX_LENGTH + need));
    at += PREFIX_LENGTH + need;
  }
  if (at !== body.length) throw new FlightgateError(Status.INVALID_ARGUMENT, 'stream ended in the middle of a gRPC message (truncated)');
  return out;
}

/** The size limit's setting, when the caller has one to name, after the figures. */
const naming = (limitSetting: string | undefined): string => (limitSetting ? ` (${limitSetting})` : '');

/**
 * Reads and checks the prefix at `at`: the length of the message that follows. `limitSetting`
 * names what sets `maxMessageBytes`, so an error over it says which setting to change.
 */
export function messageLength(buf: Uint8Array, at: number, maxMessageBytes: number, limitSetting?: string): number {
  const flag = buf[at];
  if (flag !== 0) {
    // A bad flag is the client's error, not ours: INVALID_ARGUMENT (INTERNAL would be logged as a server fault).
    throw new FlightgateError(
      flag === 1 ? Status.UNIMPLEMENTED : Status.INVALID_ARGUMENT,
      flag === 1 ? 'compressed gRPC messages are not supported; send uncompressed (identity)' : `invalid gRPC message prefix (flag ${flag ?? 'missing'})`,
    );
  }
  const need = ((buf[at + 1]! << 24) >>> 0) + (buf[at + 2]! << 16) + (buf[at + 3]! << 8) + buf[at + 4]!;
  if (need > maxMessageBytes) {
    throw new FlightgateError(Status.RESOURCE_EXHAUSTED, `received message larger than max (${need} vs. ${maxMessageBytes} bytes)${naming(limitSetting)}`);
  }
  return need;
}

/**
 * The request messages of a call whose client sends one message (unary and server-streaming
 * RPCs), read with plain stream events: cheaper per call than the general streaming path, which
 * matters for small calls. A message over the limit, or over the budget, fails as soon as its
 * prefix arrives, and what was received is dropped.
 */
export function unaryRequest(stream: NodeJS.ReadableStream, limits: ReadLimits): AsyncIterable<Uint8Array> {
  const { maxMessageBytes, limitSetting, budget } = limits;
  const messages = new Promise<Uint8Array[]>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let reserved = 0;
    let failed = false;
    let settled = false;
    const giveBack = (): void => {
      if (reserved) budget!.release(reserved);
      reserved = 0;
    };
    const fail = (err: FlightgateError): void => {
      failed = true;
      settled = true;
      chunks.length = 0;
      giveBack();
      reject(err);
    };
    let prefixSeen = false;
    stream.on('data', (chunk: Buffer) => {
      if (failed || typeof chunk === 'string') return;
      // As soon as the prefix is in (even split over chunks), the message's length is checked and reserved.
      if (!prefixSeen && total + chunk.length >= PREFIX_LENGTH) {
        prefixSeen = true;
        try {
          const head = total === 0 ? chunk : Buffer.concat([...chunks, chunk]);
          const need = messageLength(head, 0, maxMessageBytes, limitSetting);
          if (budget && need > 0) {
            budget.reserve(need);
            reserved = need;
          }
        } catch (err) {
          return fail(err as FlightgateError);
        }
      }
      total += chunk.length;
      // One message and its prefix at most; more than that is over the limit however it splits.
      if (total > maxMessageBytes + 2 * PREFIX_LENGTH) {
        return fail(new FlightgateError(Status.RESOURCE_EXHAUSTED, `received more than max (${maxMessageBytes} bytes) for a single-request call${naming(limitSetting)}`));
      }
      chunks.push(chunk);
    });
    stream.once('end', () => {
      if (failed) return;
      settled = true;
      giveBack();
      limits.onFirstMessage?.();
      try {
        resolve(splitMessages(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), maxMessageBytes, limitSetting));
      } catch (err) {
        reject(err);
      }
    });
    // An error object captures a stack, which is costly: build one only for a real cancellation.
    stream.once('close', () => {
      if (!settled) fail(new FlightgateError(Status.CANCELLED, 'call cancelled by the client'));
    });
  });
  // The handler may fail (e.g. authentication) without ever reading: that is not an unhandled error.
  messages.catch(() => undefined);
  return {
    [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
      let list: Uint8Array[] | undefined;
      let i = 0;
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          list ??= await messages;
          return i < list.length ? { value: list[i++]!, done: false } : { value: undefined, done: true };
        },
      };
    },
  };
}
