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
 * The work is split by job: ./uploads.ts (accepting metadata and slivers, write batching, the
 * pending-registration buffer), ./confirmations.ts (signed confirmations, long poll) and
 * ./recovery-api.ts (recovery symbols, decoding symbols, inconsistency proofs). This file keeps
 * the state they share and the health and status answers.
 *
 * Errors are {@link ApiError}s carrying Walrus's reasons.
 */
import { EventEmitter } from 'node:events';
import { blobIdRotation } from '../codec/blob-id.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByType } from '../codec/encodings/index.ts';
import type { BlobMetadata } from '../codec/metadata.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import type { RecoverySymbol } from '../codec/recovery.ts';
import { blsSign, type BlsKeyPair } from '../crypto/bls.ts';
import type { BlobPersistence } from '../protocol/messages.ts';
import type { NodeStore, BlobStatus } from './store.ts';
import type { PoolExpander } from './pool-expander.ts';
import { indexOutOfRange, shardNotAssigned, unavailable } from '../node-api/errors.ts';
import { pairForShard, shardForPair } from '../protocol/placement.ts';
import type { SignedMessageJson, StoredOnNodeStatus, UploadOutcome } from '../node-api/wire.ts';
import { UploadIntake } from './uploads.ts';
import { Confirmations } from './confirmations.ts';
import { RecoveryApi } from './recovery-api.ts';

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

/**
 * The node's service object: the epoch and shard state every request needs, health and blob
 * status, and the three collaborators that do the rest (uploads, confirmations, recovery API), to
 * which the route-facing methods delegate. Owns nothing it is given; {@link close} only stops waiters.
 */
export class NodeService {
  readonly store: NodeStore;
  readonly expander: PoolExpander;
  readonly keys: BlsKeyPair;
  readonly limits: ServiceLimits;
  readonly startedAt = Date.now();
  /** Notifies long-polling confirmation requests that events were applied. */
  readonly changes = new EventEmitter();
  /** Metadata and sliver uploads, the write batching and the pending-registration buffer. */
  readonly uploads: UploadIntake;
  /** Signed storage confirmations and their long poll. */
  readonly confirmations: Confirmations;
  /** Recovery symbols, decoding symbols and inconsistency proofs. */
  readonly recovery: RecoveryApi;
  private nShardsValue: number | null = null;

  constructor(store: NodeStore, expander: PoolExpander, keys: BlsKeyPair, limits: Partial<ServiceLimits> = {}) {
    this.store = store;
    this.expander = expander;
    this.keys = keys;
    this.limits = { ...DEFAULT_SERVICE_LIMITS, ...limits };
    this.changes.setMaxListeners(0);
    this.uploads = new UploadIntake(this);
    this.confirmations = new Confirmations(this);
    this.recovery = new RecoveryApi(this);
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

  /** @throws 400 INDEX_OUT_OF_RANGE for a pair index ≥ n. */
  checkPairIndex(pair: number): void {
    if (pair >= this.nShards) throw indexOutOfRange(pair, this.nShards);
  }

  /** @throws 400 SHARD_NOT_ASSIGNED unless this node holds the shard of `pair` now. */
  requireShard(blobId: Uint8Array, pair: number): void {
    const shard = this.shardOfPair(blobId, pair);
    if (!this.currentShards().includes(shard)) throw shardNotAssigned(shard, this.epoch());
  }

  /** The encoding configuration `metadata` was encoded with, on this committee. */
  configFor(metadata: BlobMetadata): EncodingConfig {
    return new EncodingConfig(this.nShards, encodingByType(metadata.encodingType));
  }

  /** Signs `message` with the node's BLS key, in the API's JSON form. */
  sign(message: Uint8Array): SignedMessageJson {
    return {
      serializedMessage: Buffer.from(message).toString('base64'),
      signature: Buffer.from(blsSign(this.keys.secretKey, message)).toString('base64'),
    };
  }

  // ---- delegated to the collaborators ------------------------------------------------------

  /** See {@link UploadIntake.putMetadata}. */
  putMetadata(blobId: Uint8Array, body: Uint8Array, pending: boolean): Promise<UploadOutcome> {
    return this.uploads.putMetadata(blobId, body, pending);
  }

  /** See {@link UploadIntake.getMetadata}. */
  getMetadata(blobId: Uint8Array): Uint8Array {
    return this.uploads.getMetadata(blobId);
  }

  /** See {@link UploadIntake.metadataStatus}. */
  metadataStatus(blobId: Uint8Array): StoredOnNodeStatus {
    return this.uploads.metadataStatus(blobId);
  }

  /** Parsed metadata of `blobId` (stored, else buffered), cached; see {@link UploadIntake.storedMetadata}. */
  storedMetadata(blobId: Uint8Array): BlobMetadata | null {
    return this.uploads.storedMetadata(blobId);
  }

  /** See {@link UploadIntake.putSliver}. */
  putSliver(blobId: Uint8Array, pair: number, axis: SliverAxis, body: Uint8Array, pending: boolean): Promise<UploadOutcome> {
    return this.uploads.putSliver(blobId, pair, axis, body, pending);
  }

  /** See {@link UploadIntake.precheckSliver}. */
  precheckSliver(blobId: Uint8Array, pair: number, pending: boolean): boolean {
    return this.uploads.precheckSliver(blobId, pair, pending);
  }

  /** See {@link UploadIntake.getSliver}. */
  getSliver(blobId: Uint8Array, pair: number, axis: SliverAxis): Uint8Array {
    return this.uploads.getSliver(blobId, pair, axis);
  }

  /** See {@link UploadIntake.sliverStatus}. */
  sliverStatus(blobId: Uint8Array, pair: number, axis: SliverAxis): StoredOnNodeStatus {
    return this.uploads.sliverStatus(blobId, pair, axis);
  }

  /** See {@link UploadIntake.flushPending}. */
  flushPending(blobId: Uint8Array): void {
    this.uploads.flushPending(blobId);
  }

  /** See {@link UploadIntake.dropPending}. */
  dropPending(blobId: Uint8Array): void {
    this.uploads.dropPending(blobId);
  }

  /** See {@link Confirmations.confirmation}. */
  confirmation(
    blobId: Uint8Array,
    persistence: BlobPersistence,
    waitMillis: number | null,
    signal?: AbortSignal,
  ): Promise<{ signed: SignedMessageJson }> {
    return this.confirmations.confirmation(blobId, persistence, waitMillis, signal);
  }

  /** See {@link RecoveryApi.recoverySymbolsForTarget}. */
  recoverySymbolsForTarget(
    blobId: Uint8Array,
    targetIndex: number,
    targetAxis: SliverAxis,
    proofAxis: SliverAxis | null,
  ): Promise<RecoverySymbol[]> {
    return this.recovery.recoverySymbolsForTarget(blobId, targetIndex, targetAxis, proofAxis);
  }

  /** See {@link RecoveryApi.recoverySymbolsById}. */
  recoverySymbolsById(
    blobId: Uint8Array,
    ids: readonly { primary: number; secondary: number }[],
    proofAxis: SliverAxis | null,
  ): Promise<RecoverySymbol[]> {
    return this.recovery.recoverySymbolsById(blobId, ids, proofAxis);
  }

  /** See {@link RecoveryApi.decodingSymbols}. */
  decodingSymbols(
    blobId: Uint8Array,
    targets: readonly number[],
    targetAxis: SliverAxis,
  ): Map<number, { sourceIndex: number; data: Uint8Array }[]> {
    return this.recovery.decodingSymbols(blobId, targets, targetAxis);
  }

  /** See {@link RecoveryApi.inconsistencyProof}. */
  inconsistencyProof(blobId: Uint8Array, axis: SliverAxis, body: Uint8Array): Promise<SignedMessageJson> {
    return this.recovery.inconsistencyProof(blobId, axis, body);
  }

  // ---- status and health --------------------------------------------------------------------

  /** `GET /v1/blobs/{id}/status`. */
  blobStatus(blobId: Uint8Array): BlobStatus {
    return this.store.blobStatus(blobId, this.epoch());
  }

  /** `GET /v1/health`: Walrus's ServiceHealthInfo fields that apply to this node. */
  health(
    detailed: boolean,
    extra: { nodeId: string | null; eventsPending?: number; missingSlivers?: number; challenges?: object | null },
  ): object {
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
      // A shard counts as ready once the node owns it; while slivers of recently certified blobs
      // are still being fetched from peers (a node that was down during a store) the shards are
      // reported in recovery and `missingSlivers` says how many slivers are still missing.
      shardSummary: {
        owned: shards.length,
        ownedShardStatus:
          (extra.missingSlivers ?? 0) > 0
            ? { unknown: 0, ready: 0, inTransfer: 0, inRecovery: shards.length }
            : { unknown: 0, ready: shards.length, inTransfer: 0, inRecovery: 0 },
        readOnly: 0,
        missingSlivers: extra.missingSlivers ?? 0,
      },
    };
    // Tusk-only: storage-challenge rounds passed, failed and missed (docs/challenges.md).
    if (extra.challenges) info.challenges = extra.challenges;
    if (detailed) {
      info.shardDetail = { owned: shards.map((s) => ({ shard: s, status: 'ready' })), other: [] };
      info.storage = this.store.counts();
    }
    return info;
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
