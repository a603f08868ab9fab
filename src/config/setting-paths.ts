/**
 * Every setting of the schema as a path with the kind of value it takes, read from the zod
 * schema itself, so environment variables and checks never fall behind a new setting.
 */
import type { z } from 'zod';

export type SettingKind = 'string' | 'number' | 'boolean' | 'json';

export interface Setting {
  /** Dotted path, e.g. `limits.callsPerSecond`. */
  readonly path: string;
  readonly kind: SettingKind;
  /** The environment variable that sets it: FLIGHTGATE_ and the path in upper snake case. */
  readonly env: string;
}

interface SchemaNode {
  _zod: { def: { type: string; innerType?: SchemaNode; shape?: Record<string, SchemaNode> } };
}

const snake = (segment: string): string => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

function walk(node: SchemaNode, path: string[], out: Setting[]): void {
  const def = node._zod.def;
  if (def.innerType) return walk(def.innerType, path, out);
  if (def.type === 'object' && def.shape) {
    for (const [k, v] of Object.entries(def.shape)) walk(v, [...path, k], out);
    return;
  }
  const kind: SettingKind = def.type === 'number' ? 'number' : def.type === 'boolean' ? 'boolean' : def.type === 'string' || def.type === 'enum' ? 'string' : 'json';
  out.push({ path: path.join('.'), kind, env: `FLIGHTGATE_${path.map(snake).join('_')}` });
}

export function settingsOf(schema: z.ZodType): Setting[] {
  const out: Setting[] = [];
  walk(schema as unknown as SchemaNode, [], out);
  return out;
}
