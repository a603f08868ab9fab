/**
 * A dataset backed by a file the server does not own: the file can vanish at any moment.
 * A missing file is the caller's NOT_FOUND, not the server's INTERNAL error.
 */
import type { Schema } from 'apache-arrow';
import { notFound } from '../core/errors.js';
import type { IpcMessage } from '../ipc/message.js';
import type { Dataset, DatasetStats, FileLayout, MessageOptions } from './dataset.js';

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

export class FileDataset implements Dataset {
  constructor(
    private readonly inner: Dataset,
    readonly path: string,
    /** Told when a read finds the file gone (the data directory then forgets it at once). */
    private readonly onGone: (dataset: FileDataset) => void = () => {},
  ) {}

  get name(): string {
    return this.inner.name;
  }
  get kind(): string {
    return this.inner.kind;
  }
  get writable(): boolean {
    return this.inner.writable;
  }

  private gone(): Error {
    this.onGone(this);
    return notFound(`dataset "${this.name}" not found (its file was removed)`);
  }

  async schema(): Promise<Schema> {
    try {
      return await this.inner.schema();
    } catch (err) {
      throw isMissing(err) ? this.gone() : err;
    }
  }

  async stats(): Promise<DatasetStats> {
    try {
      return await this.inner.stats();
    } catch (err) {
      throw isMissing(err) ? this.gone() : err;
    }
  }

  async fileLayout(): Promise<FileLayout | undefined> {
    try {
      return await this.inner.fileLayout?.();
    } catch (err) {
      throw isMissing(err) ? this.gone() : err;
    }
  }

  async *messages(options?: MessageOptions): AsyncGenerator<IpcMessage> {
    try {
      yield* this.inner.messages(options);
    } catch (err) {
      throw isMissing(err) ? this.gone() : err;
    }
  }
}
