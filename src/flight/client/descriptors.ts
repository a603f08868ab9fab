/** Flight descriptors as a client writes them: a path, or a command's bytes. */
import { DescriptorType, type FlightDescriptor } from '../proto/messages.js';

export const descriptors = {
  path: (...path: string[]): FlightDescriptor => ({ type: DescriptorType.PATH, cmd: new Uint8Array(0), path }),
  command: (cmd: string | Uint8Array): FlightDescriptor => ({
    type: DescriptorType.CMD,
    cmd: typeof cmd === 'string' ? Buffer.from(cmd) : cmd,
    path: [],
  }),
};

/** A descriptor, a dataset name, or a path given as its parts. */
export type DescriptorInput = FlightDescriptor | string | string[];

export function toDescriptor(d: DescriptorInput): FlightDescriptor {
  if (typeof d === 'string') return descriptors.path(d);
  if (Array.isArray(d)) return descriptors.path(...d);
  return d;
}
