/**
 * Accepting uploads on a storage node (walrus-protocol.md §5 routes 1–6): metadata and slivers are
 * checked against the blob ID, the committee and the registration, verified on the codec pool,
 * and stored durably in group commits (one fsync per event-loop turn); uploads for a blob not yet
 * registered (`?pending=true`) wait in a bounded in-memory buffer with TTL eviction until the
 * follower sees the registration. Part of {@link NodeService}, which owns the shared state.
 */
import { ENCODINGS } from '../codec/encodings/index.ts';
import { BlobMetadata, BlobMetadataWithId } from '../codec/metadata.ts';
import { SliverData, type SliverAxis } from '../codec/sliver.ts';
import { verifyMetadata } from '../codec/verify.ts';
import { MetadataVerificationError, TuskInputError } from '../errors.ts';
import {
  ApiError,
  badRequest,
  invalidMetadata,
  invalidSliver,
  metadataNotFound,
  notRegistered,
  shardNotAssigned,
  sliverNotFound,
  unavailable,
} from '../node-api/errors.ts';
import type { StoredOnNodeStatus, UploadOutcome } from '../node-api/wire.ts';
import type { NodeService } from './service.ts';

interface PendingBlob {
  /** When the first upload for the blob was buffered (ms); stale entries are evicted. */
  since: number;
  metadata?: Uint8Array;
  slivers: Map<string, { pair: number; axis: SliverAxis; bcs: Uint8Array }>;
  bytes: number;
  /** Sliver verifications running against this entry's metadata: such an entry is not evicted. */
  verifying: number;
}

/** The upload side of a storage node: see the file header. */
export class UploadIntake {
  private readonly ctx: NodeService;
  private readonly pending = new Map<string, PendingBlob>();
  private pendingBytes = 0;
  private readonly metadataCache = new Map<string, BlobMetadata>();
  private writeQueue: {
    blobId: Uint8Array;
    pair: number;
    axis: SliverAxis;
    bcs: Uint8Array;
    resolve: (r: 'stored' | 'alreadyStored' | 'notRegistered' | 'shardNotAssigned') => void;
    reject: (e: unknown) => void;
  }[] = [];
  private writeScheduled = false;

  constructor(ctx: NodeService) {
    this.ctx = ctx;
  }

  // ---- metadata -----------------------------------------------------------------------------

  /**
   * `PUT /v1/blobs/{id}/metadata`: verifies `body` (BCS BlobMetadata) against the blob ID and the
   * committee and stores it durably; with `pending`, buffers it in memory until registration.
   */
  async putMetadata(blobId: Uint8Array, body: Uint8Array, pending: boolean): Promise<UploadOutcome> {
    const epoch = this.ctx.epoch();
    if (this.ctx.store.invalidEvent(blobId)) {
      throw new ApiError('FAILED_PRECONDITION', 'INVALID_BLOB', 'the blob for this metadata is invalid');
    }
    const registered = this.ctx.store.isRegistered(blobId, epoch);
    if (!registered && !pending) throw notRegistered();
    if (this.ctx.store.hasMetadata(blobId)) return 'alreadyStored';
    let metadata: BlobMetadata;
    try {
      metadata = BlobMetadata.fromBcs(body);
    } catch (e) {
      throw badRequest('INVALID_BCS', `malformed BlobMetadata BCS: ${(e as Error).message}`);
    }
    if (!ENCODINGS.some((x) => x.typeByte === metadata.encodingType)) {
      throw new ApiError('INVALID_ARGUMENT', 'UNSUPPORTED_ENCODING_TYPE', `unsupported encoding type ${metadata.encodingType}`);
    }
    try {
      verifyMetadata(new BlobMetadataWithId(blobId, metadata), this.ctx.nShards);
    } catch (e) {
      if (e instanceof MetadataVerificationError || e instanceof TuskInputError) throw invalidMetadata(e.message);
      throw e;
    }
    if (!registered) {
      if (this.pending.get(key(blobId))?.metadata) return 'alreadyStored';
      // Reserve first: eviction may drop this blob's own stale entry.
      this.reservePending(body.length);
      const p = this.pendingEntry(blobId);
      p.metadata = body;
      p.bytes += body.length;
      return 'buffered';
    }
    return this.ctx.store.putMetadata(blobId, body) === 'stored' ? 'stored' : 'alreadyStored';
  }

  /** `GET /v1/blobs/{id}/metadata`: BCS BlobMetadataWithId. */
  getMetadata(blobId: Uint8Array): Uint8Array {
    const bcs = this.ctx.store.getMetadata(blobId);
    if (!bcs) throw metadataNotFound(false);
    const out = new Uint8Array(32 + bcs.length);
    out.set(blobId);
    out.set(bcs, 32);
    return out;
  }

  /** `GET /v1/blobs/{id}/metadata/status`. */
  metadataStatus(blobId: Uint8Array): StoredOnNodeStatus {
    if (this.ctx.store.hasMetadata(blobId)) return 'stored';
    return this.pending.get(key(blobId))?.metadata ? 'buffered' : 'nonexistent';
  }

  /**
   * Parsed metadata of `blobId` (stored, else buffered). Parsed metadata of recently used blobs is
   * cached: an upload sends n slivers per blob, and parsing n hash pairs for each costs more than
   * verifying a small sliver. Stored metadata never changes (only its removal), so the cache is
   * checked against the store's presence on every use.
   */
  storedMetadata(blobId: Uint8Array): BlobMetadata | null {
    const k = key(blobId);
    const stored = this.ctx.store.hasMetadata(blobId);
    const cached = this.metadataCache.get(k);
    if (cached && stored) return cached;
    const bcs = stored ? this.ctx.store.getMetadata(blobId) : this.pending.get(k)?.metadata;
    if (!bcs) return null;
    const parsed = BlobMetadata.fromBcs(bcs);
    if (stored) {
      if (this.metadataCache.size >= 64) this.metadataCache.delete(this.metadataCache.keys().next().value!);
      this.metadataCache.set(k, parsed);
    }
    return parsed;
  }

  // ---- slivers ------------------------------------------------------------------------------

  /**
   * `PUT /v1/blobs/{id}/slivers/{pair}/{axis}`: checks registration, shard assignment, the sliver
   * index for the pair, and verifies the sliver against the stored metadata on the pool before
   * storing it durably (or buffering it with `pending`).
   */
  async putSliver(blobId: Uint8Array, pair: number, axis: SliverAxis, body: Uint8Array, pending: boolean): Promise<UploadOutcome> {
    const registered = this.precheckSliver(blobId, pair, pending);
    let sliver: SliverData;
    try {
      sliver = SliverData.fromBcs(axis, body);
    } catch (e) {
      throw badRequest('INVALID_BCS', `malformed SliverData BCS: ${(e as Error).message}`);
    }
    const n = this.ctx.nShards;
    const expectedIndex = axis === 'primary' ? pair : n - 1 - pair;
    if (sliver.index !== expectedIndex) {
      throw invalidSliver(`${axis} sliver index ${sliver.index} does not belong to sliver pair ${pair} (expected ${expectedIndex})`);
    }
    if (registered && this.ctx.store.hasSliver(blobId, pair, axis)) return 'alreadyStored';
    const metadata = this.storedMetadata(blobId);
    if (!metadata) throw metadataNotFound(true);
    if (this.ctx.expander.pending >= this.ctx.limits.maxQueuedExpansions)
      throw unavailable('sliver verification is saturated; retry later');
    // Verifying against buffered metadata: pin its entry so eviction cannot drop it meanwhile.
    const pinned = registered || this.ctx.store.hasMetadata(blobId) ? undefined : this.pending.get(key(blobId));
    if (pinned) pinned.verifying++;
    let problem;
    try {
      problem = await this.ctx.expander.verify(this.ctx.configFor(metadata), metadata, sliver);
    } finally {
      if (pinned) pinned.verifying--;
    }
    if (problem) throw invalidSliver(problem.message);
    // The registration may have lapsed (or the blob been invalidated) while verifying.
    if (registered || this.ctx.store.isRegistered(blobId, this.ctx.epoch())) {
      const written = await this.writeSliver(blobId, pair, axis, body);
      if (written === 'notRegistered') throw notRegistered();
      if (written === 'shardNotAssigned') throw shardNotAssigned(this.ctx.shardOfPair(blobId, pair), this.ctx.epoch());
      return written;
    }
    if (this.ctx.store.invalidEvent(blobId)) throw notRegistered();
    // Never buffer a sliver without metadata to go with it (the entry may have been dropped by an
    // invalidation or a flush meanwhile): it could never be confirmed or served consistently.
    if (!this.ctx.store.hasMetadata(blobId) && !this.pending.get(key(blobId))?.metadata) throw metadataNotFound(true);
    const k = `${pair}:${axis}`;
    if (this.pending.get(key(blobId))?.slivers.has(k)) return 'alreadyStored';
    this.reservePending(body.length);
    const p = this.pendingEntry(blobId);
    p.slivers.set(k, { pair, axis, bcs: body });
    p.bytes += body.length;
    return 'buffered';
  }

  /**
   * The checks of `putSliver` that need no body: pair in range, blob registered (or `pending` and
   * not invalid), shard held. The server runs them before reading a sliver body, so a misdirected
   * upload costs no memory for its (up to tens of MB) body.
   * @returns whether the blob is registered (else the upload is buffered as pending).
   * @throws ApiError exactly as `putSliver` would for these conditions.
   */
  precheckSliver(blobId: Uint8Array, pair: number, pending: boolean): boolean {
    this.ctx.checkPairIndex(pair);
    const registered = this.ctx.store.isRegistered(blobId, this.ctx.epoch());
    if (!registered && (!pending || this.ctx.store.invalidEvent(blobId))) throw notRegistered();
    this.ctx.requireShard(blobId, pair);
    // A pending sliver is verified against its blob's metadata: without it the body could never be
    // accepted, so it is refused before a byte of it is read (Walrus uploads metadata first).
    if (!registered && !this.ctx.store.hasMetadata(blobId) && !this.pending.get(key(blobId))?.metadata) throw metadataNotFound(true);
    return registered;
  }

  /**
   * Stores a verified sliver durably, committing together with the other slivers verified in the
   * same turn of the event loop (group commit): one fsync for the batch instead of one per
   * sliver, which matters because a commit blocks the event loop. Resolves only after the batch's
   * commit returned, so an acknowledgement still means "on disk". The registration is re-checked
   * inside the transaction: an invalidation or deletion applied meanwhile wins.
   */
  private writeSliver(
    blobId: Uint8Array,
    pair: number,
    axis: SliverAxis,
    bcs: Uint8Array,
  ): Promise<'stored' | 'alreadyStored' | 'notRegistered' | 'shardNotAssigned'> {
    return new Promise((resolve, reject) => {
      this.writeQueue.push({ blobId, pair, axis, bcs, resolve, reject });
      if (!this.writeScheduled) {
        this.writeScheduled = true;
        setImmediate(() => this.flushWrites());
      }
    });
  }

  private flushWrites(): void {
    this.writeScheduled = false;
    const batch = this.writeQueue.splice(0);
    if (batch.length === 0) return;
    let results: ('stored' | 'alreadyStored' | 'notRegistered' | 'shardNotAssigned')[];
    try {
      const epoch = this.ctx.epoch();
      // Shard ownership is re-checked too: an epoch change applied during verification may have
      // moved the shard away, and this node must not keep (or acknowledge) slivers it no longer holds.
      const shards = new Set(this.ctx.currentShards());
      results = this.ctx.store.transaction(() =>
        batch.map((w) => {
          if (!this.ctx.store.isRegistered(w.blobId, epoch)) return 'notRegistered';
          if (!shards.has(this.ctx.shardOfPair(w.blobId, w.pair))) return 'shardNotAssigned';
          return this.ctx.store.putSliver(w.blobId, w.pair, w.axis, w.bcs);
        }),
      );
    } catch (e) {
      for (const w of batch) w.reject(e);
      return;
    }
    batch.forEach((w, i) => w.resolve(results[i]));
  }

  /** `GET /v1/blobs/{id}/slivers/{pair}/{axis}`: BCS SliverData. */
  getSliver(blobId: Uint8Array, pair: number, axis: SliverAxis): Uint8Array {
    this.ctx.checkPairIndex(pair);
    const bcs = this.ctx.store.getSliver(blobId, pair, axis);
    if (bcs) return bcs;
    this.ctx.requireShard(blobId, pair);
    throw sliverNotFound();
  }

  /** `GET …/slivers/{pair}/{axis}/status`. */
  sliverStatus(blobId: Uint8Array, pair: number, axis: SliverAxis): StoredOnNodeStatus {
    this.ctx.checkPairIndex(pair);
    if (this.ctx.store.hasSliver(blobId, pair, axis)) return 'stored';
    // As Walrus: asking about a shard this node does not hold is an error, not "nonexistent".
    this.ctx.requireShard(blobId, pair);
    return this.pending.get(key(blobId))?.slivers.has(`${pair}:${axis}`) ? 'buffered' : 'nonexistent';
  }

  // ---- pending uploads ----------------------------------------------------------------------

  private pendingEntry(blobId: Uint8Array): PendingBlob {
    let p = this.pending.get(key(blobId));
    if (!p) {
      p = { since: Date.now(), slivers: new Map(), bytes: 0, verifying: 0 };
      this.pending.set(key(blobId), p);
    }
    return p;
  }

  private reservePending(bytes: number): void {
    if (this.pendingBytes + bytes > this.ctx.limits.maxPendingBytes) {
      // Uploads for blobs that were never registered must not hold the buffer forever.
      const cutoff = Date.now() - this.ctx.limits.pendingTtlMs;
      for (const [k, p] of this.pending) {
        // An entry whose metadata a sliver is being verified against stays: evicting it would let
        // that sliver be buffered without the metadata it was checked with.
        if (p.since < cutoff && p.verifying === 0) {
          this.pending.delete(k);
          this.pendingBytes -= p.bytes;
        }
      }
    }
    if (this.pendingBytes + bytes > this.ctx.limits.maxPendingBytes) {
      // As Walrus: FAILED_PRECONDITION (400) with the reason CACHE_SATURATED; clients recognise
      // the reason and retry (after registering the blob, the upload is not buffered at all).
      throw new ApiError(
        'FAILED_PRECONDITION',
        'CACHE_SATURATED',
        'the buffer for uploads pending registration is full; retry after registering the blob',
        { retryable: true },
      );
    }
    this.pendingBytes += bytes;
  }

  /**
   * Moves buffered uploads of `blobId` into the store once it is registered (called by the
   * follower after applying the registration). Slivers were verified when buffered; their shard is
   * checked again against the current epoch.
   */
  flushPending(blobId: Uint8Array): void {
    const p = this.pending.get(key(blobId));
    if (!p) return;
    this.pending.delete(key(blobId));
    this.pendingBytes -= p.bytes;
    const epoch = this.ctx.epoch();
    if (!this.ctx.store.isRegistered(blobId, epoch)) return;
    const shards = new Set(this.ctx.currentShards());
    this.ctx.store.transaction(() => {
      if (p.metadata) this.ctx.store.putMetadata(blobId, p.metadata);
      // Slivers without metadata (buffered or stored) are not kept: a node must never hold slivers
      // it cannot tie to verified metadata.
      if (!this.ctx.store.hasMetadata(blobId)) return;
      for (const s of p.slivers.values()) {
        if (shards.has(this.ctx.shardOfPair(blobId, s.pair))) this.ctx.store.putSliver(blobId, s.pair, s.axis, s.bcs);
      }
    });
  }

  /** Drops buffered uploads of `blobId` (invalidated). */
  dropPending(blobId: Uint8Array): void {
    const p = this.pending.get(key(blobId));
    if (!p) return;
    this.pending.delete(key(blobId));
    this.pendingBytes -= p.bytes;
  }
}

function key(blobId: Uint8Array): string {
  return Buffer.from(blobId).toString('hex');
}
