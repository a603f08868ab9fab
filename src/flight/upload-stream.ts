/**
 * Receives a DoPut's FlightData into an upload: charged against the caller's limits as it
 * arrives, committed atomically when the stream ends well, aborted otherwise, and recorded as a
 * data access either way. Shared by the dataset DoPut and Flight SQL's bulk ingest; the caller
 * has authorized the write and says what to answer once it is committed.
 */
import type { Catalog } from '../catalog/catalog.js';
import type { CommitResult } from '../catalog/managed/upload.js';
import type { PutMode } from '../catalog/put-mode.js';
import type { AccessControl } from './access.js';
import type { AuthenticatedCall } from './binding.js';
import { readFlightData } from './codec.js';
import type { CommandStream } from './commands.js';

export async function receiveUpload(
  deps: { access: AccessControl; catalog: Catalog },
  { call, principal }: AuthenticatedCall,
  dataset: string,
  mode: PutMode,
  { first, firstBytes, rest }: CommandStream,
  answer: (result: CommitResult, rows: number) => Promise<void>,
): Promise<void> {
  const charge = deps.access.chargeUpload?.bind(deps.access);
  let received = firstBytes;
  charge?.(principal, firstBytes, received);
  const upload = await deps.catalog.beginUpload(dataset, mode);
  let outcome: 'ok' | 'error' = 'error';
  try {
    if (first.kind) await upload.write({ header: first.header, body: first.body, kind: first.kind, rows: first.rows, decoded: first.decoded });
    for (let next = await rest.next(); !next.done; next = await rest.next()) {
      received += next.value.length;
      charge?.(principal, next.value.length, received);
      const fd = readFlightData(next.value);
      const message = next.value;
      // The buffer goes back to the transport once the file has taken it (writes run behind the reading).
      if (fd.kind) await upload.write({ header: fd.header, body: fd.body, kind: fd.kind, rows: fd.rows, decoded: fd.decoded }, () => call.release(message));
      else call.release(message);
    }
    call.signal.throwIfAborted();
    const result = await upload.commit();
    outcome = 'ok';
    await answer(result, upload.rowsWritten);
  } catch (err) {
    await upload.abort();
    throw err;
  } finally {
    deps.access.recordDataAccess?.({ rpc: 'DoPut', principal, peer: call.peer, dataset, mode, rows: upload.rowsWritten, bytes: upload.bytesWritten, outcome });
  }
}
