/**
 * Blob input for the streaming encoder: a file path (read with positional reads straight into
 * kernel memory), bytes in memory, or a Node stream / async iterable of bytes. The encoder needs
 * the total length first (it fixes the symbol size): give `length` for a stream, or the stream is
 * spooled to a temporary file.
 */
import { createWriteStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { TuskInputError } from '../errors.ts';

/** What the streaming encoder accepts. */
export type BlobInput = string | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** Sequential reader of exactly `length` bytes. */
export interface BlobSource {
  readonly length: number;
  /** Fills dst[0, count) with the next `count` bytes (count ≤ what remains). */
  read(dst: Uint8Array, count: number): Promise<void>;
  close(): Promise<void>;
}

class FileSource implements BlobSource {
  private pos = 0;
  readonly length: number;
  private readonly fh: FileHandle;
  constructor(fh: FileHandle, length: number) {
    this.fh = fh;
    this.length = length;
  }
  async read(dst: Uint8Array, count: number): Promise<void> {
    let done = 0;
    while (done < count) {
      const { bytesRead } = await this.fh.read(dst, done, count - done, this.pos);
      if (bytesRead === 0) throw new TuskInputError(`input ended early: expected ${this.length} bytes`);
      done += bytesRead;
      this.pos += bytesRead;
    }
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

class BytesSource implements BlobSource {
  private pos = 0;
  readonly length: number;
  private readonly data: Uint8Array;
  constructor(data: Uint8Array) {
    this.data = data;
    this.length = data.length;
  }
  async read(dst: Uint8Array, count: number): Promise<void> {
    dst.set(this.data.subarray(this.pos, this.pos + count));
    this.pos += count;
  }
  async close(): Promise<void> {}
}

class IterableSource implements BlobSource {
  readonly length: number;
  private readonly it: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  constructor(iterable: AsyncIterable<Uint8Array>, length: number, signal?: AbortSignal) {
    this.it = iterable[Symbol.asyncIterator]();
    this.length = length;
    this.signal = signal;
  }
  private consumed = 0;
  private readonly signal?: AbortSignal;
  async read(dst: Uint8Array, count: number): Promise<void> {
    let done = 0;
    while (done < count) {
      if (this.pending.length === 0) {
        const { value, done: end } = await abortable(this.it.next(), this.signal);
        if (end) throw new TuskInputError(`input ended early: expected ${this.length} bytes`);
        this.pending = value instanceof Uint8Array ? value : new Uint8Array(Buffer.from(value as never));
      }
      const take = Math.min(count - done, this.pending.length);
      dst.set(this.pending.subarray(0, take), done);
      this.pending = this.pending.subarray(take);
      done += take;
    }
    this.consumed += count;
    if (this.consumed === this.length) {
      // The declared length must be the whole input: more bytes would be silently dropped.
      const extra = this.pending.length > 0 || !(await abortable(this.it.next(), this.signal)).done;
      if (extra) throw new TuskInputError(`input is longer than the declared length of ${this.length} bytes`);
    }
  }
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/**
 * Opens `input`. A stream without `length` is first spooled to `spoolDir` (a temporary directory
 * the caller removes).
 */
export async function openBlobSource(
  input: BlobInput,
  length: number | undefined,
  spoolDir: () => Promise<string>,
  signal?: AbortSignal,
): Promise<BlobSource> {
  if (typeof input === 'string') {
    const fh = await open(input, 'r');
    try {
      const stat = await fh.stat();
      if (!stat.isFile()) throw new TuskInputError(`${input} is not a regular file`);
      return new FileSource(fh, stat.size);
    } catch (e) {
      await fh.close();
      throw e;
    }
  }
  if (input instanceof Uint8Array) return new BytesSource(input);
  if (input && typeof (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
    const iterable = input as AsyncIterable<Uint8Array>;
    if (length !== undefined) {
      if (!Number.isSafeInteger(length) || length < 0) throw new TuskInputError(`length must be a non-negative integer, got ${length}`);
      return new IterableSource(iterable, length, signal);
    }
    const file = join(await spoolDir(), 'input.bin');
    await pipeline(Readable.from(iterable), createWriteStream(file), { signal });
    return openBlobSource(file, undefined, spoolDir, signal);
  }
  throw new TuskInputError('input must be a file path, a Uint8Array, a Node stream or an async iterable of bytes');
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}
