/**
 * gRPC's transparent retry, written once for every RPC whose whole request the client holds:
 * when the server refused the stream unprocessed (HTTP/2 REFUSED_STREAM, e.g. it had just sent
 * GOAWAY), the call is opened once more, on a new connection. Nothing the caller saw is repeated,
 * because a refused stream carries no response. DoPut and DoExchange are not replayed: their
 * requests stream from the caller's own iterables, which cannot be read twice.
 */
import { RefusedStreamError, type ClientCall } from '../transport/client.js';
import type { Metadata } from '../transport/metadata.js';

export class ReplayableCall {
  private current: ClientCall;
  private replayed = false;

  /** `open` starts the call and sends its whole request; it is called at most twice. */
  constructor(private readonly open: () => ClientCall) {
    this.current = open();
  }

  /** The response messages of the attempt that was answered. */
  async *messages(): AsyncGenerator<Uint8Array> {
    for (;;) {
      try {
        for await (const m of this.current.messages()) yield m;
        return;
      } catch (err) {
        if (this.replayed || !(err instanceof RefusedStreamError)) throw err;
        this.replayed = true;
        this.current = this.open();
      }
    }
  }

  /** Response headers of the attempt that was answered; read after the messages. */
  get headers(): Promise<Metadata> {
    return this.current.headers;
  }

  get trailers(): Metadata {
    return this.current.trailers;
  }

  cancel(): void {
    this.current.cancel();
  }
}

/** Collects every response message, with the retry above. */
export async function collect(call: ReplayableCall): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const m of call.messages()) out.push(m);
  return out;
}
