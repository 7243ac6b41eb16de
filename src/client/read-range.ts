/**
 * Reading a byte range of a blob without reading the blob (`tusk read --range`, library
 * `readBlobRangeToFile`): the range maps to the systematic primary slivers that hold it
 * (`BlobReader`, src/client/blob-reader.ts), so a 100-byte range of a 10 GiB blob downloads one
 * verified sliver per covering row, not k_p of them. Walrus's own clients and aggregator read the
 * whole blob for a range; this is Tusk's superset.
 *
 * For an age-encrypted blob read with identities, the range is a *plaintext* range: the header,
 * the final chunk (which authenticates the plaintext size) and the 64 KiB STREAM chunks covering
 * the range are read through the same reader and decrypted (AGE-SPEC allows seeking by whole
 * chunks), so an encrypted range costs about what a plain one does.
 *
 * Output goes through `prepareOutput` like every read: a regular file appears atomically and only
 * once every byte is verified (and decrypted); nothing is left behind on failure.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { BlobId } from '../codec/blob-id.ts';
import { blobIdFromString, blobIdToString } from '../codec/blob-id.ts';
import type { Chain } from '../chain/types.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import { TuskInputError } from '../errors.ts';
import { openEncryptedBlob, type RandomAccessSource } from '../age/age.ts';
import type { Identity } from '../age/recipients.ts';
import { prepareOutput } from '../stream/output.ts';
import { BlobReader, type BlobLayout } from './blob-reader.ts';
import { blobAvailability } from './read-blob.ts';

/** A byte range [start, end): `end` absent means to the end of the blob (or plaintext). */
export interface ReadRange {
  readonly start: number;
  readonly end?: number;
}

/** Options of `readBlobRangeToFile` / `readBlobRange`. */
export interface ReadRangeOptions {
  readonly chain: Chain;
  readonly pool?: TaskRunner;
  /** Timeout of one request to a node in ms (default 30 000). */
  readonly nodeTimeoutMs?: number;
  /** Replace an existing output file. */
  readonly overwrite?: boolean;
  readonly tempDir?: string;
  readonly signal?: AbortSignal;
  /** Decrypt the (age-encrypted) blob with these identities; the range is then a plaintext range. */
  readonly decrypt?: { readonly identities: readonly (Identity | string)[] };
  /** A reader to share (its metadata cache, its node clients); one is made when absent. */
  readonly reader?: BlobReader;
  /** Called with the size of every body received from a storage node (tests, metrics). */
  readonly onNodeBytes?: (bytes: number) => void;
}

/** What a range read produced. */
export interface ReadRangeResult {
  readonly blobId: string;
  /** Bytes written. */
  readonly bytes: number;
  /** The range read, [start, end) after clamping `end` to the size. */
  readonly start: number;
  readonly end: number;
  /** The size the range was taken from: the blob's, or the plaintext's when decrypting. */
  readonly size: number;
}

/**
 * Writes bytes [start, end) of blob `blobId` (of its plaintext with `decrypt`) to `out` (a file,
 * `-` for stdout, a device or FIFO: see src/stream/output.ts). `end` is clamped to the size.
 * @throws BlobUnavailableError when the chain says the blob cannot be read; TuskInputError for a
 *   range starting past the end; AgeFormatError / AgeIntegrityError / AgeNoIdentityMatchError
 *   when decrypting a blob that is not age-encrypted, was tampered with, or is not for these keys.
 */
export async function readBlobRangeToFile(
  blobId: BlobId | string,
  out: string,
  range: ReadRange,
  options: ReadRangeOptions,
): Promise<ReadRangeResult> {
  assertRange(range);
  const id = typeof blobId === 'string' ? blobIdFromString(blobId) : blobId;
  const target = await prepareOutput(out, { overwrite: options.overwrite, tempDir: options.tempDir });
  try {
    const { bytes, start, end, size } = await rangeInto(id, range, options, async (chunks) => {
      await pipeline(chunks, createWriteStream(target.partialPath, { mode: 0o600 }));
    });
    await target.commit();
    return { blobId: blobIdToString(id), bytes, start, end, size };
  } catch (e) {
    await target.discard();
    throw e;
  } finally {
    await target.release();
  }
}

/** Bytes [start, end) of blob `blobId` (or its plaintext) in memory; for large ranges prefer the file form. */
export async function readBlobRange(blobId: BlobId | string, range: ReadRange, options: ReadRangeOptions): Promise<Uint8Array> {
  assertRange(range);
  const id = typeof blobId === 'string' ? blobIdFromString(blobId) : blobId;
  const parts: Uint8Array[] = [];
  await rangeInto(id, range, options, async (chunks) => {
    for await (const c of chunks) parts.push(c);
  });
  return Buffer.concat(parts);
}

function assertRange(range: ReadRange): void {
  const ok = (v: number) => Number.isSafeInteger(v) && v >= 0;
  if (!ok(range.start) || (range.end !== undefined && (!ok(range.end) || range.end < range.start)))
    throw new TuskInputError(`invalid byte range [${range.start}, ${range.end ?? ''}): offsets are whole numbers, end ≥ start`);
}

async function rangeInto(
  id: BlobId,
  range: ReadRange,
  options: ReadRangeOptions,
  sink: (chunks: AsyncIterable<Uint8Array>) => Promise<void>,
): Promise<{ bytes: number; start: number; end: number; size: number }> {
  const unavailable = await blobAvailability(options.chain, id);
  if (unavailable) throw unavailable;
  const reader =
    options.reader ??
    new BlobReader({
      chain: options.chain,
      pool: options.pool,
      nodeTimeoutMs: options.nodeTimeoutMs,
      tempDir: options.tempDir,
      onNodeBytes: options.onNodeBytes,
    });
  const layout = await reader.layout(id, options.signal);
  let bytes = 0;
  const counted = async function* (it: AsyncIterable<Uint8Array>) {
    for await (const c of it) {
      bytes += c.length;
      yield c;
    }
  };
  if (options.decrypt) {
    const source = new BlobRangeSource(reader, id, layout, options.signal);
    const blob = await openEncryptedBlob(source, { identities: options.decrypt.identities });
    const { start, end } = clamp(range, blob.plaintextSize, 'plaintext');
    // The chunks covering the range are read as one sequential stream, not chunk by chunk.
    const cipher = blob.cipherRangeFor(start, Math.max(end, start + 1));
    if (end > start) source.expectSequential(cipher.start, cipher.end);
    await sink(counted(blob.readRange(start, end)));
    return { bytes, start, end, size: blob.plaintextSize };
  }
  const { start, end } = clamp(range, layout.size, 'blob');
  const body = end > start ? reader.read(id, layout, { start, end: end - 1 }, options.signal) : empty();
  await sink(counted(body));
  return { bytes, start, end, size: layout.size };
}

function clamp(range: ReadRange, size: number, what: string): { start: number; end: number } {
  const end = Math.min(range.end ?? size, size);
  if (range.start > size || (range.start === size && size > 0 && range.end !== range.start))
    throw new TuskInputError(`range starts at byte ${range.start}, past the end of the ${what} (${size} bytes)`);
  return { start: range.start, end: Math.max(end, range.start) };
}

async function* empty(): AsyncGenerator<Uint8Array> {}

/**
 * Positional reads of a stored blob for the age random-access decoder. Small reads at any offset
 * (the header, the final chunk) each take their own range read; the span announced with
 * `expectSequential` is streamed once and served in order as the decoder walks its chunks.
 */
class BlobRangeSource implements RandomAccessSource {
  readonly size: number;
  private stream: AsyncIterator<Uint8Array> | null = null;
  private pos = 0;
  private buffered: Uint8Array = new Uint8Array(0);
  private spanEnd = 0;
  private readonly reader: BlobReader;
  private readonly id: BlobId;
  private readonly layout: BlobLayout;
  private readonly signal?: AbortSignal;

  constructor(reader: BlobReader, id: BlobId, layout: BlobLayout, signal?: AbortSignal) {
    this.reader = reader;
    this.id = id;
    this.layout = layout;
    this.signal = signal;
    this.size = layout.size;
  }

  /** Announces that [start, end) will be read next, in order. */
  expectSequential(start: number, end: number): void {
    this.stream = this.reader.read(this.id, this.layout, { start, end: end - 1 }, this.signal)[Symbol.asyncIterator]();
    this.pos = start;
    this.spanEnd = end;
    this.buffered = new Uint8Array(0);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (length === 0) return new Uint8Array(0);
    if (this.stream && offset === this.pos && offset + length <= this.spanEnd) {
      while (this.buffered.length < length) {
        const r = await this.stream.next();
        if (r.done) throw new Error(`blob stream ended at ${this.pos + this.buffered.length}, before ${offset + length}`);
        this.buffered = this.buffered.length === 0 ? r.value : Buffer.concat([this.buffered, r.value]);
      }
      const out = this.buffered.subarray(0, length);
      this.buffered = this.buffered.subarray(length);
      this.pos += length;
      return out;
    }
    const parts: Uint8Array[] = [];
    for await (const c of this.reader.read(this.id, this.layout, { start: offset, end: offset + length - 1 }, this.signal)) parts.push(c);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
}
