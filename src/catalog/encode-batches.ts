/**
 * Turns Arrow JS record batches into IPC messages, for sources that decode their files with
 * Arrow JS (CSV, Parquet) rather than holding IPC bytes already.
 */
import { RecordBatchStreamWriter, type RecordBatch, type Schema } from 'apache-arrow';
import { schemaMessage, splitIpcStream, summarize, type IpcMessage } from '../ipc/message.js';

export async function* messagesFromBatches(
  schema: Schema,
  batches: AsyncIterable<RecordBatch> | Iterable<RecordBatch>,
  signal?: AbortSignal,
): AsyncGenerator<IpcMessage> {
  yield schemaMessage(schema);
  for await (const batch of batches) {
    signal?.throwIfAborted();
    const bytes = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
    for (const m of splitIpcStream(bytes)) {
      if (summarize(m.header).kind !== 'schema') yield m;
    }
  }
}
