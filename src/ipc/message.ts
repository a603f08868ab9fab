/**
 * Arrow IPC messages as raw bytes: a flatbuffer `Message` header and its body. Moving data as
 * these pairs lets files, uploads and Flight streams pass batches along without decoding them.
 */
import { Message, MessageHeader, type Schema } from 'apache-arrow';
import { invalidArgument } from '../core/errors.js';
import './flatbuffer-bounds.js';

export interface IpcMessage {
  /** The flatbuffer-encoded `Message` (no continuation marker or length prefix). */
  readonly header: Uint8Array;
  /** The message body; empty for schema messages. */
  readonly body: Uint8Array;
}

export const CONTINUATION = 0xffffffff;
/** The end-of-stream marker: continuation followed by a zero length. */
export const EOS = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

export type MessageKind = 'schema' | 'dictionary' | 'recordBatch';

export interface MessageSummary {
  kind: MessageKind;
  bodyLength: number;
  /** Rows in a record batch (0 for other kinds). */
  rows: number;
  decoded: Message;
}

/** Decodes just the flatbuffer header, to learn what a message is without touching its body. */
export function summarize(header: Uint8Array): MessageSummary {
  let decoded: Message;
  let kind: MessageKind;
  let rows = 0;
  try {
    // Arrow JS lays typed arrays straight over the header bytes (union type ids as an
    // Int32Array), which throws unless they start 8-byte aligned; inside a received FlightData
    // they start wherever the protobuf put them.
    decoded = Message.decode(header.byteOffset % 8 === 0 ? header : new Uint8Array(header));
    switch (decoded.headerType) {
      case MessageHeader.Schema:
        kind = 'schema';
        break;
      case MessageHeader.DictionaryBatch:
        kind = 'dictionary';
        break;
      case MessageHeader.RecordBatch:
        kind = 'recordBatch';
        rows = Number((decoded.header() as { length: number | bigint }).length);
        break;
      default:
        throw invalidArgument(`unsupported Arrow IPC message type ${String(decoded.headerType)}`);
    }
  } catch (err) {
    if (err instanceof Error && err.name === 'FlightgateError') throw err;
    throw invalidArgument('data_header is not a valid Arrow IPC Message flatbuffer', err);
  }
  const bodyLength = Number(decoded.bodyLength);
  if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) throw invalidArgument('Arrow IPC message has an invalid body length');
  if (!Number.isSafeInteger(rows) || rows < 0) throw invalidArgument('Arrow IPC record batch has an invalid length');
  if (kind !== 'schema') checkBufferRegions(decoded, kind, bodyLength);
  return { kind, bodyLength, rows, decoded };
}

interface BufferRegionLike {
  offset: number | bigint;
  length: number | bigint;
}

/** A batch whose buffers point outside its body would make readers fault: refuse it up front. */
function checkBufferRegions(decoded: Message, kind: MessageKind, bodyLength: number): void {
  let buffers: BufferRegionLike[];
  try {
    const h = decoded.header() as { buffers?: BufferRegionLike[]; data?: { buffers?: BufferRegionLike[] } };
    buffers = (kind === 'dictionary' ? h.data?.buffers : h.buffers) ?? [];
  } catch (err) {
    throw invalidArgument(`Arrow IPC ${kind} header could not be decoded`, err);
  }
  for (const b of buffers) {
    const end = Number(b.offset) + Number(b.length);
    if (!(Number(b.offset) >= 0 && Number(b.length) >= 0 && end <= bodyLength)) {
      throw invalidArgument(`Arrow IPC ${kind} has a buffer outside its ${bodyLength}-byte body (corrupt batch)`);
    }
  }
}

/** Decodes a schema message header into an Arrow Schema, or fails with INVALID_ARGUMENT. */
export function decodeSchema(header: Uint8Array): Schema {
  const s = summarize(header);
  if (s.kind !== 'schema') throw invalidArgument(`expected an Arrow schema message, got a ${s.kind} message`);
  try {
    return s.decoded.header() as Schema;
  } catch (err) {
    throw invalidArgument('the Arrow schema message could not be decoded', err);
  }
}

/** The IPC schema message for `schema`. */
export function schemaMessage(schema: Schema): IpcMessage {
  return { header: Message.encode(Message.from(schema)), body: new Uint8Array(0) };
}

const padTo8 = (n: number): number => (n + 7) & ~7;

/** The 8-byte-aligned framing of a message header: continuation, length, header, padding. */
export function framedHeader(header: Uint8Array): Uint8Array {
  const padded = padTo8(header.length);
  const out = new Uint8Array(8 + padded);
  const view = new DataView(out.buffer);
  view.setUint32(0, CONTINUATION, true);
  view.setInt32(4, padded, true);
  out.set(header, 8);
  return out;
}

/**
 * The "encapsulated message" form Flight uses for schemas in FlightInfo and SchemaResult:
 * continuation, length and the flatbuffer, padded to 8 bytes.
 */
export function encapsulate(message: IpcMessage): Uint8Array {
  if (message.body.length === 0) return framedHeader(message.header);
  const head = framedHeader(message.header);
  const out = new Uint8Array(head.length + message.body.length);
  out.set(head);
  out.set(message.body, head.length);
  return out;
}

/** Splits an in-memory IPC stream (as written by RecordBatchStreamWriter) into messages, without copying. */
export function splitIpcStream(bytes: Uint8Array): IpcMessage[] {
  const out: IpcMessage[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  while (pos + 4 <= bytes.length) {
    let len = view.getInt32(pos, true);
    pos += 4;
    if (len === -1) {
      if (pos + 4 > bytes.length) break;
      len = view.getInt32(pos, true);
      pos += 4;
    }
    if (len === 0) break;
    if (len < 0 || pos + len > bytes.length) throw invalidArgument('truncated Arrow IPC stream');
    const header = bytes.subarray(pos, pos + len);
    pos += len;
    const { bodyLength } = summarize(header);
    if (pos + bodyLength > bytes.length) throw invalidArgument('truncated Arrow IPC stream body');
    out.push({ header, body: bytes.subarray(pos, pos + bodyLength) });
    pos += bodyLength;
  }
  return out;
}

/** Decodes the encapsulated schema of a FlightInfo or SchemaResult. */
export function decodeEncapsulatedSchema(bytes: Uint8Array): Schema {
  const [first] = splitIpcStream(bytes);
  if (!first) throw invalidArgument('empty schema');
  return decodeSchema(first.header);
}
