/**
 * Demo data for `serve --demo`: two tiny uploaded datasets (db1, db2) and a generated
 * 10,000,000-row `numbers` file for benchmarks. Created once in the data directory; a later
 * start finds them there.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { FlightgateError } from '../core/errors.js';
import { Status } from '../core/status.js';
import { join } from 'node:path';
import {
  Field,
  Float64,
  Int64,
  makeData,
  RecordBatch,
  RecordBatchStreamWriter,
  Schema,
  Struct,
  Table,
  vectorFromArray,
  makeVector,
  tableToIPC,
  Utf8,
} from 'apache-arrow';
import type { Catalog } from './catalog.js';
import { EOS, framedHeader, schemaMessage, splitIpcStream, summarize } from '../ipc/message.js';

export const NUMBERS_ROWS = 10_000_000;
export const NUMBERS_BATCH_ROWS = 131_072;

async function seedSmall(catalog: Catalog, name: string, ids: number[], names: string[]): Promise<void> {
  if (catalog.uploads.get(name)) return;
  const table = new Table({
    id: makeVector(BigInt64Array.from(ids.map(BigInt))),
    name: vectorFromArray(names, new Utf8()),
  });
  const upload = await catalog.beginUpload(name, 'create');
  try {
    for (const m of splitIpcStream(tableToIPC(table, 'stream'))) {
      const s = summarize(m.header);
      await upload.write({ ...m, kind: s.kind, rows: s.rows, decoded: s.decoded });
    }
    await upload.commit();
  } catch (err) {
    await upload.abort();
    // Replicas sharing a catalog start together: one of them seeds it.
    if (err instanceof FlightgateError && err.status === Status.ALREADY_EXISTS) return;
    throw err;
  }
}

export const numbersSchema = new Schema([
  new Field('id', new Int64(), false),
  new Field('value', new Float64(), false),
  new Field('name', new Utf8(), false),
]);

const NAME_WIDTH = 10;

/** One batch of the numbers dataset: id, a deterministic float and a 10-character name. */
export function numbersBatch(start: number, rows: number): RecordBatch {
  const ids = new BigInt64Array(rows);
  const values = new Float64Array(rows);
  const offsets = new Int32Array(rows + 1);
  const chars = new Uint8Array(rows * NAME_WIDTH);
  for (let i = 0; i < rows; i++) {
    const id = start + i;
    ids[i] = BigInt(id);
    values[i] = ((id * 7919) % 1_000_003) / 1000;
    offsets[i + 1] = (i + 1) * NAME_WIDTH;
    // "n" followed by the id in 9 zero-padded digits.
    let v = id;
    const base = i * NAME_WIDTH;
    chars[base] = 0x6e;
    for (let d = NAME_WIDTH - 1; d >= 1; d--) {
      chars[base + d] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    }
  }
  const children = [
    makeData({ type: new Int64(), length: rows, data: ids }),
    makeData({ type: new Float64(), length: rows, data: values }),
    makeData({ type: new Utf8(), length: rows, valueOffsets: offsets, data: chars }),
  ];
  const data = makeData({ type: new Struct(numbersSchema.fields), length: rows, nullCount: 0, children });
  return new RecordBatch(numbersSchema, data);
}

/** Writes the numbers dataset as an Arrow IPC stream file, unless it is already there. */
export async function ensureNumbersFile(path: string, rows = NUMBERS_ROWS): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch {
    // not there yet: generate it
  }
  // Unique: replicas sharing the directory may generate it at the same moment (the renames then replace like with like).
  const tmp = `${path}.${randomBytes(6).toString('hex')}.partial`;
  const fh = await open(tmp, 'w');
  try {
    await fh.write(framedHeader(schemaMessage(numbersSchema).header));
    for (let start = 0; start < rows; start += NUMBERS_BATCH_ROWS) {
      const batch = numbersBatch(start, Math.min(NUMBERS_BATCH_ROWS, rows - start));
      const bytes = RecordBatchStreamWriter.writeAll([batch]).toUint8Array(true);
      for (const m of splitIpcStream(bytes)) {
        if (summarize(m.header).kind === 'schema') continue;
        await fh.writev([framedHeader(m.header), m.body]);
      }
    }
    await fh.write(EOS);
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  return true;
}

/** Creates the demo datasets that are missing. */
export async function seedDemo(catalog: Catalog, dataDir: string, numbersRows = NUMBERS_ROWS): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  await seedSmall(catalog, 'db1', [1, 2, 3], ['a', 'b', 'c']);
  await seedSmall(catalog, 'db2', [4, 5, 6], ['x', 'y', 'z']);
  await ensureNumbersFile(join(dataDir, 'numbers.arrows'), numbersRows);
}
