/**
 * FlightData ⇄ Arrow IPC messages. `data_header` carries the flatbuffer Message and
 * `data_body` (field 1000) the body, which is never copied on the way out: the encoder
 * returns the small head (descriptor, header, metadata and the body's tag and length)
 * separately, and the transport writes the body as it is.
 */
import type { Message } from 'apache-arrow';
import { invalidArgument } from '../core/errors.js';
import type { IpcMessage } from '../ipc/message.js';
import { summarize } from '../ipc/message.js';
import { decodeFlightData, encodeDescriptor, type FlightDataMessage, type FlightDescriptor } from './proto/messages.js';
import { ProtoWriter, varintSize, writeVarint } from './proto/wire.js';

const BODY_TAG = [0xc2, 0x3e]; // field 1000, wire type 2

export interface OutgoingFlightData {
  descriptor?: FlightDescriptor;
  header?: Uint8Array;
  appMetadata?: Uint8Array;
  body?: Uint8Array;
}

/** The FlightData bytes that precede the body; send it followed by `body`. */
export function flightDataHead(data: OutgoingFlightData): Uint8Array {
  const bodyLength = data.body?.length ?? 0;
  const w = new ProtoWriter(32 + (data.header?.length ?? 0) + (data.appMetadata?.length ?? 0));
  if (data.descriptor) w.message(1, encodeDescriptor(data.descriptor));
  w.bytes(2, data.header);
  w.bytes(3, data.appMetadata);
  const fields = w.finish();
  if (bodyLength === 0) return fields;
  const out = new Uint8Array(fields.length + BODY_TAG.length + varintSize(bodyLength));
  out.set(fields);
  out.set(BODY_TAG, fields.length);
  writeVarint(out, fields.length + BODY_TAG.length, bodyLength);
  return out;
}

/** A whole FlightData message in one buffer (for tests and small messages). */
export function encodeFlightData(data: OutgoingFlightData): Uint8Array {
  const head = flightDataHead(data);
  if (!data.body?.length) return head;
  const out = new Uint8Array(head.length + data.body.length);
  out.set(head);
  out.set(data.body, head.length);
  return out;
}

export interface IncomingFlightData extends IpcMessage {
  readonly descriptor?: FlightDescriptor;
  readonly appMetadata: Uint8Array;
  /** What the header says the message is; absent for metadata-only messages. */
  readonly kind?: 'schema' | 'dictionary' | 'recordBatch';
  readonly rows: number;
  /** The decoded flatbuffer header, when there is one (so later checks need not decode it again). */
  readonly decoded?: Message;
}

/**
 * Decodes and checks one FlightData message: a header that is not an Arrow Message, or a body
 * whose length disagrees with it, is INVALID_ARGUMENT.
 */
export function readFlightData(bytes: Uint8Array): IncomingFlightData {
  const d: FlightDataMessage = decodeFlightData(bytes);
  if (d.dataHeader.length === 0) {
    if (d.dataBody.length > 0) throw invalidArgument('FlightData has a data_body but no data_header');
    return { header: d.dataHeader, body: d.dataBody, descriptor: d.descriptor, appMetadata: d.appMetadata, rows: 0 };
  }
  const s = summarize(d.dataHeader);
  if (s.bodyLength !== d.dataBody.length) {
    throw invalidArgument(
      `FlightData body is ${d.dataBody.length} bytes but its Arrow header announces ${s.bodyLength} (truncated or corrupt batch)`,
    );
  }
  return { header: d.dataHeader, body: d.dataBody, descriptor: d.descriptor, appMetadata: d.appMetadata, kind: s.kind, rows: s.rows, decoded: s.decoded };
}
