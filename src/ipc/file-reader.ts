/**
 * Reads Arrow IPC messages from a file on disk one at a time, so a file of any size is served
 * with memory bounded by its largest batch. Handles both the IPC file format (ARROW1 magic and
 * footer) and the stream format.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { fileBodies } from './body-cache.js';
import { invalidArgument } from '../core/errors.js';
import { schemaMessage, summarize, type IpcMessage, type MessageSummary } from './message.js';

const MAGIC = Buffer.from('ARROW1');

export interface FileMessage extends IpcMessage {
  readonly summary: MessageSummary;
  /** Where the body starts in the file. */
  readonly bodyOffset: number;
}

async function readExactly(fh: FileHandle, buf: Uint8Array, position: number, what: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw invalidArgument(`${what}: unexpected end of file`);
    done += bytesRead;
  }
}

/** Byte range holding the IPC messages: after the file magic, and before the footer if there is one. */
async function messageRange(fh: FileHandle, size: number): Promise<{ start: number; end: number; footer?: { at: number; length: number } }> {
  if (size < 8) return { start: 0, end: size };
  const head = Buffer.alloc(6);
  await readExactly(fh, head, 0, 'Arrow file');
  if (!head.equals(MAGIC)) return { start: 0, end: size };
  if (size < 18) throw invalidArgument('Arrow IPC file is too short to hold a footer');
  const tail = Buffer.alloc(10);
  await readExactly(fh, tail, size - 10, 'Arrow file');
  if (!tail.subarray(4).equals(MAGIC)) throw invalidArgument('Arrow IPC file has no closing ARROW1 magic (truncated?)');
  const footerLength = tail.readInt32LE(0);
  const end = size - 10 - footerLength;
  if (footerLength <= 0 || end < 8) throw invalidArgument('Arrow IPC file has an invalid footer length');
  return { start: 8, end, footer: { at: end, length: footerLength } };
}

/**
 * The schema message a file's footer holds. Some writers (Arrow JS among them) put the schema in
 * the footer only, not before the first batch: read from there, it comes first all the same.
 */
async function footerSchema(fh: FileHandle, footer: { at: number; length: number }, name: string): Promise<IpcMessage> {
  const bytes = Buffer.alloc(footer.length);
  await readExactly(fh, bytes, footer.at, name);
  try {
    return schemaMessage(Footer.decode(bytes).schema);
  } catch (err) {
    throw invalidArgument(`${name}: the Arrow IPC file's footer holds no readable schema`, err);
  }
}

export interface ReadOptions {
  /** Skip reading bodies (returns empty bodies); used to scan a file's statistics cheaply. */
  headersOnly?: boolean;
  signal?: AbortSignal;
  /** Where message bodies are allocated; lets a consumer recycle them once sent. */
  allocate?: (size: number) => Uint8Array;
  /**
   * Serve bodies from the process's body cache (and keep what is read there while it has room):
   * for readers that only send the bodies on (DoGet). Bodies may then be shared.
   */
  cached?: boolean;
}

/** Yields the messages of an Arrow IPC file or stream at `path`. */
export async function* readIpcMessages(path: string, options: ReadOptions = {}): AsyncGenerator<FileMessage> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    const cacheKey = options.cached && fileBodies.enabled ? fileBodies.version(path, st.size, st.mtimeMs) : undefined;
    yield* readFromHandle(fh, st.size, options, path, cacheKey);
  } finally {
    await fh.close();
  }
}

/** Yields messages from an already open handle (callers that must pin a file before reading it). */
export async function* readFromHandle(
  fh: FileHandle,
  size: number,
  options: ReadOptions,
  name: string,
  /** The file version's key in the body cache, when bodies may come from it. */
  cacheKey?: string,
): AsyncGenerator<FileMessage> {
  const { start, end, footer } = await messageRange(fh, size);
  const prefix = Buffer.alloc(8);
  let pos = start;
  let first = true;
  while (pos + 4 <= end) {
    options.signal?.throwIfAborted();
    const avail = Math.min(8, end - pos);
    await readExactly(fh, prefix.subarray(0, avail), pos, name);
    let len = prefix.readInt32LE(0);
    let headerAt = pos + 4;
    if (len === -1) {
      if (avail < 8) break;
      len = prefix.readInt32LE(4);
      headerAt = pos + 8;
    }
    if (len === 0) break;
    if (len < 0 || headerAt + len > end) throw invalidArgument(`${name}: truncated Arrow IPC message`);
    const header = Buffer.allocUnsafe(len);
    await readExactly(fh, header, headerAt, name);
    const summary = summarize(header);
    if (first && footer && summary.kind !== 'schema') {
      const schema = await footerSchema(fh, footer, name);
      yield { ...schema, summary: summarize(schema.header), bodyOffset: headerAt };
    }
    first = false;
    const bodyAt = headerAt + len;
    if (bodyAt + summary.bodyLength > end) throw invalidArgument(`${name}: truncated Arrow IPC message body`);
    let body: Uint8Array;
    if (options.headersOnly || summary.bodyLength === 0) body = new Uint8Array(0);
    else if (cacheKey !== undefined && fileBodies.get(cacheKey, bodyAt)) body = fileBodies.get(cacheKey, bodyAt)!;
    else if (cacheKey !== undefined && fileBodies.admits(cacheKey, summary.bodyLength)) {
      const kept = Buffer.allocUnsafeSlow(summary.bodyLength);
      await readExactly(fh, kept, bodyAt, name);
      fileBodies.put(cacheKey, bodyAt, kept);
      body = kept;
    } else {
      body = options.allocate ? options.allocate(summary.bodyLength) : Buffer.allocUnsafe(summary.bodyLength);
      await readExactly(fh, body, bodyAt, name);
    }
    yield { header, body, summary, bodyOffset: bodyAt };
    pos = bodyAt + summary.bodyLength;
  }
}
