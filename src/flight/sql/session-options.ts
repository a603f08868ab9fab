/**
 * Flight session options (Flight.proto SetSessionOptions / GetSessionOptions): the messages, and
 * the options flightgate keeps per caller. The JDBC driver sends its `catalog` property this way;
 * `catalog` and `schema` must name what the caller's SQL sees (see flight/sql/layout.ts).
 */
import { invalidArgument } from '../../core/errors.js';
import { lenField, ProtoReader, ProtoWriter, readFields, strField, WireType } from '../proto/wire.js';

export type SessionOptionValue =
  | { kind: 'string'; value: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'int64'; value: bigint }
  | { kind: 'double'; value: number }
  | { kind: 'stringList'; value: string[] }
  | { kind: 'unset' };

/** SetSessionOptionsResult.ErrorValue */
export const SessionOptionError = { UNSPECIFIED: 0, INVALID_NAME: 1, INVALID_VALUE: 2, ERROR: 3 } as const;

const MAX_OPTIONS = 64;

function decodeValue(buf: Uint8Array): SessionOptionValue {
  let v: SessionOptionValue = { kind: 'unset' };
  readFields(buf, 'SessionOptionValue', (r, f, w) => {
    if (f === 1) v = { kind: 'string', value: strField(r, w, f) };
    else if (f === 2) {
      r.expect(w, WireType.VARINT, f);
      v = { kind: 'bool', value: r.varint() !== 0 };
    } else if (f === 3) {
      r.expect(w, WireType.I64, f);
      v = { kind: 'int64', value: readFixed64(r) };
    } else if (f === 4) {
      r.expect(w, WireType.I64, f);
      const at = r.pos;
      r.pos += 8;
      if (r.pos > r.end) r.fail('truncated double');
      v = { kind: 'double', value: new DataView(r.buf.buffer, r.buf.byteOffset + at, 8).getFloat64(0, true) };
    } else if (f === 5) {
      const values: string[] = [];
      readFields(lenField(r, w, f), 'StringListValue', (rr, ff, ww) => {
        if (ff !== 1) return false;
        values.push(strField(rr, ww, ff));
        return true;
      });
      v = { kind: 'stringList', value: values };
    } else return false;
    return true;
  });
  return v;
}

function readFixed64(r: ProtoReader): bigint {
  if (r.pos + 8 > r.end) r.fail('truncated sfixed64');
  const value = new DataView(r.buf.buffer, r.buf.byteOffset + r.pos, 8).getBigInt64(0, true);
  r.pos += 8;
  return value;
}

function encodeValue(v: SessionOptionValue): Uint8Array {
  const w = new ProtoWriter();
  switch (v.kind) {
    case 'string':
      return w.string(1, v.value, true).finish();
    case 'bool':
      return w.presentVarint(2, v.value ? 1 : 0).finish();
    case 'double':
      return w.double(4, v.value).finish();
    case 'stringList': {
      const list = new ProtoWriter();
      for (const s of v.value) list.string(1, s, true);
      return w.message(5, list.finish()).finish();
    }
    case 'int64': {
      const bytes = new Uint8Array(9);
      bytes[0] = (3 << 3) | WireType.I64;
      new DataView(bytes.buffer).setBigInt64(1, v.value, true);
      return bytes;
    }
    default:
      return w.finish();
  }
}

/** A map<string, V> field: entries with key = 1, value = 2. */
function decodeMap<V>(buf: Uint8Array, what: string, value: (b: Uint8Array) => V): Map<string, V> {
  const out = new Map<string, V>();
  readFields(buf, what, (r, f, w) => {
    if (f !== 1) return false;
    let key = '';
    let v: V = value(new Uint8Array(0));
    readFields(lenField(r, w, f), `${what} entry`, (rr, ff, ww) => {
      if (ff === 1) key = strField(rr, ww, ff);
      else if (ff === 2) v = value(lenField(rr, ww, ff));
      else return false;
      return true;
    });
    if (out.size >= MAX_OPTIONS) throw invalidArgument(`${what} holds more than ${MAX_OPTIONS} options`);
    out.set(key, v);
    return true;
  });
  return out;
}

function encodeMap<V>(entries: Iterable<[string, V]>, value: (v: V) => Uint8Array): Uint8Array {
  const w = new ProtoWriter();
  for (const [k, v] of entries) w.message(1, new ProtoWriter().string(1, k, true).message(2, value(v)).finish());
  return w.finish();
}

export const decodeSetSessionOptionsRequest = (buf: Uint8Array): Map<string, SessionOptionValue> => decodeMap(buf, 'SetSessionOptionsRequest', decodeValue);
export const encodeSetSessionOptionsRequest = (options: Iterable<[string, SessionOptionValue]>): Uint8Array => encodeMap(options, encodeValue);

/** SetSessionOptionsResult: errors = map<string, Error{ value = 1 }>. */
export const encodeSetSessionOptionsResult = (errors: Iterable<[string, number]>): Uint8Array =>
  encodeMap(errors, (code) => new ProtoWriter().uint(1, code).finish());
export function decodeSetSessionOptionsResult(buf: Uint8Array): Map<string, number> {
  return decodeMap(buf, 'SetSessionOptionsResult', (b) => {
    let code = 0;
    readFields(b, 'SetSessionOptionsResult.Error', (r, f, w) => {
      if (f !== 1) return false;
      r.expect(w, WireType.VARINT, f);
      code = r.varint();
      return true;
    });
    return code;
  });
}

export const encodeGetSessionOptionsResult = (options: Iterable<[string, SessionOptionValue]>): Uint8Array => encodeMap(options, encodeValue);
export const decodeGetSessionOptionsResult = (buf: Uint8Array): Map<string, SessionOptionValue> => decodeMap(buf, 'GetSessionOptionsResult', decodeValue);

/** What a caller has set, by caller (session, or principal when the token has no session). */
export class SessionOptionsStore {
  private readonly byCaller = new Map<string, Map<string, SessionOptionValue>>();

  constructor(private readonly maxCallers = 100_000) {}

  get(caller: string): ReadonlyMap<string, SessionOptionValue> {
    return this.byCaller.get(caller) ?? new Map();
  }

  set(caller: string, name: string, value: SessionOptionValue): void {
    let m = this.byCaller.get(caller);
    if (!m) {
      // Oldest first out: a flood of new callers cannot grow this without bound.
      if (this.byCaller.size >= this.maxCallers) this.byCaller.delete(this.byCaller.keys().next().value!);
      m = new Map();
      this.byCaller.set(caller, m);
    }
    if (value.kind === 'unset') m.delete(name);
    else m.set(name, value);
  }

  clear(caller: string): void {
    this.byCaller.delete(caller);
  }
}
