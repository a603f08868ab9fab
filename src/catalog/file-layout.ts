/**
 * Indexes a dataset's IPC files into a FileLayout: every record batch read once, validated
 * against the schema (the same checks as an upload), and located by file and offset, with each
 * file's dictionaries. Compressed batches, and dictionaries replaced or extended within a file
 * (delta batches), leave the dataset without a layout.
 */
import type { Schema } from 'apache-arrow';
import { BatchValidator } from '../ipc/batch-validation.js';
import { readIpcMessages } from '../ipc/file-reader.js';
import type { FileBatch, FileDictionary, FileLayout } from './dataset.js';

interface BatchHeader {
  length: number | bigint;
  nodes: { length: number | bigint; nullCount: number | bigint }[];
  buffers: { offset: number | bigint; length: number | bigint }[];
  compression?: unknown;
}

interface DictionaryHeader {
  id: number | bigint;
  isDelta: boolean;
  data: BatchHeader;
}

function pairs(header: BatchHeader): { nodes: Float64Array; buffers: Float64Array } {
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
  return { nodes, buffers };
}

export async function indexIpcFiles(schema: Schema, files: readonly string[]): Promise<FileLayout | undefined> {
  const batches: FileBatch[] = [];
  const dictionaries: FileDictionary[] = [];
  for (const [file, path] of files.entries()) {
    // Each file (an upload's segment) is a stream of its own, with its own dictionaries.
    const validator = new BatchValidator(schema);
    const seen = new Set<number>();
    for await (const m of readIpcMessages(path)) {
      if (m.summary.kind === 'schema') continue;
      if (m.summary.kind === 'dictionary') {
        const header = m.summary.decoded.header() as DictionaryHeader;
        const id = Number(header.id);
        if (header.isDelta || seen.has(id) || header.data.compression) return undefined;
        seen.add(id);
        validator.dictionary(m.summary.decoded, m.body);
        dictionaries.push({ id, file, bodyOffset: m.bodyOffset, bodyLength: m.body.length, rows: Number(header.data.length), ...pairs(header.data) });
        continue;
      }
      const header = m.summary.decoded.header() as BatchHeader;
      if (header.compression) return undefined;
      validator.recordBatch(m.summary.decoded, m.body);
      batches.push({ file, bodyOffset: m.bodyOffset, bodyLength: m.body.length, rows: m.summary.rows, ...pairs(header) });
    }
  }
  return { files, batches, dictionaries };
}
