/** Reading a Dataset back as an Arrow Table, for tests of dataset sources. */
import assert from 'node:assert/strict';
import { tableFromIPC, type Table } from 'apache-arrow';
import type { Dataset } from '../../src/catalog/dataset.js';
import { EOS, framedHeader, type IpcMessage } from '../../src/ipc/message.js';

export async function collect(ds: Dataset): Promise<IpcMessage[]> {
  const out: IpcMessage[] = [];
  for await (const m of ds.messages()) out.push(m);
  return out;
}

/** Reassembles messages into IPC stream bytes and decodes them with Arrow JS. */
export function toTable(messages: IpcMessage[]): Table {
  const parts = messages.flatMap((m) => [framedHeader(m.header), m.body]);
  return tableFromIPC(Buffer.concat([...parts, EOS]));
}

/** A column's values as a plain array (typed arrays would not deep-equal plain ones). */
export function col(t: Table, name: string): unknown[] {
  const v = t.getChild(name);
  assert.ok(v, `no column ${name}`);
  return [...v];
}
