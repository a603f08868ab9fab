/**
 * The Arrow Flight protocol messages (Flight.proto, package arrow.flight.protocol), with our own
 * encoders and decoders. Field numbers follow the specification; unknown fields are skipped so
 * newer clients stay compatible.
 */
import { intField, lenField, ProtoWriter, readFields, strField, WireType } from './wire.js';

export const DescriptorType = { UNKNOWN: 0, PATH: 1, CMD: 2 } as const;

export interface FlightDescriptor {
  type: number;
  cmd: Uint8Array;
  path: string[];
}
export interface Timestamp {
  seconds: number;
  nanos: number;
}
export interface Location {
  uri: string;
}
export interface FlightEndpoint {
  ticket: Uint8Array;
  locations: Location[];
  expirationTime?: Timestamp;
  appMetadata: Uint8Array;
}
export interface FlightInfo {
  schema: Uint8Array;
  descriptor?: FlightDescriptor;
  endpoints: FlightEndpoint[];
  totalRecords: number;
  totalBytes: number;
  ordered: boolean;
  appMetadata: Uint8Array;
}
export interface PollInfo {
  info?: FlightInfo;
  descriptor?: FlightDescriptor;
  progress?: number;
  expirationTime?: Timestamp;
}
export interface HandshakeMessage {
  protocolVersion: number;
  payload: Uint8Array;
}
export interface BasicAuth {
  username: string;
  password: string;
}
export interface Action {
  type: string;
  body: Uint8Array;
}
export interface ActionType {
  type: string;
  description: string;
}
export interface FlightDataMessage {
  descriptor?: FlightDescriptor;
  dataHeader: Uint8Array;
  appMetadata: Uint8Array;
  dataBody: Uint8Array;
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** Iterates the fields of a message, handing each to `onField`; it must consume the value or return false. */
// ---- FlightDescriptor ----
export function encodeDescriptor(d: FlightDescriptor): Uint8Array {
  const w = new ProtoWriter();
  w.uint(1, d.type).bytes(2, d.cmd);
  for (const p of d.path) w.string(3, p, true);
  return w.finish();
}
export function decodeDescriptor(buf: Uint8Array): FlightDescriptor {
  const d: FlightDescriptor = { type: 0, cmd: EMPTY, path: [] };
  readFields(buf, 'FlightDescriptor', (r, f, w) => {
    if (f === 1) d.type = intField(r, w, f);
    else if (f === 2) d.cmd = lenField(r, w, f);
    else if (f === 3) d.path.push(strField(r, w, f));
    else return false;
    return true;
  });
  return d;
}

// ---- Timestamp (google.protobuf.Timestamp) ----
export function encodeTimestamp(t: Timestamp): Uint8Array {
  return new ProtoWriter(16).uint(1, t.seconds).uint(2, t.nanos).finish();
}
export function decodeTimestamp(buf: Uint8Array): Timestamp {
  const t: Timestamp = { seconds: 0, nanos: 0 };
  readFields(buf, 'Timestamp', (r, f, w) => {
    if (f === 1) t.seconds = intField(r, w, f);
    else if (f === 2) t.nanos = intField(r, w, f);
    else return false;
    return true;
  });
  return t;
}
export const timestampFromDate = (d: Date): Timestamp => {
  const ms = d.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
};
export const dateFromTimestamp = (t: Timestamp): Date => new Date(t.seconds * 1000 + Math.floor(t.nanos / 1e6));

// ---- Ticket, Location, Criteria, Empty, SchemaResult, Result, PutResult: one bytes/string field ----
export function encodeSingleBytes(value: Uint8Array): Uint8Array {
  return new ProtoWriter(value.length + 8).bytes(1, value).finish();
}
export function decodeSingleBytes(buf: Uint8Array, what: string): Uint8Array {
  let out: Uint8Array = EMPTY;
  readFields(buf, what, (r, f, w) => {
    if (f !== 1) return false;
    out = lenField(r, w, f);
    return true;
  });
  return out;
}
export const encodeTicket = encodeSingleBytes;
export const decodeTicket = (buf: Uint8Array): Uint8Array => decodeSingleBytes(buf, 'Ticket');

// ---- FlightEndpoint ----
export function encodeEndpoint(e: FlightEndpoint): Uint8Array {
  const w = new ProtoWriter();
  w.message(1, encodeTicket(e.ticket));
  for (const l of e.locations) w.message(2, new ProtoWriter().string(1, l.uri).finish());
  if (e.expirationTime) w.message(3, encodeTimestamp(e.expirationTime));
  w.bytes(4, e.appMetadata);
  return w.finish();
}
export function decodeEndpoint(buf: Uint8Array): FlightEndpoint {
  const e: FlightEndpoint = { ticket: EMPTY, locations: [], appMetadata: EMPTY };
  readFields(buf, 'FlightEndpoint', (r, f, w) => {
    if (f === 1) e.ticket = decodeTicket(lenField(r, w, f));
    else if (f === 2) {
      let uri = '';
      readFields(lenField(r, w, f), 'Location', (r2, f2, w2) => {
        if (f2 !== 1) return false;
        uri = strField(r2, w2, f2);
        return true;
      });
      e.locations.push({ uri });
    } else if (f === 3) e.expirationTime = decodeTimestamp(lenField(r, w, f));
    else if (f === 4) e.appMetadata = lenField(r, w, f);
    else return false;
    return true;
  });
  return e;
}

// ---- FlightInfo ----
export function encodeFlightInfo(i: FlightInfo): Uint8Array {
  const w = new ProtoWriter(256 + i.schema.length);
  w.bytes(1, i.schema);
  if (i.descriptor) w.message(2, encodeDescriptor(i.descriptor));
  for (const e of i.endpoints) w.message(3, encodeEndpoint(e));
  w.uint(4, i.totalRecords).uint(5, i.totalBytes).bool(6, i.ordered).bytes(7, i.appMetadata);
  return w.finish();
}
export function decodeFlightInfo(buf: Uint8Array): FlightInfo {
  const i: FlightInfo = { schema: EMPTY, endpoints: [], totalRecords: 0, totalBytes: 0, ordered: false, appMetadata: EMPTY };
  readFields(buf, 'FlightInfo', (r, f, w) => {
    if (f === 1) i.schema = lenField(r, w, f);
    else if (f === 2) i.descriptor = decodeDescriptor(lenField(r, w, f));
    else if (f === 3) i.endpoints.push(decodeEndpoint(lenField(r, w, f)));
    else if (f === 4) i.totalRecords = intField(r, w, f);
    else if (f === 5) i.totalBytes = intField(r, w, f);
    else if (f === 6) i.ordered = intField(r, w, f) !== 0;
    else if (f === 7) i.appMetadata = lenField(r, w, f);
    else return false;
    return true;
  });
  return i;
}

// ---- PollInfo ----
export function encodePollInfo(p: PollInfo): Uint8Array {
  const w = new ProtoWriter();
  if (p.info) w.message(1, encodeFlightInfo(p.info));
  if (p.descriptor) w.message(2, encodeDescriptor(p.descriptor));
  if (p.progress !== undefined) w.double(3, p.progress);
  if (p.expirationTime) w.message(4, encodeTimestamp(p.expirationTime));
  return w.finish();
}
export function decodePollInfo(buf: Uint8Array): PollInfo {
  const p: PollInfo = {};
  readFields(buf, 'PollInfo', (r, f, w) => {
    if (f === 1) p.info = decodeFlightInfo(lenField(r, w, f));
    else if (f === 2) p.descriptor = decodeDescriptor(lenField(r, w, f));
    else if (f === 3) {
      r.expect(w, WireType.I64, f);
      p.progress = r.double();
    } else if (f === 4) p.expirationTime = decodeTimestamp(lenField(r, w, f));
    else return false;
    return true;
  });
  return p;
}

// ---- HandshakeRequest / HandshakeResponse (same layout) ----
export function encodeHandshake(h: HandshakeMessage): Uint8Array {
  return new ProtoWriter(h.payload.length + 16).uint(1, h.protocolVersion).bytes(2, h.payload).finish();
}
export function decodeHandshake(buf: Uint8Array): HandshakeMessage {
  const h: HandshakeMessage = { protocolVersion: 0, payload: EMPTY };
  readFields(buf, 'HandshakeRequest', (r, f, w) => {
    if (f === 1) h.protocolVersion = intField(r, w, f);
    else if (f === 2) h.payload = lenField(r, w, f);
    else return false;
    return true;
  });
  return h;
}

// ---- BasicAuth (username = 2, password = 3) ----
export function encodeBasicAuth(b: BasicAuth): Uint8Array {
  return new ProtoWriter().string(2, b.username).string(3, b.password).finish();
}
export function decodeBasicAuth(buf: Uint8Array): BasicAuth {
  const b: BasicAuth = { username: '', password: '' };
  readFields(buf, 'BasicAuth', (r, f, w) => {
    if (f === 2) b.username = strField(r, w, f);
    else if (f === 3) b.password = strField(r, w, f);
    else return false;
    return true;
  });
  return b;
}

// ---- Action / ActionType ----
export function encodeAction(a: Action): Uint8Array {
  return new ProtoWriter(a.body.length + 32).string(1, a.type).bytes(2, a.body).finish();
}
export function decodeAction(buf: Uint8Array): Action {
  const a: Action = { type: '', body: EMPTY };
  readFields(buf, 'Action', (r, f, w) => {
    if (f === 1) a.type = strField(r, w, f);
    else if (f === 2) a.body = lenField(r, w, f);
    else return false;
    return true;
  });
  return a;
}
export function encodeActionType(a: ActionType): Uint8Array {
  return new ProtoWriter().string(1, a.type).string(2, a.description).finish();
}
export function decodeActionType(buf: Uint8Array): ActionType {
  const a: ActionType = { type: '', description: '' };
  readFields(buf, 'ActionType', (r, f, w) => {
    if (f === 1) a.type = strField(r, w, f);
    else if (f === 2) a.description = strField(r, w, f);
    else return false;
    return true;
  });
  return a;
}

// ---- CancelFlightInfoRequest / Result, RenewFlightEndpointRequest ----
export const CancelStatus = { UNSPECIFIED: 0, CANCELLED: 1, CANCELLING: 2, NOT_CANCELLABLE: 3 } as const;
export function encodeCancelFlightInfoRequest(info: FlightInfo): Uint8Array {
  return new ProtoWriter().message(1, encodeFlightInfo(info)).finish();
}
export function decodeCancelFlightInfoRequest(buf: Uint8Array): FlightInfo | undefined {
  let info: FlightInfo | undefined;
  readFields(buf, 'CancelFlightInfoRequest', (r, f, w) => {
    if (f !== 1) return false;
    info = decodeFlightInfo(lenField(r, w, f));
    return true;
  });
  return info;
}
export function encodeCancelFlightInfoResult(status: number): Uint8Array {
  return new ProtoWriter().uint(1, status).finish();
}
export function decodeCancelFlightInfoResult(buf: Uint8Array): number {
  let status = 0;
  readFields(buf, 'CancelFlightInfoResult', (r, f, w) => {
    if (f !== 1) return false;
    status = intField(r, w, f);
    return true;
  });
  return status;
}
export function encodeRenewFlightEndpointRequest(e: FlightEndpoint): Uint8Array {
  return new ProtoWriter().message(1, encodeEndpoint(e)).finish();
}
export function decodeRenewFlightEndpointRequest(buf: Uint8Array): FlightEndpoint | undefined {
  let e: FlightEndpoint | undefined;
  readFields(buf, 'RenewFlightEndpointRequest', (r, f, w) => {
    if (f !== 1) return false;
    e = decodeEndpoint(lenField(r, w, f));
    return true;
  });
  return e;
}

// ---- FlightData ----
/** Decodes FlightData without copying: header, metadata and body are views into `buf`. */
export function decodeFlightData(buf: Uint8Array): FlightDataMessage {
  const d: FlightDataMessage = { dataHeader: EMPTY, appMetadata: EMPTY, dataBody: EMPTY };
  readFields(buf, 'FlightData', (r, f, w) => {
    if (f === 1) d.descriptor = decodeDescriptor(lenField(r, w, f));
    else if (f === 2) d.dataHeader = lenField(r, w, f);
    else if (f === 3) d.appMetadata = lenField(r, w, f);
    else if (f === 1000) d.dataBody = lenField(r, w, f);
    else return false;
    return true;
  });
  return d;
}

// ---- CloseSessionResult (status = 1) ----
export const CloseSessionStatus = { UNSPECIFIED: 0, CLOSED: 1, CLOSING: 2, NOT_CLOSEABLE: 3 } as const;
export function encodeCloseSessionResult(status: number): Uint8Array {
  return new ProtoWriter().uint(1, status).finish();
}
