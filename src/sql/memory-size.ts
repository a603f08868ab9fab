/**
 * Sizes as DuckDB reads them (`2GB`, `512MiB`, `75%`), in bytes: decimal units are powers of
 * 1000, binary ones of 1024, and a share is of the machine's physical memory.
 */
import { totalmem } from 'node:os';

const UNITS: Record<string, number> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
};

export function memorySizeBytes(size: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib|%)$/i.exec(size.trim());
  if (!m) throw new Error(`expected a size such as 2GB or 512MiB, or a share such as 50%: ${size}`);
  const n = Number(m[1]);
  const unit = m[2]!.toLowerCase();
  return Math.floor(unit === '%' ? (n / 100) * totalmem() : n * UNITS[unit]!);
}

/**
 * The default memory ceiling: the engine's limit twice over (its buffer pool, and as much again
 * for what DuckDB allocates outside it: string heaps, results), plus 1 GB for the server itself,
 * and never past 90 % of the machine's memory (the ceiling is there to act before the kernel does).
 */
export function defaultMemoryCeiling(memoryLimit: string): number {
  return Math.min(2 * memorySizeBytes(memoryLimit) + 1e9, Math.floor(0.9 * totalmem()));
}
