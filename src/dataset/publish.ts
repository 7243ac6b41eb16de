/**
 * Publishing a directory as a dataset: walk it, hash every file, plan storage units (small files
 * packed into quilts, larger files one blob each, files above the committee's maximum blob size
 * split into chunk blobs), store the units in a pipeline, then store the manifest
 * (dataset/manifest.ts) as a blob; its blob ID is the dataset's ID.
 *
 * Pipeline: `parallel` units (default 4) are in flight, each running encode → register → upload →
 * certify (BlobStoreFlow), so units encode while others upload. They share one store's upload
 * slots (UploadSlots: 64 in flight, 8 per node), so a unit uploading alone gets all of them.
 * Registrations and certifications reaching the chain at the same moment go as one
 * `registerBlobs` / `certifyBlobs` transaction (batched-chain.ts). A certified unit's uploads to
 * the last nodes go on in the background while its worker takes the next unit. Memory and disk
 * are bounded by the file bytes in flight (`inFlightBytes`, and IN_MEMORY_BUDGET for in-memory
 * units): a unit up to `IN_MEMORY_MAX` bytes is read into memory, a larger one is copied into the
 * private spool directory and stream-encoded from there (the copy is dropped once encoded; its
 * slivers spool beside it, ~4.5× its size, until its last upload settles).
 *
 * Resumability: every unit's state goes to the journal (dataset/journal.ts) as it advances; a
 * re-run skips units the journal has certified (after checking the chain still has them), and a
 * registered but uncertified unit is completed with its existing Blob object (BlobStoreFlow reuses
 * the signer's live registration of the same blob ID), so nothing is paid twice. A file whose
 * bytes differ from the hash taken at the start of the run (or whose size or mtime changed before
 * the manifest is written) stops the run with a clear error; the journal stays consistent.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EncodingConfig } from '../codec/config.ts';
import { BlobStoreFlow, UploadSlots, type StoreBlobOptions, type StoreResult } from '../client/store-blob.ts';
import { TuskError, TuskInputError } from '../errors.ts';
import { encodeQuilt, type QuiltBlobInput } from '../quilt/quilt-encode.ts';
import { quiltGeometry, validateIdentifier, MAX_INDEX_COLUMNS } from '../quilt/format.ts';
import { quiltSymbolSize } from '../quilt/quilt-encode.ts';
import { storedQuiltBlobs } from '../quilt/client.ts';
import { blobIdFromString } from '../codec/blob-id.ts';
import { isRetryable, Semaphore, sleep } from '../util/async.ts';
import { serializeManifest, type ManifestFile } from './manifest.ts';
import { PublishJournal, type JournalUnit } from './journal.ts';
import { batchedChain } from './batched-chain.ts';
import { walkDataset, type DatasetFileInfo } from './walk.ts';

/** Units up to this size are encoded from memory; larger ones from a spooled file. */
export const IN_MEMORY_MAX = 32 * 2 ** 20;

/**
 * File bytes of in-memory units in flight at most (one larger unit still runs alone): an
 * in-memory unit holds its bytes and its slivers (~5× at 100 shards) until its uploads end.
 */
export const IN_MEMORY_BUDGET = 64 * 2 ** 20;

/** Options of `publishDataset`. */
export interface PublishDatasetOptions extends Omit<StoreBlobOptions, 'onProgress' | 'encoding' | 'encrypt' | 'attributes' | 'tempDir'> {
  /** The journal file (created if missing). Required: resumability is not optional. */
  readonly journalPath: string;
  /** Largest chunk of a chunked file (default and upper bound: the committee's maximum blob size). */
  readonly chunkSize?: number;
  /** Files up to this size go into quilts (default 1 MiB). */
  readonly smallFileMax?: number;
  /** Most file bytes in one quilt (default 64 MiB). */
  readonly quiltMaxBytes?: number;
  /** Units in flight at most (default 4): small units are dominated by per-blob round trips, so several overlap. */
  readonly parallel?: number;
  /**
   * File bytes of the units in flight at most, counted until a unit's last upload settles
   * (default 256 MiB or two chunks + IN_MEMORY_BUDGET, whichever is more, so that the next chunk
   * is encoded while the previous one uploads; a single larger unit still runs, alone). Bounds
   * the spool (a unit above IN_MEMORY_MAX is spooled with its slivers, ~4.5× its size); units
   * held in memory are bounded by IN_MEMORY_BUDGET as well.
   */
  readonly inFlightBytes?: number;
  /** Where the spool directory is created (default the OS temporary directory). */
  readonly spoolDir?: string;
  readonly onProgress?: (progress: DatasetProgress) => void;
}

/** Progress of a publish. */
export interface DatasetProgress {
  readonly phase: 'walk' | 'hash' | 'store' | 'manifest' | 'done';
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly unitsDone?: number;
  readonly unitsTotal?: number;
  /** A note for the user (a unit being retried after a retryable failure). */
  readonly message?: string;
}

/** What a publish did. */
export interface PublishDatasetResult {
  readonly manifestId: string;
  readonly manifestObjectId: string;
  readonly files: number;
  /** Bytes of all files. */
  readonly totalBytes: number;
  /** File bytes stored by this run (units that were not already certified). */
  readonly uploadedBytes: number;
  /** File bytes skipped because the journal had them certified. */
  readonly skippedBytes: number;
  /** File bytes not stored because identical bytes are stored once (duplicate files or chunks). */
  readonly dedupedBytes: number;
  readonly units: {
    readonly quilts: number;
    readonly blobs: number;
    readonly chunks: number;
    readonly stored: number;
    readonly skipped: number;
  };
  /** Units completed with a registration paid for by an earlier run. */
  readonly reusedRegistrations: number;
  /**
   * Chain transactions of this run's registrations and certifications: several units registered
   * (or certified) at the same moment share one transaction (`registerBlobs` / `certifyBlobs`).
   */
  readonly transactions: { readonly registrations: number; readonly certifications: number };
  /** Milliseconds spent in each step, summed over the units stored (they overlap in time). */
  readonly stepMs: { readonly encode: number; readonly register: number; readonly upload: number; readonly certify: number };
  /** FROST paid by this run. */
  readonly cost: bigint;
  /** Files whose SHA-256 differs from the previous run's (their old units are not reused). */
  readonly changedFiles: readonly string[];
  readonly journalPath: string;
  readonly elapsedMs: number;
}

interface HashedFile extends DatasetFileInfo {
  readonly sha256: string;
  /** SHA-256 of each chunk (chunked files only). */
  readonly chunkHashes?: readonly string[];
}

type Unit =
  | { readonly kind: 'quilt'; readonly key: string; readonly bytes: number; readonly files: readonly HashedFile[] }
  | {
      readonly kind: 'blob';
      readonly key: string;
      readonly bytes: number;
      readonly file: HashedFile;
      /** Other files with the same bytes: they point at this blob (stored once). */
      readonly also: HashedFile[];
    }
  | {
      readonly kind: 'chunk';
      readonly key: string;
      readonly bytes: number;
      readonly file: HashedFile;
      readonly index: number;
      readonly start: number;
      readonly sha256: string;
      /** Other chunks with the same bytes (same file or another): they point at this blob. */
      readonly also: { file: HashedFile; index: number }[];
    };

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Publishes directory `root` as a dataset (see the file header).
 * @throws TuskInputError for bad input (walk errors, a file changing during the run, options);
 *   the errors of the store flow otherwise (the journal then lets a re-run resume).
 */
export async function publishDataset(root: string, options: PublishDatasetOptions): Promise<PublishDatasetResult> {
  const t0 = performance.now();
  const o = options;
  if (!Number.isInteger(o.epochs) || o.epochs < 1)
    throw new TuskInputError(`publishDataset: epochs must be a positive integer, got ${o.epochs}`);
  const parallel = o.parallel ?? 4;
  if (o.inFlightBytes !== undefined && !(o.inFlightBytes > 0)) throw new TuskInputError('publishDataset: inFlightBytes must be positive');
  if (!Number.isInteger(parallel) || parallel < 1) throw new TuskInputError(`publishDataset: parallel must be a positive integer`);
  const absRoot = resolve(root);
  const deletable = o.deletable ?? true;

  o.onProgress?.({ phase: 'walk', bytesDone: 0, bytesTotal: 0 });
  const walked = await walkDataset(absRoot);
  const journal = await PublishJournal.open(o.journalPath, absRoot, o.epochs, deletable);

  const state = await o.chain.systemState();
  if (o.epochs > state.maxEpochsAhead)
    throw new TuskInputError(`publishDataset: epochs must be at most ${state.maxEpochsAhead} on this chain, got ${o.epochs}`);
  const nShards = state.nShards;
  const maxBlob = new EncodingConfig(nShards).maxBlobSize;
  const chunkSize = Math.min(o.chunkSize ?? maxBlob, maxBlob);
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new TuskInputError(`publishDataset: chunkSize must be a positive integer`);
  // Two full chunks and the in-memory units fit by default: the next chunk is copied and encoded
  // while the previous one uploads, whatever smaller units are in flight beside them.
  const budget = o.inFlightBytes ?? Math.max(256 * 2 ** 20, 2 * chunkSize + IN_MEMORY_BUDGET);
  const smallMax = o.smallFileMax ?? 2 ** 20;
  if (!Number.isSafeInteger(smallMax) || smallMax < 0)
    throw new TuskInputError(`publishDataset: smallFileMax must be a non-negative integer`);
  const quiltMax = o.quiltMaxBytes ?? 64 * 2 ** 20;

  const totalBytes = walked.reduce((s, f) => s + f.size, 0);
  const files = await hashFiles(walked, chunkSize, totalBytes, o);
  const changedFiles = files
    .filter((f) => journal.state.files[f.path] && journal.state.files[f.path].sha256 !== f.sha256)
    .map((f) => f.path);
  journal.state.files = Object.fromEntries(files.map((f) => [f.path, { size: f.size, sha256: f.sha256 }]));
  await journal.save();

  const units = storeOrder(planUnits(files, { nShards, chunkSize, smallMax, quiltMax }));
  const spool = await mkdtemp(join(o.spoolDir ?? tmpdir(), 'tusk-dataset-'));
  const located = new Map<string, ManifestFile>();
  for (const f of files) if (f.size === 0) located.set(f.path, { path: f.path, size: 0, sha256: f.sha256 });
  const chunkIds = new Map<string, { blob: string; size: number }[]>();
  const totals = { uploaded: 0, skipped: 0, stored: 0, skippedUnits: 0, reused: 0, cost: 0n, done: 0 };
  const txs = { registrations: 0, certifications: 0 };
  const stepMs = { encode: 0, register: 0, upload: 0, certify: 0 };
  // Units in flight share the upload slots of one store rather than multiplying them: the
  // pipeline overlaps encoding, registration and certification with uploads, not uploads with
  // more uploads (which only makes nodes time out on a busy machine); and a unit uploading alone
  // (a large chunk) gets all of them. Registrations and certifications of units that reach that
  // step at the same moment share one transaction (batched-chain.ts).
  const storeOptions: StoreBlobOptions = {
    ...o,
    chain: batchedChain(o.chain, { onBatch: (kind) => txs[kind === 'register' ? 'registrations' : 'certifications']++ }),
    deletable,
    tempDir: spool,
    onProgress: undefined,
    uploadSlots: new UploadSlots(o.uploadConcurrency ?? 64, o.perNodeConcurrency ?? 8),
    // One spooled unit encodes at a time: it uses every pool thread already (store-blob.ts).
    encodeSlots: new Semaphore(1),
  };
  const report = () =>
    o.onProgress?.({
      phase: 'store',
      bytesDone: totals.uploaded + totals.skipped,
      bytesTotal: totalBytes,
      unitsDone: totals.done,
      unitsTotal: units.length,
    });

  const place = (u: Unit, j: JournalUnit) => {
    if (u.kind === 'quilt')
      for (const f of u.files) located.set(f.path, { path: f.path, size: f.size, sha256: f.sha256, patch: j.patches![f.path] });
    else if (u.kind === 'blob')
      for (const f of [u.file, ...u.also]) located.set(f.path, { path: f.path, size: f.size, sha256: f.sha256, blob: j.blobId });
    else
      for (const c of [{ file: u.file, index: u.index }, ...u.also])
        (chunkIds.get(c.file.path) ?? chunkIds.set(c.file.path, []).get(c.file.path)!)[c.index] = { blob: j.blobId, size: u.bytes };
  };

  try {
    report();
    let next = 0;
    let failure: { error: unknown } | null = null;
    // File bytes of the units in flight (until their last upload settled), and of those in memory.
    let inFlight = 0;
    let inMemory = 0;
    let waiters: (() => void)[] = [];
    const release = (n: number, memory: number) => {
      inFlight -= n;
      inMemory -= memory;
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    };
    // A unit is certified before its uploads to the last nodes end: those go on (holding the
    // unit's memory or spool) while the worker takes the next unit.
    const tails = new Set<{ done: Promise<void>; cancel: () => void }>();
    const worker = async () => {
      while (!failure && next < units.length) {
        const u = units[next++];
        const memory = u.kind === 'quilt' || u.bytes <= IN_MEMORY_MAX ? u.bytes : 0;
        while ((inFlight > 0 && inFlight + u.bytes > budget) || (memory > 0 && inMemory > 0 && inMemory + memory > IN_MEMORY_BUDGET))
          await new Promise<void>((r) => waiters.push(r));
        inFlight += u.bytes;
        inMemory += memory;
        let tail: { done: Promise<void>; cancel: () => void } | null = null;
        try {
          const known = journal.state.units[u.key];
          if (known?.state === 'certified' && (await stillCertified(o, known))) {
            place(u, known);
            totals.skipped += u.bytes;
            totals.skippedUnits++;
          } else {
            const {
              unit,
              result,
              tail: unitTail,
            } = await withUnitRetries(
              () => storeUnit(u, nShards, storeOptions, journal),
              o.signal,
              (attempt, e) =>
                o.onProgress?.({
                  phase: 'store',
                  bytesDone: totals.uploaded + totals.skipped,
                  bytesTotal: totalBytes,
                  unitsDone: totals.done,
                  unitsTotal: units.length,
                  message: `retrying a ${u.kind} of ${u.bytes} bytes (attempt ${attempt + 1} of ${UNIT_ATTEMPTS}): ${(e as Error).message}`,
                }),
            );
            place(u, unit);
            totals.uploaded += u.bytes;
            totals.stored++;
            totals.cost += result.cost;
            if (result.reused) totals.reused++;
            stepMs.encode += result.timings.encodeMs;
            stepMs.register += result.timings.registerMs;
            stepMs.upload += result.timings.uploadMs;
            stepMs.certify += result.timings.certifyMs;
            tail = unitTail;
          }
          totals.done++;
          report();
        } catch (error) {
          failure ??= { error };
        } finally {
          if (tail) {
            const t = tail;
            tails.add(t);
            void t.done.finally(() => {
              tails.delete(t);
              release(u.bytes, memory);
            });
          } else release(u.bytes, memory);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(parallel, units.length) }, worker));
    } finally {
      // On failure the remaining uploads stop; either way the spool is in use until they settle.
      if (failure) for (const t of tails) t.cancel();
      await Promise.all([...tails].map((t) => t.done));
    }
    if (failure) throw (failure as { error: unknown }).error;

    // A file touched after it was hashed: what was stored may be a mix of old and new bytes.
    for (const f of files) {
      const now = await stat(f.abs).catch(() => null);
      if (!now || now.size !== f.size || now.mtimeMs !== f.mtimeMs)
        throw new TuskInputError(`${f.abs}: changed while the dataset was being published; run the publish again once it is stable`);
    }
    for (const [path, chunks] of chunkIds) {
      const f = files.find((x) => x.path === path)!;
      located.set(path, { path, size: f.size, sha256: f.sha256, chunks });
    }
    o.onProgress?.({ phase: 'manifest', bytesDone: totalBytes, bytesTotal: totalBytes });
    const manifestBytes = serializeManifest([...located.values()]);
    const mkey = `manifest:${nShards}:${sha256Hex(manifestBytes)}`;
    let manifest = journal.state.units[mkey];
    if (!(manifest?.state === 'certified' && (await stillCertified(o, manifest)))) {
      const stored = await storeFlow(new BlobStoreFlow(manifestBytes, storeOptions), mkey, 'manifest', manifestBytes.length, journal);
      manifest = stored.unit;
      totals.cost += stored.result.cost;
      await stored.tail.done;
    }
    journal.state.manifestId = manifest.blobId;
    await journal.save();
    o.onProgress?.({ phase: 'done', bytesDone: totalBytes, bytesTotal: totalBytes });
    return {
      manifestId: manifest.blobId,
      manifestObjectId: manifest.blobObjectId!,
      files: files.length,
      totalBytes,
      uploadedBytes: totals.uploaded,
      skippedBytes: totals.skipped,
      dedupedBytes: units.reduce((s, u) => s + (u.kind === 'quilt' ? 0 : u.also.length * u.bytes), 0),
      units: {
        quilts: units.filter((u) => u.kind === 'quilt').length,
        blobs: units.filter((u) => u.kind === 'blob').length,
        chunks: units.filter((u) => u.kind === 'chunk').length,
        stored: totals.stored,
        skipped: totals.skippedUnits,
      },
      reusedRegistrations: totals.reused,
      transactions: { ...txs },
      stepMs,
      cost: totals.cost,
      changedFiles,
      journalPath: journal.path,
      elapsedMs: performance.now() - t0,
    };
  } finally {
    await rm(spool, { recursive: true, force: true });
  }
}

/** Attempts per unit: a retryable failure (nodes timing out, an epoch change) is retried; a retry pays nothing again. */
const UNIT_ATTEMPTS = 3;

async function withUnitRetries<T>(
  work: () => Promise<T>,
  signal: AbortSignal | undefined,
  onRetry: (attempt: number, e: unknown) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (e) {
      if (attempt >= UNIT_ATTEMPTS || !isRetryable(e) || signal?.aborted) throw e;
      onRetry(attempt, e);
      await sleep(1000 * attempt * attempt, signal);
    }
  }
}

/** Whether the chain still has a live certified Blob object for a journal unit (else it is stored again). */
async function stillCertified(o: PublishDatasetOptions, u: JournalUnit): Promise<boolean> {
  const epoch = (await o.chain.systemState()).epoch;
  const objects = await o.chain.blobObjects(blobIdFromString(u.blobId));
  return objects.some((b) => b.certifiedEpoch !== null && b.storage.endEpoch > epoch);
}

/** Pass 1: SHA-256 of every file (and of each chunk of a chunked file), one read per file. */
async function hashFiles(
  walked: readonly DatasetFileInfo[],
  chunkSize: number,
  totalBytes: number,
  o: PublishDatasetOptions,
): Promise<HashedFile[]> {
  const out: HashedFile[] = [];
  let done = 0;
  let lastReport = 0;
  for (const f of walked) {
    const whole = createHash('sha256');
    const chunked = f.size > chunkSize;
    const chunkHashes: string[] = [];
    let chunk = createHash('sha256');
    let inChunk = 0;
    try {
      for await (const buf of createReadStream(f.abs, { highWaterMark: 1 << 20, signal: o.signal })) {
        const b = buf as Buffer;
        whole.update(b);
        if (chunked) {
          for (let at = 0; at < b.length;) {
            const n = Math.min(b.length - at, chunkSize - inChunk);
            chunk.update(b.subarray(at, at + n));
            inChunk += n;
            at += n;
            if (inChunk === chunkSize) {
              chunkHashes.push(chunk.digest('hex'));
              chunk = createHash('sha256');
              inChunk = 0;
            }
          }
        }
        done += b.length;
        if (done - lastReport > 16 * 2 ** 20) {
          lastReport = done;
          o.onProgress?.({ phase: 'hash', bytesDone: done, bytesTotal: totalBytes });
        }
      }
    } catch (e) {
      o.signal?.throwIfAborted();
      throw new TuskInputError(`${f.abs}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (chunked && inChunk > 0) chunkHashes.push(chunk.digest('hex'));
    out.push({ ...f, sha256: whole.digest('hex'), chunkHashes: chunked ? chunkHashes : undefined });
  }
  return out;
}

/** Upper bound of a quilt index entry's BCS size for an identifier of `idBytes` bytes. */
const indexEntryBound = (idBytes: number) => 2 + 3 + idBytes + 1;

/** The identifier of a file in its quilt: its path when that is a valid identifier. */
function quiltIdentifier(path: string): string {
  try {
    validateIdentifier(path);
    return path;
  } catch {
    return `sha256-${sha256Hex(path)}`;
  }
}

/**
 * The order in which units are stored: the largest and the smallest remaining alternately (ties
 * in plan order, so a file's chunks stay in sequence). Small units (quilts, small blobs) are bound
 * by per-blob round trips, not bytes: stored in path order they could all come last, a tail of
 * fixed costs with nothing large left to overlap (≈ 30 s of the 2 GiB benchmark,
 * docs/datasets.md); interleaved, each runs beside a large unit whose encode and uploads keep the
 * machine busy. The order does not change the plan, the journal's keys or the manifest.
 * @returns a new array holding every unit of `units` once.
 */
export function storeOrder<T extends { readonly bytes: number }>(units: readonly T[]): T[] {
  const bySize = units.map((u, i) => ({ u, i })).sort((a, b) => b.u.bytes - a.u.bytes || a.i - b.i);
  const out: T[] = [];
  for (let lo = 0, hi = bySize.length - 1; lo <= hi;) {
    out.push(bySize[lo++].u);
    if (lo <= hi) out.push(bySize[hi--].u);
  }
  return out;
}

/**
 * Splits the files into units, deterministically (a re-run of an unchanged directory plans the
 * same units, so the journal's keys match).
 */
function planUnits(files: readonly HashedFile[], p: { nShards: number; chunkSize: number; smallMax: number; quiltMax: number }): Unit[] {
  const g = quiltGeometry(p.nShards);
  const units: Unit[] = [];
  // Identical bytes are stored once (two workers storing the same blob at once could pay twice).
  const byKey = new Map<string, Unit>();
  const addBlob = (f: HashedFile) => {
    const key = `blob:${p.nShards}:${f.sha256}`;
    const seen = byKey.get(key);
    if (seen?.kind === 'blob') return void seen.also.push(f);
    const u: Unit = { kind: 'blob', key, bytes: f.size, file: f, also: [] };
    byKey.set(key, u);
    units.push(u);
  };
  let group: HashedFile[] = [];
  let sizes: number[] = [];
  let indexBound = 5 + 5;
  let groupBytes = 0;
  const closeGroup = () => {
    if (group.length === 0) return;
    const desc = group.map((f) => `${quiltIdentifier(f.path)}\0${f.path}\0${f.sha256}`).join('\n');
    units.push({ kind: 'quilt', key: `quilt:${p.nShards}:${sha256Hex(desc)}`, bytes: groupBytes, files: group });
    group = [];
    sizes = [];
    indexBound = 10;
    groupBytes = 0;
  };
  const fits = (s: number[], index: number) => {
    try {
      quiltSymbolSize([index, ...s], g.columns, g.rows, MAX_INDEX_COLUMNS);
      return true;
    } catch {
      return false;
    }
  };
  for (const f of files) {
    if (f.size === 0) continue;
    if (f.size <= p.smallMax) {
      const idBytes = Buffer.byteLength(quiltIdentifier(f.path));
      const patchSize = 6 + 2 + 3 + idBytes + f.size;
      const nextSizes = [...sizes, patchSize];
      const nextIndex = indexBound + indexEntryBound(idBytes);
      if (group.length > 0 && (groupBytes + f.size > p.quiltMax || !fits(nextSizes, nextIndex))) closeGroup();
      if (group.length === 0 && !fits([patchSize], 10 + indexEntryBound(idBytes))) {
        // Too large for a quilt of this committee on its own: a blob of its own.
        addBlob(f);
        continue;
      }
      group.push(f);
      sizes.push(patchSize);
      indexBound += indexEntryBound(idBytes);
      groupBytes += f.size;
    } else if (f.size <= p.chunkSize) {
      addBlob(f);
    } else {
      f.chunkHashes!.forEach((h, index) => {
        const start = index * p.chunkSize;
        const bytes = Math.min(p.chunkSize, f.size - start);
        const key = `chunk:${p.nShards}:${h}:${bytes}`;
        const seen = byKey.get(key);
        if (seen?.kind === 'chunk') return void seen.also.push({ file: f, index });
        const u: Unit = { kind: 'chunk', key, bytes, file: f, index, start, sha256: h, also: [] };
        byKey.set(key, u);
        units.push(u);
      });
    }
  }
  closeGroup();
  return units;
}

/** Reads `length` bytes at `start` of a file into memory, hashing them. */
async function readRange(abs: string, start: number, length: number): Promise<{ data: Uint8Array; sha256: string }> {
  const fh = await open(abs, 'r');
  try {
    const data = new Uint8Array(length);
    let at = 0;
    while (at < length) {
      const { bytesRead } = await fh.read(data, at, length - at, start + at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return { data: data.subarray(0, at), sha256: sha256Hex(data.subarray(0, at)) };
  } finally {
    await fh.close();
  }
}

/** Copies `length` bytes at `start` of a file into `to`, hashing them (bounded memory). */
async function copyRange(abs: string, start: number, length: number, to: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  const out = await open(to, 'w', 0o600);
  try {
    if (length > 0)
      for await (const buf of createReadStream(abs, { start, end: start + length - 1, highWaterMark: 4 << 20, signal })) {
        h.update(buf as Buffer);
        await out.write(buf as Buffer);
      }
  } finally {
    await out.close();
  }
  return h.digest('hex');
}

function changedError(f: HashedFile): TuskInputError {
  return new TuskInputError(
    `${f.abs}: changed while the dataset was being published (its SHA-256 differs from the one taken at the start); run the publish again once it is stable — what is already stored is kept`,
  );
}

/** A certified unit's uploads still going on to the last nodes; `done` settles when they end and its spool is freed. */
interface UnitTail {
  readonly done: Promise<void>;
  readonly cancel: () => void;
}

/** Stores one unit; returns its certified journal entry and its upload tail. */
async function storeUnit(
  u: Unit,
  nShards: number,
  so: StoreBlobOptions,
  journal: PublishJournal,
): Promise<{ unit: JournalUnit; result: StoreResult; tail: UnitTail }> {
  if (u.kind === 'quilt') {
    const inputs: QuiltBlobInput[] = [];
    for (const f of u.files) {
      const { data, sha256 } = await readRange(f.abs, 0, f.size + 1);
      if (data.length !== f.size || sha256 !== f.sha256) throw changedError(f);
      inputs.push({ identifier: quiltIdentifier(f.path), contents: data });
    }
    const encoded = encodeQuilt(inputs, { nShards });
    const byIdentifier = new Map(u.files.map((f) => [quiltIdentifier(f.path), f.path]));
    const stored = await storeFlow(
      new BlobStoreFlow(encoded.quilt, { ...so, encoding: 'RS2' }),
      u.key,
      'quilt',
      u.bytes,
      journal,
      (blobId) => Object.fromEntries(storedQuiltBlobs(blobId, encoded).map((s) => [byIdentifier.get(s.identifier)!, s.quiltPatchId])),
    );
    return stored;
  }
  const f = u.file;
  const start = u.kind === 'chunk' ? u.start : 0;
  const expected = u.kind === 'chunk' ? u.sha256 : f.sha256;
  let input: Uint8Array | { path: string };
  let spoolFile: string | null = null;
  if (u.bytes <= IN_MEMORY_MAX) {
    const { data, sha256 } = await readRange(f.abs, start, u.kind === 'blob' ? u.bytes + 1 : u.bytes);
    if (data.length !== u.bytes || sha256 !== expected) throw changedError(f);
    input = data;
  } else {
    spoolFile = join(so.tempDir!, `${u.kind}-${sha256Hex(u.key).slice(0, 16)}.bin`);
    const sha256 = await copyRange(f.abs, start, u.bytes, spoolFile, so.signal);
    if (sha256 !== expected || (u.kind === 'blob' && (await stat(f.abs)).size !== f.size)) throw changedError(f);
    input = { path: spoolFile };
  }
  // The copy is needed only by the encoder: the slivers are spooled on their own.
  const dropCopy = async () => {
    if (spoolFile) await rm(spoolFile, { force: true });
  };
  try {
    return await storeFlow(new BlobStoreFlow(input, so), u.key, u.kind, u.bytes, journal, undefined, dropCopy);
  } finally {
    await dropCopy();
  }
}

/**
 * Runs a store flow step by step, journaling each step: encoded (blob ID), registered (the paid
 * Blob object), certified. Returns once certified, with the tail of uploads to the nodes that had
 * not confirmed yet (given up to a minute, then cancelled: the blob is certified either way).
 */
async function storeFlow(
  flow: BlobStoreFlow,
  key: string,
  kind: JournalUnit['kind'],
  bytes: number,
  journal: PublishJournal,
  patches?: (blobId: string) => Record<string, string>,
  afterEncode?: () => Promise<void>,
): Promise<{ unit: JournalUnit; result: StoreResult; tail: UnitTail }> {
  let enc;
  try {
    enc = await flow.encode();
    await afterEncode?.();
  } catch (e) {
    await flow.dispose();
    throw e;
  }
  const blobId = enc.blobIdString;
  const before = journal.state.units[key];
  if (!before || before.blobId !== blobId) await journal.setUnit(key, { kind, state: 'encoded', blobId, bytes });
  let blob;
  try {
    blob = await flow.register();
  } catch (e) {
    await flow.dispose();
    throw e;
  }
  await journal.setUnit(key, { kind, state: 'registered', blobId, blobObjectId: blob.id, bytes });
  const result = await flow.run();
  const unit: JournalUnit = {
    kind,
    state: 'certified',
    blobId,
    blobObjectId: result.blobObjectId,
    bytes,
    ...(patches ? { patches: patches(blobId) } : {}),
  };
  const timer = setTimeout(result.cancelBackground, 60_000);
  const done = result.background.then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  );
  try {
    await journal.setUnit(key, unit);
  } catch (e) {
    result.cancelBackground();
    await done;
    throw e;
  }
  return { unit, result, tail: { done, cancel: result.cancelBackground } };
}
