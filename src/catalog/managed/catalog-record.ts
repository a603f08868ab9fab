/**
 * The catalog of record: where the manifests of managed datasets are kept, and the one place a
 * commit becomes visible. Embedded, it is the manifest file in each dataset's directory; shared by
 * replicas, it is a table in PostgreSQL (catalog/shared/). The segment files always live in the
 * data directory, which replicas share.
 */
import type { Manifest } from './manifest.js';

/** A dataset as the record holds it; `revision` grows with every change of any dataset (0 when the record has no such order). */
export interface RecordedDataset {
  readonly name: string;
  readonly revision: number;
  /** Undefined once the dataset was dropped. */
  readonly manifest: Manifest | undefined;
}

/** What a change makes of a dataset. */
export interface ChangePlan {
  /** The new manifest; undefined drops the dataset. */
  readonly manifest: Manifest | undefined;
  /** Segment files (in the dataset's directory) that the new version no longer references. */
  readonly retired: readonly string[];
  /** Called when the record knows for certain that the change did not land (not when the outcome is unknown). */
  readonly undo?: () => Promise<void>;
}

export interface CatalogRecord {
  /** True when other processes share the record (and so the segment files). */
  readonly shared: boolean;
  /** Every dataset that exists now; what cannot be read is skipped with a warning. */
  loadAll(onWarning?: (message: string) => void): Promise<RecordedDataset[]>;
  /** One dataset as committed now (its manifest undefined when it does not exist). */
  read(name: string): Promise<RecordedDataset>;
  /**
   * Runs `plan` with the dataset as it is now, holding the dataset's lock (across every process
   * sharing the record), and records what it returns. Retired files are deleted once no reader
   * can still need them. `writer` is the tag the change's new files were named with: a shared
   * record refuses the change when that writer has been declared gone meanwhile (its files may
   * have been cleaned up as leftovers).
   */
  change(name: string, plan: (current: RecordedDataset) => Promise<ChangePlan>, writer?: string): Promise<RecordedDataset>;
  /** Tells `listener` a dataset another process changed (undefined: any may have; read them all). */
  watch(listener: (name: string | undefined) => void): void;
  /** The tag for the names of files this process writes now, so that leftovers can be told from live files. */
  writerTag(): string;
  close(): Promise<void>;
}
