/**
 * What a FlightDescriptor asks for. PATH `[name]` addresses a dataset. CMD carries JSON,
 * `{"dataset": "name", "mode": "create" | "append" | "replace"}`, which is how DoPut is told to
 * append or replace (a PATH upload creates and refuses to overwrite).
 */
import { invalidArgument, unimplemented } from '../core/errors.js';
import { PUT_MODES, type PutMode } from '../catalog/put-mode.js';
import { checkDatasetName } from '../catalog/names.js';
import { DescriptorType, type FlightDescriptor } from './proto/messages.js';

export interface DatasetRequest {
  dataset: string;
  mode: PutMode;
}

const MODES: readonly PutMode[] = PUT_MODES;

export function datasetRequest(d: FlightDescriptor | undefined): DatasetRequest {
  if (!d) throw invalidArgument('missing FlightDescriptor');
  if (d.type === DescriptorType.PATH) {
    if (d.path.length !== 1) {
      throw invalidArgument(`PATH descriptor must have exactly one element, the dataset name (got ${d.path.length})`);
    }
    return { dataset: checkDatasetName(d.path[0]!), mode: 'create' };
  }
  if (d.type === DescriptorType.CMD) {
    const text = Buffer.from(d.cmd).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw unimplemented(
        `unknown command ${JSON.stringify(text.slice(0, 64))}; commands are JSON such as {"dataset": "name", "mode": "append"}`,
      );
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
  throw invalidArgument(`unsupported descriptor type ${d.type}; use PATH [dataset] or a JSON CMD`);
}
