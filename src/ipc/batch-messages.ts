/**
 * Arrow JS record batches as IPC messages: what sources that decode with Arrow JS (CSV, Parquet,
 * in-memory tables) serve, and what the Flight client uploads. One encoder for both, so a batch
 * reaches the wire the same way whichever side sends it.
 */
import { RecordBatchStreamWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { schemaMessage, splitIpcStream, summarize, type IpcMessage } from './message.js';

/** The schema once, then each batch with the dictionaries it needs. */
export async function* messagesFromBatches(
  schema: Schema,
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  signal?: AbortSignal,
): AsyncGenerator<IpcMessage> {
  yield schemaMessage(schema);
  for await (const batch of batches) {
    signal?.throwIfAborted();
    yield* batchMessages(batch);
  }
}

/** One batch's dictionary and record-batch messages, without the schema. */
export function* batchMessages(batch: RecordBatch): Generator<IpcMessage> {
  const bytes = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
  for (const m of splitIpcStream(bytes)) {
    if (summarize(m.header).kind !== 'schema') yield m;
  }
}
