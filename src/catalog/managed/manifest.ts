/**
 * The manifest of a managed (uploaded) dataset: its schema and the segment files that hold its
 * batches. Replacing the manifest file by rename is the single atomic step of every commit.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export interface Segment {
  readonly file: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface Manifest {
  readonly version: 1;
  /** The schema message header, base64. */
  readonly schema: string;
  readonly segments: readonly Segment[];
  readonly updatedAt: string;
}

export const MANIFEST = 'manifest.json';

export async function readManifest(dir: string): Promise<Manifest> {
  const parsed = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as Manifest;
  if (parsed.version !== 1 || typeof parsed.schema !== 'string' || !Array.isArray(parsed.segments)) {
    throw new Error(`unsupported manifest in ${dir}`);
  }
  return parsed;
}

/** Writes the manifest durably: a temporary file, fsync, then rename over the old one. */
export async function writeManifest(dir: string, manifest: Manifest, durable: boolean): Promise<void> {
  const tmp = join(dir, `${MANIFEST}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(manifest, null, 2));
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, MANIFEST));
  if (durable) {
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  }
}
