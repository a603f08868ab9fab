/**
 * Message bodies of files kept in memory for DoGet, so a dataset read again is sent from memory
 * (as a server holding its tables would) instead of being copied out of the page cache first.
 * Files are cached whole or in part, by version (path, size, modification time): a changed file
 * is a new key and its old bodies are dropped. Room is made by evicting the least recently read
 * other files; a file larger than the budget keeps the part it got (a scan never evicts itself).
 * Bodies handed out are shared: readers must not change them.
 */
interface CachedFile {
  readonly bodies: Map<number, Buffer>;
  bytes: number;
  lastUsed: number;
}

export class BodyCache {
  private readonly files = new Map<string, CachedFile>();
  /** The version cached per path, to drop a file's old version when a new one is read. */
  private readonly versionOf = new Map<string, string>();
  private bytes = 0;
  private clock = 0;

  constructor(private budget = 0) {}

  /** Sets the budget (bytes); 0 turns the cache off and empties it. */
  configure(budget: number): void {
    this.budget = budget;
    if (budget <= 0) this.clear();
    else this.evictFor('', 0);
  }

  get size(): number {
    return this.bytes;
  }

  get enabled(): boolean {
    return this.budget > 0;
  }

  /** The file key for a version of `path`; reading a new version forgets the old one. */
  version(path: string, size: number, mtimeMs: number): string {
    const key = `${path}\0${size}\0${mtimeMs}`;
    const old = this.versionOf.get(path);
    if (old !== undefined && old !== key) this.drop(old);
    this.versionOf.set(path, key);
    return key;
  }

  get(file: string, offset: number): Buffer | undefined {
    const f = this.files.get(file);
    const b = f?.bodies.get(offset);
    if (f && b) f.lastUsed = ++this.clock;
    return b;
  }

  /** Whether a body of `length` bytes of `file` may be kept (making room if other files can go). */
  admits(file: string, length: number): boolean {
    if (this.budget <= 0 || length > this.budget) return false;
    return this.evictFor(file, length);
  }

  put(file: string, offset: number, body: Buffer): void {
    let f = this.files.get(file);
    if (!f) this.files.set(file, (f = { bodies: new Map(), bytes: 0, lastUsed: ++this.clock }));
    if (f.bodies.has(offset)) return;
    f.bodies.set(offset, body);
    f.bytes += body.length;
    this.bytes += body.length;
  }

  private evictFor(file: string, length: number): boolean {
    while (this.bytes + length > this.budget) {
      let victim: string | undefined;
      let oldest = Infinity;
      for (const [k, f] of this.files) {
        if (k !== file && f.lastUsed < oldest) {
          oldest = f.lastUsed;
          victim = k;
        }
      }
      if (victim === undefined) return false;
      this.drop(victim);
    }
    return true;
  }

  private drop(file: string): void {
    const f = this.files.get(file);
    if (!f) return;
    this.files.delete(file);
    this.bytes -= f.bytes;
  }

  private clear(): void {
    this.files.clear();
    this.versionOf.clear();
    this.bytes = 0;
  }
}

/** The process's cache of file bodies for DoGet (configured by the server from `datasetCacheSize`). */
export const fileBodies = new BodyCache();
