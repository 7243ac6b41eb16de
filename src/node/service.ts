/**
 * The storage node's logic behind the REST API (walrus-protocol.md §2–§6): acceptance rules for
 * metadata and slivers, confirmations, recovery symbols, inconsistency proofs, blob status — over
 * the durable {@link NodeStore}, with sliver work on the codec pool ({@link PoolExpander}).
 *
 * State the service needs from the chain (current epoch, shards per epoch, registrations) is in
 * the store, written by the event follower (./follower.ts). The service only reads it, so every
 * answer reflects the events applied so far — as a Walrus node, which also acts on the events it
 * has processed, not on the chain's latest state.
 *
 * Errors are {@link ApiError}s carrying Walrus's reasons.
 */
import { EventEmitter } from 'node:events';
import { blobIdRotation } from '../codec/blob-id.ts';
import { EncodingConfig } from '../codec/config.ts';
import { ENCODINGS, encodingByType } from '../codec/encodings/index.ts';
import { BlobMetadata, BlobMetadataWithId } from '../codec/metadata.ts';
import { SliverData, type SliverAxis } from '../codec/sliver.ts';
import { verifyMetadata } from '../codec/verify.ts';
import { merkleProof } from '../codec/merkle.ts';
import { orthogonal, type RecoverySymbol, inconsistencyProofFromBcs, verifyRecoverySymbol } from '../codec/recovery.ts';
import { blsSign, type BlsKeyPair } from '../crypto/bls.ts';
import { invalidBlobIdMessage, storageConfirmationMessage, type BlobPersistence } from '../protocol/messages.ts';
import { MetadataVerificationError, TuskError, TuskInputError } from '../errors.ts';
import type { NodeStore, BlobStatus } from './store.ts';
import type { PoolExpander } from './pool-expander.ts';
import {
  ApiError, badRequest, indexOutOfRange, invalidMetadata, invalidSliver, metadataNotFound, notRegistered, shardNotAssigned,
  sliverNotFound, unavailable,
} from '../node-api/errors.ts';
import { pairForShard, shardForPair } from '../protocol/placement.ts';
import type { SignedMessageJson, StoredOnNodeStatus, UploadOutcome } from '../node-api/wire.ts';

/** Limits of the service (defaults in {@link DEFAULT_SERVICE_LIMITS}). */
export interface ServiceLimits {
  /** Sliver expansions (verifications, recovery symbols) queued on the pool before new ones get 503. */
  readonly maxQueuedExpansions: number;
  /** Bytes of `?pending=true` uploads buffered in memory before new ones get 400 FAILED_PRECONDITION / CACHE_SATURATED (as Walrus). */
  readonly maxPendingBytes: number;
  /** Age after which buffered uploads of a blob that was never registered may be evicted. */
  readonly pendingTtlMs: number;
  /** Longest `wait_millis` honoured by the confirmation long poll. */
  readonly maxWaitMillis: number;
  /** Most symbol IDs or targets in one recoverySymbols request. */
  readonly maxSymbolsPerRequest: number;
}

/** Defaults of {@link ServiceLimits}. */
export const DEFAULT_SERVICE_LIMITS: ServiceLimits = {
  maxQueuedExpansions: 64,
  maxPendingBytes: 64 * 1024 * 1024,
  pendingTtlMs: 5 * 60_000,
  maxWaitMillis: 30_000,
  maxSymbolsPerRequest: 1024,
};

interface PendingBlob {
  /** When the first upload for the blob was buffered (ms); stale entries are evicted. */
  since: number;
  metadata?: Uint8Array;
  slivers: Map<string, { pair: number; axis: SliverAxis; bcs: Uint8Array }>;
  bytes: number;
  /** Sliver verifications running against this entry's metadata: such an entry is not evicted. */
  verifying: number;
}

/** The node's service object. Owns nothing it is given; {@link close} only stops waiters. */
export class NodeService {
  readonly store: NodeStore;
  readonly expander: PoolExpander;
  readonly keys: BlsKeyPair;
  readonly limits: ServiceLimits;
  readonly startedAt = Date.now();
  /** Notifies long-polling confirmation requests that events were applied. */
  readonly changes = new EventEmitter();
  private readonly pending = new Map<string, PendingBlob>();
  private pendingBytes = 0;
  private nShardsValue: number | null = null;
  private readonly metadataCache = new Map<string, BlobMetadata>();
  private writeQueue: {
    blobId: Uint8Array; pair: number; axis: SliverAxis; bcs: Uint8Array;
    resolve: (r: 'stored' | 'alreadyStored' | 'notRegistered' | 'shardNotAssigned') => void; reject: (e: unknown) => void;
  }[] = [];
  private writeScheduled = false;

  constructor(store: NodeStore, expander: PoolExpander, keys: BlsKeyPair, limits: Partial<ServiceLimits> = {}) {
    this.store = store;
    this.expander = expander;
    this.keys = keys;
    this.limits = { ...DEFAULT_SERVICE_LIMITS, ...limits };
    this.changes.setMaxListeners(0);
  }

  /** Sets the committee size (from the chain's system state; fixed for the system's lifetime). */
  setShardCount(nShards: number): void {
    new EncodingConfig(nShards); // validates
    this.nShardsValue = nShards;
  }

  /** The committee size. @throws 503 before the node has learned it. */
  get nShards(): number {
    if (this.nShardsValue === null) throw unavailable('the node has not synchronised with the chain yet');
    return this.nShardsValue;
  }

  /** The current epoch (as of the events applied). @throws 503 before it is known. */
  epoch(): number {
    const e = this.store.currentEpoch();
    if (e === null) throw unavailable('the node has not synchronised with the chain yet');
    return e;
  }

  /** Shards held now (empty when not in the committee). */
  currentShards(): number[] {
    return this.store.shards(this.epoch()) ?? [];
  }

  /** The shard that holds pair `pair` of `blobId` (walrus-protocol.md §2). */
  shardOfPair(blobId: Uint8Array, pair: number): number {
    return shardForPair(pair, blobIdRotation(blobId, this.nShards), this.nShards);
  }

  /** The pair index held by `shard` for `blobId`. */
  pairOfShard(blobId: Uint8Array, shard: number): number {
    return pairForShard(shard, blobIdRotation(blobId, this.nShards), this.nShards);
  }

  private checkPairIndex(pair: number): void {
    if (pair >= this.nShards) throw indexOutOfRange(pair, this.nShards);
  }

  private requireShard(blobId: Uint8Array, pair: number): void {
    const shard = this.shardOfPair(blobId, pair);
    if (!this.currentShards().includes(shard)) throw shardNotAssigned(shard, this.epoch());
  }

  private configFor(metadata: BlobMetadata): EncodingConfig {
    return new EncodingConfig(this.nShards, encodingByType(metadata.encodingType));
  }

  // ---- metadata -----------------------------------------------------------------------------

  /**
   * `PUT /v1/blobs/{id}/metadata`: verifies `body` (BCS BlobMetadata) against the blob ID and the
   * committee and stores it durably; with `pending`, buffers it in memory until registration.
   */
  async putMetadata(blobId: Uint8Array, body: Uint8Array, pending: boolean): Promise<UploadOutcome> {
    const epoch = this.epoch();
    if (this.store.invalidEvent(blobId)) {
      throw new ApiError('FAILED_PRECONDITION', 'INVALID_BLOB', 'the blob for this metadata is invalid');
    }
    const registered = this.store.isRegistered(blobId, epoch);
    if (!registered && !pending) throw notRegistered();
    if (this.store.hasMetadata(blobId)) return 'alreadyStored';
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
      verifyMetadata(new BlobMetadataWithId(blobId, metadata), this.nShards);
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
    return this.store.putMetadata(blobId, body) === 'stored' ? 'stored' : 'alreadyStored';
  }

  /** `GET /v1/blobs/{id}/metadata`: BCS BlobMetadataWithId. */
  getMetadata(blobId: Uint8Array): Uint8Array {
    const bcs = this.store.getMetadata(blobId);
    if (!bcs) throw metadataNotFound(false);
    const out = new Uint8Array(32 + bcs.length);
    out.set(blobId);
    out.set(bcs, 32);
    return out;
  }

  /** `GET /v1/blobs/{id}/metadata/status`. */
  metadataStatus(blobId: Uint8Array): StoredOnNodeStatus {
    if (this.store.hasMetadata(blobId)) return 'stored';
    return this.pending.get(key(blobId))?.metadata ? 'buffered' : 'nonexistent';
  }

  /**
   * Parsed metadata of `blobId` (stored, else buffered). Parsed metadata of recently used blobs is
   * cached: an upload sends n slivers per blob, and parsing n hash pairs for each costs more than
   * verifying a small sliver. Stored metadata never changes (only its removal), so the cache is
   * checked against the store's presence on every use.
   */
  private storedMetadata(blobId: Uint8Array): BlobMetadata | null {
    const k = key(blobId);
    const stored = this.store.hasMetadata(blobId);
    const cached = this.metadataCache.get(k);
    if (cached && stored) return cached;
    const bcs = stored ? this.store.getMetadata(blobId) : this.pending.get(k)?.metadata;
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
    const n = this.nShards;
    const expectedIndex = axis === 'primary' ? pair : n - 1 - pair;
    if (sliver.index !== expectedIndex) {
      throw invalidSliver(`${axis} sliver index ${sliver.index} does not belong to sliver pair ${pair} (expected ${expectedIndex})`);
    }
    if (registered && this.store.hasSliver(blobId, pair, axis)) return 'alreadyStored';
    const metadata = this.storedMetadata(blobId);
    if (!metadata) throw metadataNotFound(true);
    if (this.expander.pending >= this.limits.maxQueuedExpansions) throw unavailable('sliver verification is saturated; retry later');
    // Verifying against buffered metadata: pin its entry so eviction cannot drop it meanwhile.
    const pinned = registered || this.store.hasMetadata(blobId) ? undefined : this.pending.get(key(blobId));
    if (pinned) pinned.verifying++;
    let problem;
    try {
      problem = await this.expander.verify(this.configFor(metadata), metadata, sliver);
    } finally {
      if (pinned) pinned.verifying--;
    }
    if (problem) throw invalidSliver(problem.message);
    // The registration may have lapsed (or the blob been invalidated) while verifying.
    if (registered || this.store.isRegistered(blobId, this.epoch())) {
      const written = await this.writeSliver(blobId, pair, axis, body);
      if (written === 'notRegistered') throw notRegistered();
      if (written === 'shardNotAssigned') throw shardNotAssigned(this.shardOfPair(blobId, pair), this.epoch());
      return written;
    }
    if (this.store.invalidEvent(blobId)) throw notRegistered();
    // Never buffer a sliver without metadata to go with it (the entry may have been dropped by an
    // invalidation or a flush meanwhile): it could never be confirmed or served consistently.
    if (!this.store.hasMetadata(blobId) && !this.pending.get(key(blobId))?.metadata) throw metadataNotFound(true);
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
    this.checkPairIndex(pair);
    const registered = this.store.isRegistered(blobId, this.epoch());
    if (!registered && (!pending || this.store.invalidEvent(blobId))) throw notRegistered();
    this.requireShard(blobId, pair);
    return registered;
  }

  /**
   * Stores a verified sliver durably, committing together with the other slivers verified in the
   * same turn of the event loop (group commit): one fsync for the batch instead of one per
   * sliver, which matters because a commit blocks the event loop. Resolves only after the batch's
   * commit returned, so an acknowledgement still means "on disk". The registration is re-checked
   * inside the transaction: an invalidation or deletion applied meanwhile wins.
   */
  private writeSliver(blobId: Uint8Array, pair: number, axis: SliverAxis, bcs: Uint8Array): Promise<'stored' | 'alreadyStored' | 'notRegistered' | 'shardNotAssigned'> {
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
      const epoch = this.epoch();
      // Shard ownership is re-checked too: an epoch change applied during verification may have
      // moved the shard away, and this node must not keep (or acknowledge) slivers it no longer holds.
      const shards = new Set(this.currentShards());
      results = this.store.transaction(() =>
        batch.map((w) => {
          if (!this.store.isRegistered(w.blobId, epoch)) return 'notRegistered';
          if (!shards.has(this.shardOfPair(w.blobId, w.pair))) return 'shardNotAssigned';
          return this.store.putSliver(w.blobId, w.pair, w.axis, w.bcs);
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
    this.checkPairIndex(pair);
    const bcs = this.store.getSliver(blobId, pair, axis);
    if (bcs) return bcs;
    this.requireShard(blobId, pair);
    throw sliverNotFound();
  }

  /** `GET …/slivers/{pair}/{axis}/status`. */
  sliverStatus(blobId: Uint8Array, pair: number, axis: SliverAxis): StoredOnNodeStatus {
    this.checkPairIndex(pair);
    if (this.store.hasSliver(blobId, pair, axis)) return 'stored';
    // As Walrus: asking about a shard this node does not hold is an error, not "nonexistent".
    this.requireShard(blobId, pair);
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
    if (this.pendingBytes + bytes > this.limits.maxPendingBytes) {
      // Uploads for blobs that were never registered must not hold the buffer forever.
      const cutoff = Date.now() - this.limits.pendingTtlMs;
      for (const [k, p] of this.pending) {
        // An entry whose metadata a sliver is being verified against stays: evicting it would let
        // that sliver be buffered without the metadata it was checked with.
        if (p.since < cutoff && p.verifying === 0) {
          this.pending.delete(k);
          this.pendingBytes -= p.bytes;
        }
      }
    }
    if (this.pendingBytes + bytes > this.limits.maxPendingBytes) {
      // As Walrus: FAILED_PRECONDITION (400) with the reason CACHE_SATURATED; clients recognise
      // the reason and retry (after registering the blob, the upload is not buffered at all).
      throw new ApiError('FAILED_PRECONDITION', 'CACHE_SATURATED', 'the buffer for uploads pending registration is full; retry after registering the blob', { retryable: true });
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
    const epoch = this.epoch();
    if (!this.store.isRegistered(blobId, epoch)) return;
    const shards = new Set(this.currentShards());
    this.store.transaction(() => {
      if (p.metadata) this.store.putMetadata(blobId, p.metadata);
      // Slivers without metadata (buffered or stored) are not kept: a node must never hold slivers
      // it cannot tie to verified metadata.
      if (!this.store.hasMetadata(blobId)) return;
      for (const s of p.slivers.values()) {
        if (shards.has(this.shardOfPair(blobId, s.pair))) this.store.putSliver(blobId, s.pair, s.axis, s.bcs);
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

  // ---- confirmations ------------------------------------------------------------------------

  /**
   * `GET /v1/blobs/{id}/confirmation/{permanent|deletable/{object}}`: a BLS-signed storage
   * confirmation for the current epoch, given only when every shard this node holds now has both
   * slivers of the blob. With `waitMillis`, first waits up to that long for the registration.
   */
  async confirmation(blobId: Uint8Array, persistence: BlobPersistence, waitMillis: number | null, signal?: AbortSignal): Promise<{ signed: SignedMessageJson }> {
    if (waitMillis !== null && !this.store.isRegistered(blobId, this.epoch())) {
      await this.waitFor(() => this.store.isRegistered(blobId, this.epoch()), Math.min(waitMillis, this.limits.maxWaitMillis), signal);
    }
    const epoch = this.epoch();
    if (!this.store.isRegistered(blobId, epoch)) throw notRegistered();
    if (persistence.kind === 'deletable') {
      const objectId = '0x' + Buffer.from(persistence.objectId).toString('hex');
      if (!this.store.liveObjects(blobId, epoch).some((o) => o.objectId === objectId && o.deletable)) throw notRegistered();
    }
    // As Walrus (a blob is "stored" only with its metadata): slivers alone do not earn a confirmation.
    if (!this.store.hasMetadata(blobId)) {
      throw new ApiError('FAILED_PRECONDITION', 'MISSING_SLIVERS', 'the metadata of the blob is not stored', { retryable: true, metadata: { missing: 'metadata' } });
    }
    const stored = this.store.storedSliverKeys(blobId);
    for (const shard of this.currentShards()) {
      const pair = this.pairOfShard(blobId, shard);
      if (!stored.has(`${pair}:p`) || !stored.has(`${pair}:s`)) {
        throw new ApiError('FAILED_PRECONDITION', 'MISSING_SLIVERS', 'the required slivers are not all stored', { retryable: true, metadata: { shard, pair } });
      }
    }
    const message = storageConfirmationMessage(epoch, blobId, persistence);
    return { signed: this.sign(message) };
  }

  private sign(message: Uint8Array): SignedMessageJson {
    return { serializedMessage: Buffer.from(message).toString('base64'), signature: Buffer.from(blsSign(this.keys.secretKey, message)).toString('base64') };
  }

  /** Resolves when `done()` holds (re-checked after each applied event batch) or after `ms`. */
  private waitFor(done: () => boolean, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.changes.off('applied', check);
        this.changes.off('close', finish);
        signal?.removeEventListener('abort', finish);
        resolve();
      };
      const check = () => {
        try {
          if (done()) finish();
        } catch {
          finish();
        }
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      this.changes.on('applied', check);
      this.changes.on('close', finish);
      signal?.addEventListener('abort', finish, { once: true });
      check();
    });
  }

  // ---- status and health --------------------------------------------------------------------

  /** `GET /v1/blobs/{id}/status`. */
  blobStatus(blobId: Uint8Array): BlobStatus {
    return this.store.blobStatus(blobId, this.epoch());
  }

  /** `GET /v1/health`: Walrus's ServiceHealthInfo fields that apply to this node. */
  health(detailed: boolean, extra: { nodeId: string | null; eventsPending?: number }): object {
    const uptimeMs = Date.now() - this.startedAt;
    const epoch = this.store.currentEpoch();
    const shards = epoch === null ? [] : (this.store.shards(epoch) ?? []);
    const info: Record<string, unknown> = {
      uptime: { secs: Math.floor(uptimeMs / 1000), nanos: (uptimeMs % 1000) * 1_000_000 },
      epoch,
      publicKey: Buffer.from(this.keys.publicKey).toString('base64'),
      nodeId: extra.nodeId,
      nodeStatus: epoch === null ? 'Standby' : shards.length > 0 ? 'Active' : 'Standby',
      eventProgress: { persisted: this.store.eventsApplied(), pending: extra.eventsPending ?? 0 },
      // Without shard sync every owned shard is "ready" as soon as the node knows it owns it.
      shardSummary: { owned: shards.length, ownedShardStatus: { unknown: 0, ready: shards.length, inTransfer: 0, inRecovery: 0 }, readOnly: 0 },
    };
    if (detailed) {
      info.shardDetail = { owned: shards.map((s) => ({ shard: s, status: 'ready' })), other: [] };
      info.storage = this.store.counts();
    }
    return info;
  }

  // ---- recovery symbols ---------------------------------------------------------------------

  /**
   * `GET /v1/blobs/{id}/recoverySymbols?targetSliver=T&targetType=…[&proofAxis=…]`: one symbol per
   * source sliver this node stores on the proof axis (default: orthogonal to the target), each with
   * its Merkle proof in the source sliver's tree.
   */
  async recoverySymbolsForTarget(blobId: Uint8Array, targetIndex: number, targetAxis: SliverAxis, proofAxis: SliverAxis | null): Promise<RecoverySymbol[]> {
    const n = this.nShards;
    if (targetIndex >= n) throw indexOutOfRange(targetIndex, n);
    const source = proofAxis ?? orthogonal(targetAxis);
    if (source === targetAxis) throw badRequest('INVALID_QUERY', 'proofAxis must be orthogonal to targetType');
    // Every stored source sliver serves, also of shards held in earlier epochs: its symbols are
    // proven against the metadata all the same, and a node that gained a shard needs them.
    const tag = source === 'primary' ? 'p' : 's';
    const requests: { pair: number; targetIndex: number }[] = [];
    for (const k of this.store.storedSliverKeys(blobId)) {
      const [pair, axis] = k.split(':');
      if (axis === tag) requests.push({ pair: Number(pair), targetIndex });
    }
    requests.sort((a, b) => a.pair - b.pair);
    const out = await this.symbolsFrom(blobId, source, requests);
    if (out.length === 0) throw sliverNotFound();
    return out;
  }

  /**
   * `GET /v1/blobs/{id}/recoverySymbols?id=P-S&…[&proofAxis=…]`: the symbols at the intersections
   * (primary P, secondary S), each proven in the tree of a sliver this node stores (on `proofAxis`
   * when given, else whichever of the two slivers it stores, primary first).
   */
  async recoverySymbolsById(blobId: Uint8Array, ids: readonly { primary: number; secondary: number }[], proofAxis: SliverAxis | null): Promise<RecoverySymbol[]> {
    const n = this.nShards;
    if (ids.length === 0) throw new ApiError('FAILED_PRECONDITION', 'NO_SYMBOLS_SPECIFIED', 'at least one symbol ID must be specified');
    if (ids.length > this.limits.maxSymbolsPerRequest) throw badRequest('TOO_MANY_SYMBOLS', `at most ${this.limits.maxSymbolsPerRequest} symbols per request`);
    const stored = this.store.storedSliverKeys(blobId);
    const byAxis: Record<SliverAxis, { pair: number; targetIndex: number }[]> = { primary: [], secondary: [] };
    for (const id of ids) {
      if (id.primary >= n) throw indexOutOfRange(id.primary, n);
      if (id.secondary >= n) throw indexOutOfRange(id.secondary, n);
      const primaryPair = id.primary;
      const secondaryPair = n - 1 - id.secondary;
      const holdsPrimary = stored.has(`${primaryPair}:p`);
      const holdsSecondary = stored.has(`${secondaryPair}:s`);
      const axis: SliverAxis | null = proofAxis === 'primary' ? (holdsPrimary ? 'primary' : null)
        : proofAxis === 'secondary' ? (holdsSecondary ? 'secondary' : null)
        : holdsPrimary ? 'primary' : holdsSecondary ? 'secondary' : null;
      // As Walrus: symbols this node cannot serve are skipped; only an empty answer is an error.
      if (axis === null) continue;
      if (axis === 'primary') byAxis.primary.push({ pair: primaryPair, targetIndex: id.secondary });
      else byAxis.secondary.push({ pair: secondaryPair, targetIndex: id.primary });
    }
    const out = [...(await this.symbolsFrom(blobId, 'primary', byAxis.primary)), ...(await this.symbolsFrom(blobId, 'secondary', byAxis.secondary))];
    if (out.length === 0) {
      throw new ApiError('FAILED_PRECONDITION', 'SYMBOL_NOT_PRESENT_AT_SHARDS', "none of the requested symbols is the responsibility of this node's shards");
    }
    return out;
  }

  /** Symbols from `source`-axis slivers of the given pairs at the given target positions. */
  private async symbolsFrom(blobId: Uint8Array, source: SliverAxis, requests: readonly { pair: number; targetIndex: number }[]): Promise<RecoverySymbol[]> {
    if (requests.length === 0) return [];
    const metadata = this.storedMetadata(blobId);
    if (!metadata || !this.store.hasMetadata(blobId)) throw metadataNotFound(false);
    const cfg = this.configFor(metadata);
    const n = cfg.nShards;
    const S = cfg.symbolSize(metadata.unencodedLength);
    // One expansion per source sliver, however many targets it serves.
    const byPair = new Map<number, number[]>();
    for (const r of requests) byPair.set(r.pair, [...(byPair.get(r.pair) ?? []), r.targetIndex]);
    const out: RecoverySymbol[] = [];
    for (const [pair, targets] of byPair) {
      // Admission per expansion, not per request: this loop queues one expansion at a time, so a
      // node holding many slivers of the blob must not refuse for their count (at n = 1000 a
      // member holds hundreds). When the queue is full, as Walrus skips symbols it has no worker
      // for, a partial answer is served; only a request that got nothing answers 503.
      if (this.expander.pending >= this.limits.maxQueuedExpansions) {
        if (out.length > 0) break;
        throw unavailable('recovery-symbol computation is saturated; retry later');
      }
      const bcs = this.store.getSliver(blobId, pair, source);
      if (!bcs) continue; // not uploaded (yet): the caller asks other nodes too
      const sliver = SliverData.fromBcs(source, bcs);
      const { expanded, leaves } = await this.expander.expand(cfg, source, sliver.data, S, true);
      for (const t of targets) {
        out.push({
          targetAxis: orthogonal(source),
          sourceIndex: sliver.index,
          data: expanded!.slice(t * S, (t + 1) * S),
          targetIndex: t,
          proof: merkleProof(leaves!, n, t),
        });
      }
    }
    return out;
  }

  // ---- decoding symbols ---------------------------------------------------------------------

  /**
   * `GET /v1/blobs/{id}/decodingSymbols?targetSlivers=T…&targetType=…`: for each (systematic)
   * target sliver T of `targetType`, the raw source symbol at position T of every sliver this node
   * holds on the orthogonal axis, tagged with that sliver's index — without proofs, so the caller
   * must check what it decodes against the metadata. Slivers the node lacks are skipped.
   * @returns target index → symbols (in the node's shard order).
   */
  decodingSymbols(blobId: Uint8Array, targets: readonly number[], targetAxis: SliverAxis): Map<number, { sourceIndex: number; data: Uint8Array }[]> {
    if (targets.length === 0) throw new ApiError('FAILED_PRECONDITION', 'NO_TARGET_SLIVERS_SPECIFIED', 'at least one target sliver must be specified');
    if (targets.length > this.limits.maxSymbolsPerRequest) throw badRequest('TOO_MANY_SYMBOLS', `at most ${this.limits.maxSymbolsPerRequest} targets per request`);
    const cfg = new EncodingConfig(this.nShards);
    // Only source (systematic) slivers: their symbols are plain source symbols of the orthogonal slivers.
    const k = targetAxis === 'primary' ? cfg.primarySymbols : cfg.secondarySymbols;
    for (const t of targets) {
      if (t >= k) throw new ApiError('INVALID_ARGUMENT', 'RECOVERY_SYMBOL_OUT_OF_RANGE', `target ${targetAxis} sliver ${t} is not a source sliver (index must be < ${k})`);
    }
    const unique = [...new Set(targets)];
    const shards = this.currentShards();
    // The answer holds targets × held slivers symbols: bounded like the symbol count of one
    // request, so a node holding many shards cannot be made to assemble an unbounded answer.
    if (unique.length * shards.length > this.limits.maxSymbolsPerRequest) {
      throw badRequest('TOO_MANY_SYMBOLS', `at most ${this.limits.maxSymbolsPerRequest} symbols per request (targets × ${shards.length} held shards); ask for at most ${Math.max(1, Math.floor(this.limits.maxSymbolsPerRequest / Math.max(1, shards.length)))} targets`);
    }
    const out = new Map<number, { sourceIndex: number; data: Uint8Array }[]>(unique.map((t) => [t, []]));
    const source = orthogonal(targetAxis);
    for (const shard of shards) {
      // Only the requested symbols are read (SQL substr), not each sliver in full.
      const got = this.store.sliverSymbolsAt(blobId, this.pairOfShard(blobId, shard), source, unique);
      if (!got) continue;
      unique.forEach((t, i) => out.get(t)!.push({ sourceIndex: got.index, data: got.symbols[i] }));
    }
    return out;
  }

  // ---- inconsistency proofs -----------------------------------------------------------------

  /**
   * `POST /v1/blobs/{id}/inconsistencyProof/{axis}`: verifies the proof against the stored
   * metadata and, when it shows the blob is inconsistent, returns a signed invalid-blob-ID
   * attestation for the current epoch.
   */
  async inconsistencyProof(blobId: Uint8Array, axis: SliverAxis, body: Uint8Array): Promise<SignedMessageJson> {
    const metadata = this.storedMetadata(blobId);
    if (!metadata || !this.store.hasMetadata(blobId)) throw metadataNotFound(true);
    let proof;
    try {
      proof = inconsistencyProofFromBcs(axis, body);
    } catch (e) {
      throw badRequest('INVALID_BCS', `malformed InconsistencyProof BCS: ${(e as Error).message}`);
    }
    const cfg = this.configFor(metadata);
    const k = axis === 'primary' ? cfg.secondarySymbols : cfg.primarySymbols;
    const invalid = (why: string) => new ApiError('INVALID_ARGUMENT', 'INVALID_PROOF', `the inconsistency proof does not verify: ${why}`);
    // Cheap shape checks first: the decode below is only worth running for a well-formed proof.
    if (proof.symbols.length !== k) throw invalid(`it must hold exactly ${k} symbols, got ${proof.symbols.length}`);
    if (proof.targetIndex >= cfg.nShards) throw invalid(`target index ${proof.targetIndex} out of range`);
    const symbols: RecoverySymbol[] = proof.symbols.map((s) => ({ targetAxis: axis, sourceIndex: s.sourceIndex, data: s.data, targetIndex: proof.targetIndex, proof: s.proof }));
    // Fail fast, before any pool work: the first duplicated symbol or failing Merkle proof ends
    // the check (a proof check hashes one symbol and ⌈log2 n⌉ nodes: cheap on this thread).
    const seen = new Set<number>();
    for (const s of symbols) {
      if (seen.has(s.sourceIndex)) throw invalid(`symbol ${s.sourceIndex} is given twice`);
      seen.add(s.sourceIndex);
      if (!verifyRecoverySymbol(cfg, metadata, s, axis, proof.targetIndex)) throw invalid(`the Merkle proof of symbol ${s.sourceIndex} fails`);
    }
    if (this.expander.pending + 2 > this.limits.maxQueuedExpansions) throw unavailable('proof verification is saturated; retry later');
    // Exactly k symbols given, so "k distinct valid ones" means every one is valid and distinct.
    // The decode and the expansion of the target run on the pool.
    let result;
    try {
      result = await this.expander.recoverSliver(cfg, metadata, axis, proof.targetIndex, symbols);
    } catch (e) {
      if (e instanceof TuskError && !(e instanceof ApiError)) throw invalid('a symbol is duplicated or its Merkle proof fails');
      throw e;
    }
    if (!result.inconsistent) throw invalid('the symbols decode to the sliver the metadata commits to');
    return this.sign(invalidBlobIdMessage(this.epoch(), blobId));
  }

  /** Wakes up waiters; call after applying chain events. */
  notifyApplied(): void {
    this.changes.emit('applied');
  }

  /** Stops long polls (they answer with the state they see). */
  close(): void {
    this.changes.emit('close');
  }
}

function key(blobId: Uint8Array): string {
  return Buffer.from(blobId).toString('hex');
}
