/**
 * Indexes a dataset's IPC files into a FileLayout: every record batch read once, validated
 * against the schema (the same checks as an upload), and located by file and offset. Batches
 * that are compressed or use dictionaries leave the dataset without a layout.
 */
import type { Schema } from 'apache-arrow';
import { BatchValidator } from '../ipc/batch-validation.js';
import { readIpcMessages } from '../ipc/file-reader.js';
import type { FileBatch, FileLayout } from './dataset.js';

interface BatchHeader {
  nodes: { length: number | bigint; nullCount: number | bigint }[];
  buffers: { offset: number | bigint; length: number | bigint }[];
  compression?: unknown;
}

export async function indexIpcFiles(schema: Schema, files: readonly string[]): Promise<FileLayout | undefined> {
  const validator = new BatchValidator(schema);
  const batches: FileBatch[] = [];
  for (const [file, path] of files.entries()) {
    for await (const m of readIpcMessages(path)) {
      if (m.summary.kind === 'schema') continue;
      if (m.summary.kind === 'dictionary') return undefined;
      const header = m.summary.decoded.header() as BatchHeader;
      if (header.compression) return undefined;
      validator.recordBatch(m.summary.decoded, m.body);
      const nodes = new Float64Array(header.nodes.length * 2);
      header.nodes.forEach((n, i) => {
        nodes[2 * i] = Number(n.length);
        nodes[2 * i + 1] = Number(n.nullCount);
      });
      const buffers = new Float64Array(header.buffers.length * 2);
      header.buffers.forEach((b, i) => {
        buffers[2 * i] = Number(b.offset);
        buffers[2 * i + 1] = Number(b.length);
      });
      batches.push({ file, bodyOffset: m.bodyOffset, bodyLength: m.body.length, rows: m.summary.rows, nodes, buffers });
    }
  }
  return { files, batches };
}
