/** Every file format the catalog reads; a new format is one more entry here. */
import type { DatasetSource } from '../dataset.js';
import { arrowSource } from './arrow-ipc.js';
import { csvSource } from './csv.js';
import { parquetSource } from './parquet.js';

export const fileSources: readonly DatasetSource[] = [arrowSource, parquetSource, csvSource];
