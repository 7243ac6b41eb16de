/**
 * A bounded on-disk LRU cache of verified blobs. A blob enters only after a complete read whose
 * every byte was verified (written to a temporary file, renamed in when the read ends), so a hit
 * is served without touching the nodes. The total size stays ≤ `maxBytes`: least recently used
 * blobs are evicted (unlinking a file being served is safe: its reader keeps the inode).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Options of `BlobCache.open`. */
export interface BlobCacheOptions {
  readonly dir: string;
  /** Total bytes kept (0 disables the cache). */
  readonly maxBytes: number;
}

/** A blob being written into the cache. */
export interface CacheWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Adds the blob (if it is complete: `expectedSize` bytes were written). */
  commit(): Promise<void>;
  /** Drops the partial file. */
  abort(): Promise<void>;
}

const ID = /^[A-Za-z0-9_-]{43}$/;

/** The cache. Entries are files named by blob ID in `dir`. */
export class BlobCache {
  readonly dir: string;
  readonly maxBytes: number;
  /** Blob ID → size, in LRU order (oldest first). */
  private readonly entries = new Map<string, number>();
  private total = 0;

  private constructor(o: BlobCacheOptions) {
    this.dir = o.dir;
    this.maxBytes = o.maxBytes;
  }

  /** Opens (creating) the cache folder; drops leftover partial files; indexes the rest by mtime. */
  static async open(o: BlobCacheOptions): Promise<BlobCache> {
    const cache = new BlobCache(o);
    await mkdir(o.dir, { recursive: true });
    const found: { id: string; size: number; mtime: number }[] = [];
    for (const name of await readdir(o.dir)) {
      const path = join(o.dir, name);
      if (!ID.test(name)) {
        if (name.startsWith('.partial-')) await unlink(path).catch(() => {});
        continue;
      }
      const s = await stat(path);
      found.push({ id: name, size: s.size, mtime: s.mtimeMs });
    }
    for (const f of found.sort((a, b) => a.mtime - b.mtime)) {
      cache.entries.set(f.id, f.size);
      cache.total += f.size;
    }
    await cache.evict();
    return cache;
  }

  /** Bytes held. */
  get size(): number {
    return this.total;
  }

  /** Number of blobs held. */
  get count(): number {
    return this.entries.size;
  }

  /** The file of a cached blob (marking it recently used), or null. */
  lookup(blobId: string): string | null {
    const size = this.entries.get(blobId);
    if (size === undefined) return null;
    this.entries.delete(blobId);
    this.entries.set(blobId, size);
    return join(this.dir, blobId);
  }

  /** Whether a blob of `size` bytes may be cached at all. */
  accepts(size: number): boolean {
    return this.maxBytes > 0 && size <= this.maxBytes;
  }

  /** Starts writing blob `blobId` of `expectedSize` bytes. */
  writer(blobId: string, expectedSize: number): CacheWriter {
    if (!ID.test(blobId)) throw new Error(`not a blob ID: ${blobId}`);
    const tmp = join(this.dir, `.partial-${randomBytes(8).toString('hex')}`);
    let out: WriteStream | null = createWriteStream(tmp);
    let written = 0;
    let failed = false;
    out.on('error', () => (failed = true));
    const close = () => new Promise<void>((resolve) => (out ? out.end(() => resolve()) : resolve()));
    return {
      write: async (chunk) => {
        if (!out || failed) return;
        written += chunk.length;
        if (!out.write(chunk)) await new Promise<void>((resolve) => out!.once('drain', resolve));
      },
      commit: async () => {
        await close();
        out = null;
        if (failed || written !== expectedSize) {
          await unlink(tmp).catch(() => {});
          return;
        }
        await rename(tmp, join(this.dir, blobId));
        const old = this.entries.get(blobId);
        if (old !== undefined) this.total -= old;
        this.entries.delete(blobId);
        this.entries.set(blobId, written);
        this.total += written;
        await this.evict();
      },
      abort: async () => {
        await close();
        out = null;
        await unlink(tmp).catch(() => {});
      },
    };
  }

  private async evict(): Promise<void> {
    while (this.total > this.maxBytes && this.entries.size > 0) {
      const [id, size] = this.entries.entries().next().value!;
      this.entries.delete(id);
      this.total -= size;
      await unlink(join(this.dir, id)).catch(() => {});
    }
  }
}
