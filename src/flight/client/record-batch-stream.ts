/**
 * Record batches out of a stream of FlightData, as Arrow JS reads them: DoGet's result and what
 * a DoExchange peer sends back.
 */
import { RecordBatchReader, Table, type RecordBatch, type Schema } from 'apache-arrow';
import { EOS, framedHeader } from '../../ipc/message.js';
import { readFlightData, type IncomingFlightData } from '../codec.js';

/** FlightData as the IPC stream bytes Arrow JS's reader takes. */
async function* ipcBytes(data: AsyncIterable<IncomingFlightData>): AsyncGenerator<Uint8Array> {
  for await (const fd of data) {
    if (!fd.kind) continue;
    yield framedHeader(fd.header);
    if (fd.body.length) yield fd.body;
  }
  yield EOS;
}

export async function* flightDataOf(messages: AsyncIterable<Uint8Array>): AsyncGenerator<IncomingFlightData> {
  for await (const m of messages) yield readFlightData(m);
}

export async function openBatchReader(data: AsyncIterable<IncomingFlightData>): Promise<RecordBatchReader> {
  const reader = await RecordBatchReader.from(ipcBytes(data));
  await reader.open();
  return reader as RecordBatchReader;
}

/** Every batch a reader yields, as one Table (an empty one with the schema when there are none). */
export async function readAllBatches(reader: RecordBatchReader): Promise<Table> {
  const batches: RecordBatch[] = [];
  for await (const b of reader as AsyncIterable<RecordBatch>) batches.push(b);
  return batches.length ? new Table(batches) : new Table(reader.schema);
}

/** The result of DoGet: iterate it for record batches, or read it whole. */
export class FlightRecordBatchStream implements AsyncIterable<RecordBatch> {
  private reader: Promise<RecordBatchReader> | undefined;

  constructor(
    private readonly messages: AsyncIterable<Uint8Array>,
    private readonly onCancel: () => void,
  ) {}

  private open(): Promise<RecordBatchReader> {
    this.reader ??= openBatchReader(flightDataOf(this.messages));
    return this.reader;
  }

  async schema(): Promise<Schema> {
    return (await this.open()).schema;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<RecordBatch> {
    const reader = await this.open();
    for await (const batch of reader as AsyncIterable<RecordBatch>) yield batch;
  }

  async readAll(): Promise<Table> {
    return readAllBatches(await this.open());
  }

  cancel(): void {
    this.onCancel();
  }
}
