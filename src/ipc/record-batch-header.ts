/**
 * The flatbuffer `Message` header of a RecordBatch, written from its field nodes and buffer
 * regions: what a producer that lays out bodies itself (the SQL engine) sends in front of each
 * body. Format: Message.fbs / Schema.fbs of the Arrow IPC specification, metadata version V5.
 */
import { Builder } from 'flatbuffers';

const METADATA_V5 = 4;
const HEADER_RECORD_BATCH = 3;

/**
 * `nodes`: (length, null count) pairs, depth first; `buffers`: (offset, length) pairs in IPC
 * order, offsets into a body of `bodyLength` bytes.
 */
export function recordBatchHeader(length: number, nodes: Float64Array, buffers: Float64Array, bodyLength: number): Uint8Array {
  const nodeCount = nodes.length / 2;
  const bufferCount = buffers.length / 2;
  const b = new Builder(96 + 16 * (nodeCount + bufferCount));
  // Structs in a vector are written back to front, and each struct's fields last to first.
  b.startVector(16, bufferCount, 8);
  for (let i = bufferCount - 1; i >= 0; i--) {
    b.addInt64(BigInt(buffers[2 * i + 1]!));
    b.addInt64(BigInt(buffers[2 * i]!));
  }
  const bufferVector = b.endVector();
  b.startVector(16, nodeCount, 8);
  for (let i = nodeCount - 1; i >= 0; i--) {
    b.addInt64(BigInt(nodes[2 * i + 1]!));
    b.addInt64(BigInt(nodes[2 * i]!));
  }
  const nodeVector = b.endVector();
  b.startObject(5); // RecordBatch: length, nodes, buffers, compression, variadicBufferCounts
  b.addFieldInt64(0, BigInt(length), BigInt(0));
  b.addFieldOffset(1, nodeVector, 0);
  b.addFieldOffset(2, bufferVector, 0);
  const batch = b.endObject();
  b.startObject(5); // Message: version, header_type, header, bodyLength, custom_metadata
  b.addFieldInt16(0, METADATA_V5, 0);
  b.addFieldInt8(1, HEADER_RECORD_BATCH, 0);
  b.addFieldOffset(2, batch, 0);
  b.addFieldInt64(3, BigInt(bodyLength), BigInt(0));
  b.finish(b.endObject());
  return b.asUint8Array();
}
