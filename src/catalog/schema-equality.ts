import type { Field, Schema } from 'apache-arrow';

const describeField = (f: Field): string => `${f.name}:${String(f.type)}:${f.nullable ? 'null' : 'notnull'}`;

/** Two schemas hold the same columns: names, types (nested types included) and nullability, in order. */
export function sameColumns(a: Schema, b: Schema): boolean {
  if (a.fields.length !== b.fields.length) return false;
  return a.fields.every((f, i) => describeField(f) === describeField(b.fields[i]!));
}

export function describeSchema(s: Schema): string {
  return s.fields.map((f) => `${f.name}: ${String(f.type)}`).join(', ');
}
