/** A DoExchange call: write batches or metadata, read what the server sends back. */
import { Table, type RecordBatch } from 'apache-arrow';
import { batchMessages } from '../../ipc/batch-messages.js';
import { schemaMessage, type IpcMessage } from '../../ipc/message.js';
import { flightDataHead, type IncomingFlightData } from '../codec.js';
import type { FlightDescriptor } from '../proto/messages.js';
import type { ClientCall } from '../transport/client.js';
import { flightDataOf, openBatchReader, readAllBatches } from './record-batch-stream.js';

export class FlightExchange {
  private descriptorSent = false;
  private schemaSent = false;

  constructor(
    private readonly call: ClientCall,
    private readonly descriptor: FlightDescriptor,
  ) {}

  /** The descriptor rides on the first message only, whichever kind that is. */
  private async send(m: IpcMessage | undefined, appMetadata?: Uint8Array): Promise<void> {
    const descriptor = this.descriptorSent ? undefined : this.descriptor;
    this.descriptorSent = true;
    await this.call.send(flightDataHead({ descriptor, header: m?.header, appMetadata, body: m?.body }), m?.body);
  }

  /** Sends the schema before the first batch, then the batches. */
  async write(data: Table | RecordBatch): Promise<void> {
    if (!this.schemaSent) {
      await this.send(schemaMessage(data.schema));
      this.schemaSent = true;
    }
    for (const batch of data instanceof Table ? data.batches : [data]) {
      for (const m of batchMessages(batch)) await this.send(m);
    }
  }

  async writeMetadata(appMetadata: Uint8Array): Promise<void> {
    await this.send(undefined, appMetadata);
  }

  end(): void {
    this.call.end();
  }

  /** The raw FlightData the server sends. */
  messages(): AsyncGenerator<IncomingFlightData> {
    return flightDataOf(this.call.messages());
  }

  /** Reads all batches the server sends back, as a Table. */
  async readAll(): Promise<Table> {
    return readAllBatches(await openBatchReader(this.messages()));
  }
}
