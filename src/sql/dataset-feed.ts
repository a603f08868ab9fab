/**
 * Feeds the engine's scans: when DuckDB starts scanning a table, the binding asks for its data,
 * and this reads the dataset's IPC messages (from a file, an upload or a provider), validates
 * each batch against the schema, decompresses it if needed and hands its body to the scan, at
 * most a few batches ahead of what DuckDB has taken, so memory stays bounded whatever the size.
 */
import type { Schema } from 'apache-arrow';
import type { Dataset } from '../catalog/dataset.js';
import { sameColumns } from '../catalog/schema-equality.js';
import { BatchValidator } from '../ipc/batch-validation.js';
import { decompressBody } from '../ipc/body-decompression.js';
import { summarize } from '../ipc/message.js';
import { PUSH_CLOSED, PUSH_FULL, SCAN_DRAIN, SCAN_START, SCAN_STOP, type DatabaseHandle, type NativeDuckDB } from './native.js';

/** What a source key stands for: a dataset and the schema its views were made with. */
export interface FeedSource {
  readonly dataset: Dataset;
  readonly schema: Schema;
}

interface RunningFeed {
  readonly abort: AbortController;
  /** Resolves the wait for room in the scan's queue. */
  wake?: () => void;
  /** A drain came while nothing waited. */
  drained: boolean;
}

interface RecordBatchLike {
  nodes: { length: number | bigint; nullCount: number | bigint }[];
  buffers: { offset: number | bigint; length: number | bigint }[];
  compression?: { type: number } | null;
}

export class ScanFeeds {
  private readonly running = new Map<number, RunningFeed>();
  private db: DatabaseHandle | undefined;

  constructor(
    private readonly native: NativeDuckDB,
    private readonly source: (key: string) => FeedSource | undefined,
    private readonly onError: (err: unknown) => void,
  ) {}

  attach(db: DatabaseHandle): void {
    this.db = db;
  }

  /** The binding's scan events (see native.ts). */
  readonly onEvent = (kind: number, scanId: number, key: string | undefined): void => {
    if (kind === SCAN_START) {
      void this.feed(scanId, key ?? '');
      return;
    }
    const feed = this.running.get(scanId);
    if (!feed) return;
    if (kind === SCAN_STOP) feed.abort.abort();
    if (kind === SCAN_DRAIN || kind === SCAN_STOP) {
      if (feed.wake) feed.wake();
      else feed.drained = true;
      feed.wake = undefined;
    }
  };

  /** Scans still being fed (for tests and shutdown). */
  get active(): number {
    return this.running.size;
  }

  stopAll(): void {
    for (const f of this.running.values()) {
      f.abort.abort();
      f.wake?.();
    }
  }

  private async feed(scanId: number, key: string): Promise<void> {
    const db = this.db!;
    const feed: RunningFeed = { abort: new AbortController(), drained: false };
    this.running.set(scanId, feed);
    try {
      const src = this.source(key);
      if (!src) throw new Error('the table is no longer available');
      const current = await src.dataset.schema();
      if (!sameColumns(current, src.schema)) throw new Error(`the columns of "${src.dataset.name}" changed while the query was planned; run it again`);
      const validator = new BatchValidator(current);
      for await (const m of src.dataset.messages({ signal: feed.abort.signal })) {
        const s = summarize(m.header);
        if (s.kind === 'schema') continue;
        let status: number;
        if (s.kind === 'dictionary') {
          const header = s.decoded.header() as { id: number | bigint; isDelta: boolean; data: RecordBatchLike & { length: number | bigint } };
          if (header.isDelta) throw new Error(`"${src.dataset.name}" extends a dictionary with a delta batch, which SQL cannot read yet`);
          validator.dictionary(s.decoded, m.body);
          const { body, nodes, buffers } = layoutOf(header.data, m.body);
          status = this.native.scanPush(db, scanId, Number(header.data.length), nodes, buffers, body, Number(header.id));
        } else {
          validator.recordBatch(s.decoded, m.body);
          const { body, nodes, buffers } = layoutOf(s.decoded.header() as RecordBatchLike, m.body);
          status = this.native.scanPush(db, scanId, s.rows, nodes, buffers, body);
        }
        if (status === PUSH_CLOSED) return;
        if (status === PUSH_FULL) {
          if (feed.drained) feed.drained = false;
          else await new Promise<void>((resolve) => (feed.wake = resolve));
          if (feed.abort.signal.aborted) return;
        }
      }
      this.native.scanEnd(db, scanId);
    } catch (err) {
      if (feed.abort.signal.aborted) return;
      this.onError(err);
      this.native.scanEnd(db, scanId, err instanceof Error ? err.message : 'the table could not be read');
    } finally {
      this.running.delete(scanId);
    }
  }
}

/** Field nodes and buffer regions as (a, b) pairs, over an uncompressed body. */
function layoutOf(header: RecordBatchLike, body: Uint8Array): { body: Uint8Array; nodes: Float64Array; buffers: Float64Array } {
  const nodes = new Float64Array(header.nodes.length * 2);
  header.nodes.forEach((n, i) => {
    nodes[2 * i] = Number(n.length);
    nodes[2 * i + 1] = Number(n.nullCount);
  });
  let regions = header.buffers.map((b) => ({ offset: Number(b.offset), length: Number(b.length) }));
  let plain = body;
  const compression = header.compression;
  if (compression) {
    ({ body: plain, regions } = decompressBody(regions, body, compression.type, 'record batch'));
  }
  const buffers = new Float64Array(regions.length * 2);
  regions.forEach((r, i) => {
    buffers[2 * i] = r.offset;
    buffers[2 * i + 1] = r.length;
  });
  return { body: plain, nodes, buffers };
}
