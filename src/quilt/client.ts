/**
 * Quilts through a network: `storeQuilt` builds the QuiltV1 bytes for the current committee and
 * stores them as one ordinary blob; `QuiltReader` (and `readQuiltPatch`, `listQuiltPatches`)
 * reads the index and single patches by fetching only the secondary slivers that are the
 * patch's columns (walrus-http.md §2.5): the blob's metadata (verified against the quilt ID),
 * column 0 (and further index columns when the index is longer), then the patch's columns, each
 * verified against the metadata before use. Only when a column cannot be had from its holders
 * does the reader fall back to reading the whole quilt, as Walrus does.
 *
 * These are the functions the HTTP gateway's quilt routes call (PUT /v1/quilts → `encodeQuilt`
 * + the publisher's store path + `storedQuiltBlobs`, or `storeQuilt`; GET by-quilt-patch-id and
 * by-quilt-id/{id}/{identifier} → `readQuiltPatch`; GET /v1/quilts/{id}/patches →
 * `listQuiltPatches` + `walrusPatchList`).
 */
import { blobIdFromString, blobIdToString, type BlobId } from '../codec/blob-id.ts';
import { EncodingConfig } from '../codec/config.ts';
import { RS2, encodingByType } from '../codec/encodings/index.ts';
import type { BlobMetadataWithId } from '../codec/metadata.ts';
import { verifySlivers } from '../codec/verify.ts';
import type { BlobObject, CommitteeInfo } from '../chain/types.ts';
import { TuskError, TuskInputError } from '../errors.ts';
import { StorageNodeClient } from '../node-api/client.ts';
import { placeBlob } from '../protocol/placement.ts';
import { fetchMetadata, readBlob, type ReadBlobOptions } from '../client/read-blob.ts';
import { withRetries, Semaphore } from '../util/async.ts';
import { storeBlob, type StoreBlobOptions, type StoreResult } from '../client/store-blob.ts';
import { encodeQuilt, type EncodedQuilt, type QuiltBlobInput } from './quilt-encode.ts';
import {
  QUILT_INDEX_PREFIX_BYTES,
  QuiltFormatError,
  decodeIndex,
  decodePatch,
  indexBcsLength,
  quiltColumn,
  quiltGeometry,
  validateIdentifier,
  type QuiltGeometry,
  type QuiltPatchInfo,
} from './format.ts';
import { encodeQuiltPatchId, parseQuiltPatchId } from './patch-id.ts';

/** One stored patch as Walrus's `QuiltStoreResult.storedQuiltBlobs` lists it. */
export interface StoredQuiltPatch {
  readonly identifier: string;
  /** 50-character patch ID. */
  readonly quiltPatchId: string;
  /** `[startColumn, endColumn)`. */
  readonly range: readonly [number, number];
}

/** What `storeQuilt` returns. */
export interface QuiltStoreResult {
  /** The quilt ID (= the blob ID of the quilt bytes). */
  readonly quiltId: string;
  /** The store of the quilt blob. */
  readonly blobStoreResult: StoreResult;
  /** The patches in index order (sorted identifiers). */
  readonly storedQuiltBlobs: readonly StoredQuiltPatch[];
  readonly symbolSize: number;
  readonly nShards: number;
}

/** Options of `storeQuilt`: those of `storeBlob` except the encoding (a quilt is always RS2). */
export type StoreQuiltOptions = Omit<StoreBlobOptions, 'encoding'>;

/**
 * Stores `blobs` as one quilt for the current committee and resolves once it is certified.
 * Everything about the input (identifiers, duplicates, sizes, emptiness) is checked before
 * anything is registered, so bad input stores and pays nothing.
 * @throws TuskInputError / QuiltTooLargeError for bad input; the errors of `storeBlob` otherwise.
 */
export async function storeQuilt(blobs: readonly QuiltBlobInput[], options: StoreQuiltOptions): Promise<QuiltStoreResult> {
  if (!Array.isArray(blobs) || blobs.length === 0) throw new TuskInputError('a quilt needs at least one patch');
  const committee = await options.chain.committee();
  if (committee.members.length === 0)
    throw new TuskError(`epoch ${committee.epoch} has no committee: nothing can be stored yet`, { retryable: true });
  const encoded = encodeQuilt(blobs, { nShards: committee.nShards });
  // A quilt is defined on RS2's matrix (its columns are RS2 secondary slivers), whatever
  // encoding the caller's options name for ordinary blobs.
  const result = await storeBlob(encoded.quilt, { ...options, encoding: 'RS2' });
  return {
    quiltId: result.blobId,
    blobStoreResult: result,
    storedQuiltBlobs: storedQuiltBlobs(result.blobId, encoded),
    symbolSize: encoded.symbolSize,
    nShards: committee.nShards,
  };
}

/** `storedQuiltBlobs` of a quilt built by `encodeQuilt` and stored under `quiltId`. */
export function storedQuiltBlobs(quiltId: BlobId | string, encoded: Pick<EncodedQuilt, 'patches'>): StoredQuiltPatch[] {
  return encoded.patches.map((p) => ({
    identifier: p.identifier,
    quiltPatchId: encodeQuiltPatchId(quiltId, p.startIndex, p.endIndex),
    range: [p.startIndex, p.endIndex] as const,
  }));
}

/**
 * Walrus's `QuiltStoreResult` JSON of a finished `storeQuilt` (`blobObject` is the quilt's Blob
 * object, as `chain.getBlob(result.blobStoreResult.blobObjectId)` returns it). A reused, already
 * certified Blob object is reported as `alreadyCertified`, else `newlyCreated`.
 */
export function quiltStoreResultJson(
  result: QuiltStoreResult,
  blobObject: BlobObject,
  encodedLength: number,
  epochs: number,
): Record<string, unknown> {
  const r = result.blobStoreResult;
  const blobStoreResult =
    r.reused && r.cost === 0n
      ? { alreadyCertified: { blobId: r.blobId, object: r.blobObjectId, endEpoch: r.endEpoch } }
      : {
          newlyCreated: {
            blobObject: {
              id: blobObject.id,
              registeredEpoch: blobObject.registeredEpoch,
              blobId: blobIdToString(blobObject.blobId),
              size: blobObject.size,
              encodingType: blobObject.encodingType === 1 ? 'RS2' : `RS${blobObject.encodingType}`,
              certifiedEpoch: blobObject.certifiedEpoch,
              storage: {
                id: blobObject.storage.id,
                startEpoch: blobObject.storage.startEpoch,
                endEpoch: blobObject.storage.endEpoch,
                storageSize: blobObject.storage.storageSize,
              },
              deletable: blobObject.deletable,
            },
            resourceOperation: r.reused
              ? { reuseRegistration: { encodedLength } }
              : { registerFromScratch: { encodedLength, epochsAhead: epochs } },
            cost: Number(r.cost),
          },
        };
  return {
    blobStoreResult,
    storedQuiltBlobs: result.storedQuiltBlobs.map((p) => ({ identifier: p.identifier, quiltPatchId: p.quiltPatchId, range: [...p.range] })),
  };
}

/** Options of the quilt readers: those of `readBlob` (the whole-quilt fallback uses them too). */
export type ReadQuiltOptions = ReadBlobOptions;

/** A patch read from a quilt. */
export interface QuiltPatch {
  readonly quiltId: string;
  readonly quiltPatchId: string;
  readonly identifier: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly startIndex: number;
  readonly endIndex: number;
  /** The patch's bytes (owned by the caller). */
  readonly data: Uint8Array;
}

/** One entry of `listQuiltPatches`. */
export interface QuiltPatchEntry extends QuiltPatchInfo {
  readonly quiltPatchId: string;
}

/** Which patch to read: by identifier (through the index) or by patch ID (no index needed). */
export type QuiltPatchSelector = { readonly identifier: string } | { readonly quiltPatchId: string };

/**
 * Reads one patch of a quilt. By patch ID it fetches only the metadata and the patch's columns;
 * by identifier also the index's columns.
 * @throws QuiltFormatError when the blob is not a quilt or its index/patch is corrupted;
 *   TuskInputError when the identifier is not in the quilt.
 */
export async function readQuiltPatch(
  quiltId: BlobId | string | null,
  selector: QuiltPatchSelector,
  options: ReadQuiltOptions,
): Promise<QuiltPatch> {
  if ('quiltPatchId' in selector) {
    const parsed = parseQuiltPatchId(selector.quiltPatchId);
    if (
      quiltId !== null &&
      blobIdToString(typeof quiltId === 'string' ? blobIdFromString(quiltId) : quiltId) !== blobIdToString(parsed.quiltId)
    ) {
      throw new TuskInputError(
        `patch ID ${selector.quiltPatchId} belongs to quilt ${blobIdToString(parsed.quiltId)}, not ${String(quiltId)}`,
      );
    }
    const reader = await QuiltReader.open(parsed.quiltId, options);
    return reader.readPatchAt(parsed.startIndex, parsed.endIndex);
  }
  if (quiltId === null) throw new TuskInputError('reading a patch by identifier needs the quilt ID');
  const reader = await QuiltReader.open(quiltId, options);
  return reader.readPatch(selector.identifier);
}

/** The patches of a quilt in index order, with their patch IDs (reads only the index's columns). */
export async function listQuiltPatches(quiltId: BlobId | string, options: ReadQuiltOptions): Promise<QuiltPatchEntry[]> {
  const reader = await QuiltReader.open(quiltId, options);
  return reader.list();
}

/** The JSON of Walrus's `GET /v1/quilts/{id}/patches`: `[{identifier, patch_id, tags}]`. */
export function walrusPatchList(
  entries: readonly QuiltPatchEntry[],
): { identifier: string; patch_id: string; tags: Record<string, string> }[] {
  return entries.map((e) => ({ identifier: e.identifier, patch_id: e.quiltPatchId, tags: { ...e.tags } }));
}

/** Secondary slivers fetched in parallel by one reader. */
const COLUMN_CONCURRENCY = 16;

/**
 * An open quilt: its verified metadata and geometry. Reads columns (secondary slivers) on demand
 * and caches them, so reading several patches of one quilt fetches each column once.
 */
export class QuiltReader {
  readonly quiltId: string;
  readonly geometry: QuiltGeometry;
  readonly symbolSize: number;
  private readonly id: BlobId;
  private readonly metadata: BlobMetadataWithId;
  private readonly cfg: EncodingConfig;
  private readonly committees: CommitteeInfo[];
  private readonly options: ReadQuiltOptions;
  private readonly clientFor: (address: string) => StorageNodeClient;
  private readonly columns = new Map<number, Uint8Array>();
  private whole: Uint8Array | null = null;
  private index: QuiltPatchInfo[] | null = null;

  private constructor(
    id: BlobId,
    metadata: BlobMetadataWithId,
    committees: CommitteeInfo[],
    options: ReadQuiltOptions,
    clientFor: (a: string) => StorageNodeClient,
  ) {
    this.id = id;
    this.quiltId = blobIdToString(id);
    this.metadata = metadata;
    this.committees = committees;
    this.options = options;
    this.clientFor = clientFor;
    const n = committees[0].nShards;
    this.cfg = new EncodingConfig(n, encodingByType(metadata.metadata.encodingType));
    this.geometry = quiltGeometry(n);
    const length = metadata.metadata.unencodedLength;
    this.symbolSize = this.cfg.symbolSize(length);
    const { rows, columns } = this.geometry;
    if (this.cfg.scheme !== RS2 || length !== rows * columns * this.symbolSize || length === 0) {
      throw new QuiltFormatError(
        `blob ${this.quiltId} is not a quilt: ${length} bytes is not a full ${rows}×${columns} matrix of RS2 symbols`,
      );
    }
  }

  /** Fetches and verifies the quilt's metadata. @throws QuiltFormatError if the blob cannot be a quilt. */
  static async open(quiltId: BlobId | string, options: ReadQuiltOptions): Promise<QuiltReader> {
    const id = typeof quiltId === 'string' ? blobIdFromString(quiltId) : quiltId;
    const clientFor = options.nodeClient ?? ((a: string) => new StorageNodeClient(a, { timeoutMs: options.nodeTimeoutMs }));
    const current = await options.chain.committee();
    const committees: CommitteeInfo[] = [current];
    if (current.epoch > 1) committees.push(await options.chain.committee(current.epoch - 1).catch(() => current));
    const usable = committees.filter((c) => c.members.length > 0 && c.nShards === current.nShards);
    if (usable.length === 0) throw new TuskError(`epoch ${current.epoch} has no committee: nothing is stored yet`, { retryable: true });
    const metadata = await fetchMetadata(id, usable[0], clientFor, { retries: options.retries ?? 2, signal: options.signal });
    return new QuiltReader(id, metadata, usable, options, clientFor);
  }

  /** The quilt index (read from its columns once). @throws QuiltFormatError when it is corrupted. */
  async readIndex(): Promise<QuiltPatchInfo[]> {
    if (this.index) return this.index;
    const columnBytes = this.geometry.rows * this.symbolSize;
    const first = await this.column(0);
    const need = Math.ceil((QUILT_INDEX_PREFIX_BYTES + indexBcsLength(first, columnBytes)) / columnBytes);
    if (need > this.geometry.columns)
      throw new QuiltFormatError(`quilt index of blob ${this.quiltId} claims ${need} columns of ${this.geometry.columns}`);
    const cols = await this.fetchColumns(range(0, need));
    this.index = decodeIndex(concatColumns(cols), columnBytes, this.geometry.columns);
    return this.index;
  }

  /** The patches in index order with their patch IDs. */
  async list(): Promise<QuiltPatchEntry[]> {
    return (await this.readIndex()).map((p) => ({ ...p, quiltPatchId: encodeQuiltPatchId(this.id, p.startIndex, p.endIndex) }));
  }

  /**
   * The patch named `identifier` (looked up in the index; the header's identifier must agree).
   * @throws TuskInputError when the quilt has no such patch.
   */
  async readPatch(identifier: string): Promise<QuiltPatch> {
    const entry = (await this.readIndex()).find((p) => p.identifier === identifier);
    if (!entry) throw new TuskInputError(`quilt ${this.quiltId} has no patch ${JSON.stringify(identifier)}`);
    const patch = await this.readPatchAt(entry.startIndex, entry.endIndex);
    if (patch.identifier !== identifier)
      throw new QuiltFormatError(
        `quilt ${this.quiltId} is corrupted: the index names ${JSON.stringify(identifier)} but the patch header ${JSON.stringify(patch.identifier)}`,
      );
    return patch;
  }

  /** The patch stored in columns `[start, end)` (as a patch ID names it). */
  async readPatchAt(start: number, end: number): Promise<QuiltPatch> {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 1 && end > start && end <= this.geometry.columns)) {
      throw new TuskInputError(`patch columns [${start}, ${end}) are outside quilt ${this.quiltId} (columns 1…${this.geometry.columns})`);
    }
    const bytes = concatColumns(await this.fetchColumns(range(start, end)));
    const patch = decodePatch(bytes);
    try {
      validateIdentifier(patch.identifier);
    } catch (e) {
      throw new QuiltFormatError(
        `quilt ${this.quiltId}: the patch at columns [${start}, ${end}) has an invalid identifier: ${(e as Error).message}`,
      );
    }
    return {
      quiltId: this.quiltId,
      quiltPatchId: encodeQuiltPatchId(this.id, start, end),
      identifier: patch.identifier,
      tags: patch.tags,
      startIndex: start,
      endIndex: end,
      data: patch.data.slice(),
    };
  }

  private async column(c: number): Promise<Uint8Array> {
    return (await this.fetchColumns([c]))[0];
  }

  /** Columns `cs` in order: cached, fetched as secondary slivers, or cut from the whole quilt. */
  private async fetchColumns(cs: number[]): Promise<Uint8Array[]> {
    const missing = cs.filter((c) => !this.columns.has(c));
    if (missing.length > 0 && this.whole === null) {
      const gate = new Semaphore(this.options.concurrency ?? COLUMN_CONCURRENCY);
      const got = await Promise.all(missing.map((c) => gate.run(() => this.fetchColumn(c))));
      if (got.some((g) => g === null)) {
        // Some column's holders are unavailable or faulty: read the quilt as a blob (any k slivers).
        this.whole = await readBlob(this.id, this.options);
      } else {
        missing.forEach((c, i) => this.columns.set(c, got[i]!));
      }
    }
    return cs.map((c) => this.columns.get(c) ?? quiltColumn(this.whole!, this.geometry, this.symbolSize, c));
  }

  /** Secondary sliver `c` from its holders (current committee first), verified; null if none has a valid one. */
  private async fetchColumn(c: number): Promise<Uint8Array | null> {
    const n = this.geometry.nShards;
    const pair = n - 1 - c;
    const retry = { retries: this.options.retries ?? 2, signal: this.options.signal, baseDelayMs: 100 };
    const maxBytes = this.cfg.secondarySliverBytes(this.symbolSize) + 16;
    const tried = new Set<string>();
    for (const committee of this.committees) {
      const holder = placeBlob(committee, this.id).find((p) => p.pairs.includes(pair));
      if (!holder) continue;
      const client = this.clientFor(holder.node.networkAddress);
      if (tried.has(client.url)) continue;
      tried.add(client.url);
      try {
        const sliver = await withRetries(
          () => client.getSliver(this.id, pair, 'secondary', { signal: this.options.signal, maxBytes }),
          retry,
        );
        if (sliver.index !== c) continue;
        if (verifySlivers(this.cfg, this.metadata.metadata, [sliver])[0] !== null) continue;
        return sliver.data.slice();
      } catch (e) {
        if (this.options.signal?.aborted) throw this.options.signal.reason;
      }
    }
    return null;
  }
}

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}

function concatColumns(cols: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(cols.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of cols) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
