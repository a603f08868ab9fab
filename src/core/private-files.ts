/**
 * Files the server writes (the registry with password hashes and keys, uploaded data, audit
 * lines) are for the server's user alone. New files get that from the process umask; files that
 * already exist with wider modes are reported, not changed: an operator may have a reason.
 */
import { statSync } from 'node:fs';

/** Makes every file and directory this process creates from now on private to its user (0600 / 0700). */
export function restrictNewFiles(): void {
  process.umask(0o077);
}

/** The paths among `paths` that exist and that other users may read, write or enter, with their modes. */
export function looseModes(paths: readonly string[]): { path: string; mode: string }[] {
  const out: { path: string; mode: string }[] = [];
  for (const path of paths) {
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      continue;
    }
    if (mode & 0o077) out.push({ path, mode: `0${mode.toString(8)}` });
  }
  return out;
}
