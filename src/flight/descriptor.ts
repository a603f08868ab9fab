/**
 * Dataset descriptors. PATH `[name]` addresses a dataset. The JSON command
 * `{"dataset": "name", "mode": "create" | "append" | "replace"}` (one registered CMD command) is
 * how DoPut is told to append or replace (a PATH upload creates and refuses to overwrite).
 */
import { invalidArgument } from '../core/errors.js';
import { PUT_MODES, type PutMode } from '../catalog/put-mode.js';
import { checkDatasetName } from '../catalog/names.js';
import type { FlightDescriptor } from './proto/messages.js';

export interface DatasetRequest {
  dataset: string;
  mode: PutMode;
}

const MODES: readonly PutMode[] = PUT_MODES;

/** The dataset a PATH descriptor names. */
export function datasetOfPath(d: FlightDescriptor): string {
  if (d.path.length !== 1) {
    throw invalidArgument(`PATH descriptor must have exactly one element, the dataset name (got ${d.path.length})`);
  }
  return checkDatasetName(d.path[0]!);
}

/** Whether CMD bytes are (meant as) the JSON dataset command: a JSON object. */
export function isJsonCommand(cmd: Uint8Array): boolean {
  for (const b of cmd) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b; // {
  }
  return false;
}

/** The JSON dataset command: `{"dataset": "name", "mode": "create" | "append" | "replace"}`. */
export function parseDatasetCommand(cmd: Uint8Array): DatasetRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cmd).toString('utf8'));
  } catch {
    throw invalidArgument('the dataset command is not valid JSON; it is {"dataset": "name", "mode": "append"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument('command must be a JSON object such as {"dataset": "name"}');
  }
  const { dataset, mode, ...rest } = parsed as Record<string, unknown>;
  const unknownKeys = Object.keys(rest);
  if (unknownKeys.length) throw invalidArgument(`unknown command field(s): ${unknownKeys.join(', ')}`);
  if (typeof dataset !== 'string') throw invalidArgument('command needs a "dataset" string');
  if (mode !== undefined && !MODES.includes(mode as PutMode)) {
    throw invalidArgument(`"mode" must be one of ${MODES.join(', ')}`);
  }
  return { dataset: checkDatasetName(dataset), mode: (mode as PutMode | undefined) ?? 'create' };
}
