/**
 * Reading a dataset by path: load and parse its manifest (a blob), then stream any file — a blob,
 * a quilt patch, or a chunked file read as one stream across its chunk blobs — whole or a byte
 * range (a range across chunk boundaries reads only the chunks and the slivers that hold it).
 * Whole-file reads to a file check the SHA-256 the manifest records before the output is handed
 * over; `fetchDataset` materialises every file under a directory that way.
 *
 * Every byte is verified on the way in whatever the path: blob bytes against their blob ID (sliver
 * verification in `BlobReader` and the quilt reader), blob IDs against the manifest, and the
 * manifest against its own blob ID. The SHA-256 check is end-to-end on top of that.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { blobIdFromString } from '../codec/blob-id.ts';
import { readBlob, type ReadBlobOptions } from '../client/read-blob.ts';
import { TuskError, TuskInputError } from '../errors.ts';
import { BlobReader } from '../client/blob-reader.ts';
import { QuiltReader } from '../quilt/client.ts';
import { parseQuiltPatchId } from '../quilt/patch-id.ts';
import { prepareOutput } from '../stream/output.ts';
import { findFile, MAX_MANIFEST_BYTES, ManifestError, parseManifest, type DatasetManifest, type ManifestFile } from './manifest.ts';

/** Options of the dataset readers: those of a blob read (chain, pool, timeouts, signal, …). */
export type ReadDatasetOptions = Omit<ReadBlobOptions, 'decrypt' | 'onProgress' | 'maxBytes'>;

/** An inclusive byte range of a file. */
export interface FileRange {
  readonly start: number;
  readonly end: number;
}

/** A file's bytes verified against the manifest's SHA-256 did not match. Not retryable. */
export class DatasetIntegrityError extends TuskError {}

/**
 * Reads and parses manifest `manifestId`.
 * @throws ManifestError (naming the ID) when the blob is not a valid manifest; the read errors of
 *   `readBlob` otherwise (BlobUnavailableError when it is not stored).
 */
export async function loadManifest(manifestId: string, options: ReadDatasetOptions): Promise<DatasetManifest> {
  try {
    blobIdFromString(manifestId);
  } catch {
    throw new TuskInputError(`${JSON.stringify(manifestId)} is not a manifest ID (a blob ID)`);
  }
  const bytes = await readBlob(manifestId, { ...options, maxBytes: MAX_MANIFEST_BYTES });
  try {
    return parseManifest(bytes);
  } catch (e) {
    if (e instanceof ManifestError) throw new ManifestError(`blob ${manifestId} is not a dataset manifest: ${e.message}`);
    throw e;
  }
}

/**
 * Reads files of datasets. Keeps open quilts (their fetched columns) and blob layouts between
 * reads, so reading many small files of one quilt fetches each column once.
 */
export class DatasetReader {
  private readonly o: ReadDatasetOptions;
  readonly blobs: BlobReader;
  private readonly quilts = new Map<string, Promise<QuiltReader>>();

  private readonly quiltCacheSize: number;

  /**
   * @param blobReader a shared `BlobReader` (the gateway's), else one is made.
   * @param quiltCacheSize open quilts kept between reads (default 8; each holds the columns it
   *   fetched, up to the quilt's size — a long-lived server may pass 0).
   */
  constructor(options: ReadDatasetOptions, blobReader?: BlobReader, quiltCacheSize = 8) {
    this.o = options;
    this.quiltCacheSize = quiltCacheSize;
    this.blobs =
      blobReader ??
      new BlobReader({ chain: options.chain, pool: options.pool, nodeTimeoutMs: options.nodeTimeoutMs, tempDir: options.tempDir });
  }

  /**
   * The entry of `path` in `manifest`.
   * @throws TuskInputError when the dataset has no such file (the message says so).
   */
  entry(manifest: DatasetManifest, path: string): ManifestFile {
    const f = findFile(manifest, path.replace(/^\/+/, ''));
    if (!f) throw new TuskInputError(`the dataset has no file ${JSON.stringify(path)}`);
    return f;
  }

  /**
   * Yields the bytes of `file` (or of `range`, inclusive, clamped to the file) in order, as fresh
   * buffers owned by the consumer.
   * @throws RangeError for a range starting past the end; read errors of the underlying blobs.
   */
  async *stream(file: ManifestFile, range?: FileRange, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? file.size - 1, file.size - 1);
    if (file.size === 0 || end < start) {
      if (range && (start >= file.size || start < 0))
        throw new RangeError(`range ${start}-${range.end} outside the file's ${file.size} bytes`);
      return;
    }
    if (start < 0 || start >= file.size) throw new RangeError(`range ${start}-${end} outside the file's ${file.size} bytes`);
    if (file.patch !== undefined) {
      const { quiltId, startIndex, endIndex } = parseQuiltPatchId(file.patch);
      const reader = await this.quilt(quiltId);
      const patch = await reader.readPatchAt(startIndex, endIndex);
      if (patch.data.length !== file.size)
        throw new DatasetIntegrityError(`${file.path}: its quilt patch holds ${patch.data.length} bytes, the manifest says ${file.size}`);
      yield patch.data.subarray(start, end + 1);
      return;
    }
    const parts = file.blob !== undefined ? [{ blob: file.blob, size: file.size }] : (file.chunks ?? []);
    let offset = 0;
    for (const part of parts) {
      const partStart = offset;
      offset += part.size;
      if (offset <= start) continue;
      if (partStart > end) break;
      const id = blobIdFromString(part.blob);
      const layout = await this.blobs.layout(id, signal ?? this.o.signal);
      if (layout.size !== part.size)
        throw new DatasetIntegrityError(`${file.path}: blob ${part.blob} holds ${layout.size} bytes, the manifest says ${part.size}`);
      const from = Math.max(start, partStart) - partStart;
      const to = Math.min(end, offset - 1) - partStart;
      yield* this.blobs.read(id, layout, { start: from, end: to }, signal ?? this.o.signal);
    }
  }

  private quilt(quiltId: Uint8Array): Promise<QuiltReader> {
    if (this.quiltCacheSize <= 0) return QuiltReader.open(quiltId, this.o);
    const key = Buffer.from(quiltId).toString('hex');
    let r = this.quilts.get(key);
    if (!r) {
      r = QuiltReader.open(quiltId, this.o);
      r.catch(() => this.quilts.delete(key));
      this.quilts.set(key, r);
      if (this.quilts.size > this.quiltCacheSize) this.quilts.delete(this.quilts.keys().next().value!);
    }
    return r;
  }

  /**
   * Writes `file` (or `range` of it) to `out` (a path, `-` for stdout: see stream/output.ts). A
   * whole file is checked against the manifest's SHA-256 before the output is handed over.
   * @returns bytes written. @throws DatasetIntegrityError on a hash mismatch (nothing handed over).
   */
  async writeTo(
    file: ManifestFile,
    out: string,
    o: { range?: FileRange; overwrite?: boolean; signal?: AbortSignal } = {},
  ): Promise<number> {
    const target = await prepareOutput(out, { overwrite: o.overwrite, tempDir: this.o.tempDir });
    try {
      const hash = createHash('sha256');
      let bytes = 0;
      const self = this;
      async function* counted() {
        for await (const c of self.stream(file, o.range, o.signal)) {
          hash.update(c);
          bytes += c.length;
          yield c;
        }
      }
      await pipeline(Readable.from(counted()), createWriteStream(target.partialPath, { mode: 0o644 }));
      if (!o.range) checkHash(file, hash.digest('hex'), bytes);
      await target.commit();
      return bytes;
    } catch (e) {
      await target.discard();
      throw e;
    } finally {
      await target.release();
    }
  }
}

function checkHash(file: ManifestFile, sha256: string, bytes: number): void {
  if (bytes !== file.size || sha256 !== file.sha256)
    throw new DatasetIntegrityError(
      `${file.path}: read ${bytes} bytes with SHA-256 ${sha256}, the manifest says ${file.size} bytes with ${file.sha256}`,
    );
}

/** Options of `fetchDataset`. */
export interface FetchDatasetOptions extends ReadDatasetOptions {
  /** Replace existing files (default: an existing file is an error, checked before any download). */
  readonly overwrite?: boolean;
  /** Files read at once (default 4). */
  readonly parallel?: number;
  /** Only these paths (default all). */
  readonly paths?: readonly string[];
  readonly onFile?: (file: ManifestFile, done: number, total: number) => void;
}

/**
 * Writes every file of dataset `manifestId` under `outDir` (created if missing), each checked
 * against its SHA-256 and renamed into place only then.
 * @returns files and bytes written. @throws TuskInputError for an existing file without
 *   `overwrite` or a path that would leave `outDir` through a symbolic link; DatasetIntegrityError.
 */
export async function fetchDataset(
  manifestId: string | DatasetManifest,
  outDir: string,
  options: FetchDatasetOptions,
): Promise<{ files: number; bytes: number }> {
  const manifest = typeof manifestId === 'string' ? await loadManifest(manifestId, options) : manifestId;
  const reader = new DatasetReader(options);
  const files = options.paths ? options.paths.map((p) => reader.entry(manifest, p)) : manifest.files;
  await mkdir(outDir, { recursive: true });
  const root = await realpath(outDir);
  // Refuse before downloading anything: existing files (without overwrite), paths through links.
  for (const f of files) {
    const target = join(root, ...f.path.split('/'));
    const existing = await lstat(target).catch(() => null);
    if (existing && !options.overwrite) throw new TuskInputError(`${target} already exists (use --force to replace it)`);
    if (existing && !existing.isFile()) throw new TuskInputError(`${target} exists and is not a regular file`);
  }
  let next = 0;
  let done = 0;
  let bytes = 0;
  let failure: { error: unknown } | null = null;
  const worker = async () => {
    while (!failure && next < files.length) {
      const f = files[next++];
      try {
        const target = join(root, ...f.path.split('/'));
        await mkdir(dirname(target), { recursive: true });
        const parent = await realpath(dirname(target));
        const rel = relative(root, parent);
        if (rel.startsWith('..') || rel.split(sep)[0] === '..' || resolve(root, rel) !== parent)
          throw new TuskInputError(`${target}: a symbolic link in ${outDir} leads outside it`);
        const n = await reader.writeTo(f, target, { overwrite: options.overwrite, signal: options.signal });
        bytes += n;
        options.onFile?.(f, ++done, files.length);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.parallel ?? 4, Math.max(1, files.length)) }, worker));
  if (failure) throw (failure as { error: unknown }).error;
  return { files: files.length, bytes };
}
