/** Picks the file reader for a path (by extension) or a declared format. */
import { extname } from 'node:path';
import type { DatasetSource } from './dataset.js';

export function sourceFor(sources: readonly DatasetSource[], path: string, format?: string): DatasetSource | undefined {
  const ext = format ? `.${format.replace(/^\./, '').toLowerCase()}` : extname(path).toLowerCase();
  return sources.find((s) => s.extensions.includes(ext));
}
