/** Versions we report (metrics, Flight SQL's GetSqlInfo): ours, and the Arrow library's. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function versionIn(packageJson: string | URL): string {
  try {
    return (JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export const flightgateVersion = (): string => versionIn(new URL('../../package.json', import.meta.url));

export function arrowLibraryVersion(): string {
  try {
    return versionIn(join(dirname(fileURLToPath(import.meta.resolve('apache-arrow'))), 'package.json'));
  } catch {
    return 'unknown';
  }
}
