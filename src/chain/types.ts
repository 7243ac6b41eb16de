/**
 * The `Chain` interface: what Tusk's client and storage nodes need from the chain that keeps the
 * proofs (walrus-protocol.md §6–§8). Two adapters implement it: the embedded local chain
 * (src/chain/local/, persisted in SQLite, also served over HTTP by `tusk chain`) and, later, Sui
 * through `@mysten/sui`. The shapes follow the Move objects and entry points of the `walrus`
 * package so that the Sui adapter is a translation, not a redesign:
 *
 *  - money is `bigint` FROST (1 WAL = 10^9 FROST), never a float;
 *  - epochs are u32 `number`s; byte sizes are `number`s (every Walrus size fits in 2^53);
 *  - addresses and object IDs are Sui-style `0x` + 64 lowercase hex digits;
 *  - blob IDs and root hashes are 32-byte `Uint8Array`s (the u256 of Move, little-endian bytes);
 *  - every state-changing call takes the sender's `Signer` (an `@mysten/sui` keypair) and is
 *    checked against the owner of every object it touches.
 *
 * Failures of Move asserts are `ChainAbortError`s whose `code` is the Move abort constant's name
 * (e.g. `EInvalidBlobId`), so callers can branch on them exactly as on a Sui abort.
 */
import type { Signer } from '@mysten/sui/cryptography';
import type { BlobId } from '../codec/blob-id.ts';
import type { ChallengeItem } from '../challenge/sampler.ts';

/** A Sui address or object ID: `0x` followed by 64 lowercase hex digits. */
export type Address = string;
/** A Sui object ID (same form as an address). */
export type ObjectId = string;

/** 1 WAL in FROST. */
export const FROST_PER_WAL = 1_000_000_000n;
/** Bytes per storage unit for pricing (walrus-protocol.md §7: 1 MiB). */
export const BYTES_PER_UNIT_SIZE = 1_048_576;

/** Storage units priced for `bytes` (an encoded length): ⌈bytes / 1 MiB⌉. */
export function storageUnits(bytes: number): bigint {
  return BigInt(Math.ceil(bytes / BYTES_PER_UNIT_SIZE));
}

/** Whether the system is serving the current epoch or moving shards to a new committee. */
export type EpochState = 'active' | 'changeSync';

/** One member of a committee: the node, its BLS key, and the shards it holds. */
export interface CommitteeNode {
  readonly nodeId: ObjectId;
  /** 48-byte compressed BLS12-381 G1 public key. */
  readonly publicKey: Uint8Array;
  /** Shard indices held in this epoch (sorted ascending); `weight` = their count. */
  readonly shards: readonly number[];
  readonly weight: number;
  /** `host:port` (or a URL) of the node's storage-node REST API. */
  readonly networkAddress: string;
  readonly name: string;
}

/** The committee of one epoch. `members` is ordered by node ID: a signer index is a position here. */
export interface CommitteeInfo {
  readonly epoch: number;
  readonly nShards: number;
  readonly members: readonly CommitteeNode[];
}

/** The system object's state (SystemStateInnerV1 plus the staking state nodes need). */
export interface SystemState {
  readonly epoch: number;
  readonly epochState: EpochState;
  readonly nShards: number;
  /** FROST per 1 MiB unit per epoch. */
  readonly storagePricePerUnitSize: bigint;
  /** FROST per 1 MiB unit, once, at registration. */
  readonly writePricePerUnitSize: bigint;
  readonly totalCapacitySize: number;
  readonly usedCapacitySize: number;
  readonly maxEpochsAhead: number;
  /** Epoch duration in milliseconds (the local chain advances after this long, if it runs a clock). */
  readonly epochDurationMs: number;
  /** Wall-clock time the current epoch started (ms since the Unix epoch). */
  readonly epochStartMs: number;
  readonly committee: CommitteeInfo;
}

/** A `Storage` resource: `storageSize` bytes from `startEpoch` (inclusive) to `endEpoch` (exclusive). */
export interface StorageResource {
  readonly id: ObjectId;
  readonly owner: Address;
  readonly startEpoch: number;
  readonly endEpoch: number;
  readonly storageSize: number;
}

/** A `Blob` object. `storage` is the resource it consumed (owned by the blob, not by an address). */
export interface BlobObject {
  readonly id: ObjectId;
  readonly owner: Address;
  readonly registeredEpoch: number;
  readonly blobId: BlobId;
  readonly rootHash: Uint8Array;
  /** Unencoded length in bytes. */
  readonly size: number;
  readonly encodingType: number;
  readonly certifiedEpoch: number | null;
  readonly storage: Omit<StorageResource, 'owner'>;
  readonly deletable: boolean;
  /** The blob's attributes (Move `Metadata` under the dynamic field `b"metadata"`). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** A staking position (`StakedWal`): principal staked with a node from `activationEpoch`. */
export interface StakedWal {
  readonly id: ObjectId;
  readonly owner: Address;
  readonly nodeId: ObjectId;
  readonly principal: bigint;
  readonly activationEpoch: number;
  /** Set once a withdrawal was requested: the epoch from which `withdrawStake` may be called. */
  readonly withdrawableEpoch: number | null;
}

/** A registered storage node (its staking pool and the parameters it votes for). */
export interface StorageNodeInfo {
  readonly nodeId: ObjectId;
  /** The address holding the node's operator capability. */
  readonly operator: Address;
  readonly name: string;
  readonly networkAddress: string;
  /** 48-byte compressed BLS public key. */
  readonly publicKey: Uint8Array;
  /** Commission in basis points (0…10000) taken from the node's rewards before delegators'. */
  readonly commissionRateBps: number;
  /** The node's votes, used to set the system prices and capacity at epoch change. */
  readonly storagePriceVote: bigint;
  readonly writePriceVote: bigint;
  readonly capacityVote: number;
  /** Stake that counts for the next committee selection (FROST). */
  readonly stake: bigint;
  /** Rewards accumulated and not yet paid out to stakers (FROST). */
  readonly rewards: bigint;
  /** Commission accumulated for the operator (FROST). */
  readonly commission: bigint;
}

/** A position in the event stream; opaque to callers, comparable by the chain only. */
export type EventCursor = string;

/** Identifies an event the way Sui does: transaction digest and sequence within it. */
export interface EventId {
  readonly txDigest: string;
  readonly eventSeq: number;
}

/** Events, mirroring `walrus::events` (walrus-protocol.md §7) plus the staking ones nodes follow. */
export type ChainEvent =
  | {
      type: 'BlobRegistered';
      epoch: number;
      blobId: BlobId;
      size: number;
      encodingType: number;
      endEpoch: number;
      deletable: boolean;
      objectId: ObjectId;
    }
  | { type: 'BlobCertified'; epoch: number; blobId: BlobId; endEpoch: number; deletable: boolean; objectId: ObjectId; isExtension: boolean }
  | { type: 'BlobDeleted'; epoch: number; blobId: BlobId; endEpoch: number; objectId: ObjectId; wasCertified: boolean }
  | { type: 'InvalidBlobID'; epoch: number; blobId: BlobId }
  | { type: 'StorageNodeRegistered'; epoch: number; nodeId: ObjectId }
  /** Epoch `epoch` begins; the listed node gains/loses shards relative to epoch − 1. */
  | { type: 'EpochChangeStart'; epoch: number; shardMoves: readonly ShardMove[] }
  | { type: 'EpochChangeDone'; epoch: number }
  | { type: 'ShardsReceived'; epoch: number; nodeId: ObjectId; shards: readonly number[] }
  | { type: 'EpochParametersSelected'; nextEpoch: number }
  | { type: 'RewardsDistributed'; epoch: number; nodeId: ObjectId; amount: bigint }
  /** Walrus Sites (chain/site-objects.ts): a site was created, changed (`paths`: resources added or removed), burned. */
  | { type: 'SiteCreated'; siteId: ObjectId }
  | { type: 'SiteUpdated'; siteId: ObjectId; version: number; paths: readonly string[] }
  | { type: 'SiteBurned'; siteId: ObjectId }
  // Storage challenges (Tusk-only; docs/challenges.md).
  | { type: 'ChallengeRoundStarted'; epoch: number; round: number; seed: Uint8Array; commitDeadlineMs: number; proofDeadlineMs: number }
  | { type: 'ChallengeResult'; epoch: number; round: number; nodeId: ObjectId; outcome: ChallengeOutcome; absent: number; invalid: number }
  | {
      type: 'PerformanceApplied';
      epoch: number;
      nodeId: ObjectId;
      scheduled: number;
      passed: number;
      failed: number;
      missed: number;
      withholdingBps: number;
    }
  | { type: 'NodeJailed'; epoch: number; nodeId: ObjectId; untilEpoch: number; reason: 'dataLoss' | 'unavailable' }
  | { type: 'CommissionBurned'; epoch: number; nodeId: ObjectId; amount: bigint }
  /** `amount` FROST of the pool's active stake burnt for an offence in `epoch` (its exchange rate drops). */
  | { type: 'NodeSlashed'; epoch: number; nodeId: ObjectId; reason: 'dataLoss' | 'persistentFailure'; amount: bigint };

/** What a StakedWal is worth at its pool's exchange rate (docs/challenges.md §3: slashing lowers it). */
export interface StakedWalValue {
  readonly stakedWalId: ObjectId;
  readonly nodeId: ObjectId;
  readonly principal: bigint;
  /** Not yet active, active, or withdrawal requested. */
  readonly state: 'pending' | 'active' | 'withdrawing';
  /** FROST at `valuedAtEpoch`'s rate (the principal while pending): what `withdrawStake` pays once withdrawable. */
  readonly value: bigint;
  readonly valuedAtEpoch: number;
}

/** One node's assignment in a challenge round, with its outcome once known (docs/challenges.md). */
export interface ChallengeAssignmentInfo {
  readonly epoch: number;
  readonly round: number;
  readonly nodeId: ObjectId;
  /** The items the node must answer (src/challenge/sampler.ts `ChallengeItem`). */
  readonly items: ChallengeItem[];
  readonly committed: boolean;
  readonly outcome: ChallengeOutcome | null;
  readonly absent: number;
  readonly invalid: number;
}

/** A challenge round with every node's assignment. */
export interface ChallengeRoundInfo {
  readonly epoch: number;
  readonly round: number;
  readonly seed: Uint8Array;
  readonly startedMs: number;
  readonly closed: boolean;
  readonly assignments: ChallengeAssignmentInfo[];
}

/** One node's challenge record over a range of epochs. */
export interface ChallengeNodeStatus {
  readonly nodeId: ObjectId;
  readonly scheduled: number;
  readonly passed: number;
  readonly failed: number;
  readonly missed: number;
  /** Rounds with at least one absent or invalid item. */
  readonly lossRounds: number;
  /** Most absent + invalid items in one round. */
  readonly worstLoss: number;
  /** The node sits out committees before this epoch, or null if never jailed. */
  readonly jailedUntilEpoch: number | null;
  readonly rounds: ChallengeAssignmentInfo[];
}

/** What the epoch change settled for one committee member and epoch (docs/challenges.md §3). */
export interface ChallengePenaltyRecord {
  readonly nodeId: ObjectId;
  readonly epoch: number;
  readonly scheduled: number;
  readonly passed: number;
  readonly failed: number;
  readonly missed: number;
  /** Basis points of the node's reward for the epoch withheld. */
  readonly withholdingBps: number;
  readonly offence: 'dataLoss' | 'unavailable' | null;
  /** Jailed by this settlement: out of committees before this epoch (null: not jailed by it). */
  readonly jailedUntilEpoch: number | null;
  /** Operator commission burnt (FROST). */
  readonly commissionBurned: bigint;
  /** Pool stake slashed and burnt (FROST). */
  readonly slashed: bigint;
}

/** The chain-wide challenge picture (`tusk info challenges`). */
export interface ChallengeSummary {
  readonly epoch: number;
  /** The chain's challenge and penalty parameters (chain/local/challenges.ts ChallengeParams). */
  readonly params: Readonly<Record<string, number>>;
  /** The latest round of the current epoch, or null before the first. */
  readonly currentRound: {
    readonly epoch: number;
    readonly round: number;
    readonly startedMs: number;
    readonly closed: boolean;
    readonly commitDeadlineMs: number;
    readonly proofDeadlineMs: number;
    readonly nodes: number;
  } | null;
  /** The outcomes of the latest closed round (any epoch), or null. */
  readonly lastOutcomes: {
    readonly epoch: number;
    readonly round: number;
    readonly nodes: readonly { nodeId: ObjectId; outcome: ChallengeOutcome; absent: number; invalid: number }[];
  } | null;
  /** Nodes out of the current or a later committee: the first epoch they may serve again. */
  readonly jailed: readonly { nodeId: ObjectId; untilEpoch: number }[];
  /** FROST burnt by penalties in total, of which by stake slashing, and by commission burning. */
  readonly burned: bigint;
  readonly slashed: bigint;
  readonly commissionBurned: bigint;
}

/** The challenge reads a chain with storage challenges serves (LocalChain, RemoteChain). */
export interface ChallengeReads {
  /** Rounds of `epoch` (default: current). */
  challengeRounds(epoch?: number): Promise<ChallengeRoundInfo[]>;
  /** One node's record over epochs from…to (default: all). */
  challengeStatus(nodeId: ObjectId, fromEpoch?: number, toEpoch?: number): Promise<ChallengeNodeStatus>;
  /** Settlements over epochs from…to (default: all), of every node or of `nodeId`; by epoch, then node. */
  challengePenalties(fromEpoch?: number, toEpoch?: number, nodeId?: ObjectId): Promise<ChallengePenaltyRecord[]>;
  /** Current round, last outcomes, jailed nodes, burnt and slashed totals. */
  challengeSummary(): Promise<ChallengeSummary>;
}

/** A node's outcome in one challenge round: all items proven, some not (or late), or no commit in time. */
export type ChallengeOutcome = 'passed' | 'failed' | 'missed';

/** One shard changing hands at an epoch change (`from` null = first assignment). */
export interface ShardMove {
  readonly shard: number;
  readonly from: ObjectId | null;
  readonly to: ObjectId;
}

/** An event with its position. `cursor` resumes the stream right after this event. */
export interface ChainEventEnvelope {
  readonly id: EventId;
  readonly cursor: EventCursor;
  readonly timestampMs: number;
  readonly event: ChainEvent;
}

/** A page of events and the cursor to continue from (equal to the input when nothing is new). */
export interface EventPage {
  readonly events: readonly ChainEventEnvelope[];
  readonly nextCursor: EventCursor | null;
}

/** Options of `Chain.events`. */
export interface EventQueryOptions {
  /** Resume after this cursor; null/undefined = from the first event. */
  readonly cursor?: EventCursor | null;
  /** Maximum events returned (default 1000). */
  readonly limit?: number;
  /** Wait up to this long for at least one event before returning an empty page (long poll). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
}

/** What every successful state-changing call returns besides its own result. */
export interface TxEffects {
  /** The transaction digest (base58, as Sui prints it). */
  readonly digest: string;
  readonly events: readonly ChainEventEnvelope[];
}

/** Options of `Chain.reserveSpace`. */
export interface ReserveSpaceOptions {
  /** Bytes to reserve; clients pass the encoded blob length. */
  readonly size: number;
  /** Epochs from the current one (1…maxEpochsAhead). */
  readonly epochsAhead: number;
}

/** Options of `Chain.registerBlob`. */
export interface RegisterBlobOptions {
  /** An existing Storage resource of the sender, or the space to reserve in the same transaction. */
  readonly storage: ObjectId | ReserveSpaceOptions;
  readonly blobId: BlobId;
  readonly rootHash: Uint8Array;
  readonly size: number;
  readonly encodingType: number;
  readonly deletable: boolean;
}

/** Options of `Chain.certifyBlob` and `Chain.invalidateBlobId`: an aggregate certificate. */
export interface CertificateOptions {
  /** 96-byte aggregate BLS signature. */
  readonly signature: Uint8Array;
  /** Signers bitmap over the current committee's members (LSB first). */
  readonly signersBitmap: Uint8Array;
  /** The signed protocol message. */
  readonly message: Uint8Array;
}

/** Options of `Chain.registerNode`. */
export interface RegisterNodeOptions {
  readonly name: string;
  readonly networkAddress: string;
  /** 48-byte compressed BLS public key. */
  readonly publicKey: Uint8Array;
  /** BLS signature of the proof-of-possession message (see `proofOfPossessionMessage`). */
  readonly proofOfPossession: Uint8Array;
  readonly commissionRateBps: number;
  readonly storagePriceVote: bigint;
  readonly writePriceVote: bigint;
  readonly capacityVote: number;
}

/** Options of `Chain.updateNode` (any subset). Only the node's operator may call it. */
export interface UpdateNodeOptions {
  readonly networkAddress?: string;
  readonly storagePriceVote?: bigint;
  readonly writePriceVote?: bigint;
  readonly capacityVote?: number;
  readonly commissionRateBps?: number;
}

/** Kinds of owned object, for `Chain.ownedObjects`. */
export type OwnedObject =
  | { kind: 'blob'; object: BlobObject }
  | { kind: 'storage'; object: StorageResource }
  | { kind: 'stakedWal'; object: StakedWal }
  | { kind: 'nodeCap'; nodeId: ObjectId; id: ObjectId };

/**
 * The chain as Tusk's client and nodes use it. Reads are free; writes take the sender's signer
 * and are atomic: either every effect (objects, balances, events) is applied or none is.
 */
export interface Chain {
  // --- reads ---------------------------------------------------------------------------------
  /** The system object's state including the current committee. */
  systemState(): Promise<SystemState>;
  /** The committee of `epoch` (default: current). Past committees stay readable. */
  committee(epoch?: number): Promise<CommitteeInfo>;
  /** WAL balance of `address` in FROST. */
  balance(address: Address): Promise<bigint>;
  getBlob(objectId: ObjectId): Promise<BlobObject | null>;
  getStorage(objectId: ObjectId): Promise<StorageResource | null>;
  getStakedWal(objectId: ObjectId): Promise<StakedWal | null>;
  getNode(nodeId: ObjectId): Promise<StorageNodeInfo | null>;
  /** Every registered node (committee or not), ordered by node ID. */
  nodes(): Promise<StorageNodeInfo[]>;
  /** Objects owned by `address`. */
  ownedObjects(address: Address): Promise<OwnedObject[]>;
  /** Live Blob objects (not deleted or burnt) carrying `blobId`. */
  blobObjects(blobId: BlobId): Promise<BlobObject[]>;
  /** Events after `cursor`, oldest first. With `waitMs`, waits for at least one. */
  events(options?: EventQueryOptions): Promise<EventPage>;

  // --- WAL -----------------------------------------------------------------------------------
  transferWal(signer: Signer, recipient: Address, amount: bigint): Promise<TxEffects>;

  // --- blobs (walrus::system) ----------------------------------------------------------------
  /** `reserve_space`: pays `storage price × units(size) × epochsAhead`. */
  reserveSpace(signer: Signer, options: ReserveSpaceOptions): Promise<TxEffects & { storage: StorageResource }>;
  /** `register_blob` (optionally after `reserve_space` in the same transaction); pays the write price. */
  registerBlob(signer: Signer, options: RegisterBlobOptions): Promise<TxEffects & { blob: BlobObject }>;
  /** `certify_blob`: quorum certificate over the storage confirmation of the current epoch. */
  certifyBlob(signer: Signer, blobObjectId: ObjectId, certificate: CertificateOptions): Promise<TxEffects & { blob: BlobObject }>;
  /**
   * Optional (Tusk's own chain has it): many `registerBlob`s in one transaction, atomically (all
   * registered and paid, or none), in order. Walrus does the same with several register_blob
   * commands in one PTB. Callers check for the method and fall back to `registerBlob`.
   */
  registerBlobs?(signer: Signer, options: readonly RegisterBlobOptions[]): Promise<TxEffects & { blobs: BlobObject[] }>;
  /** Optional, like `registerBlobs`: many `certifyBlob`s in one transaction, atomically, in order. */
  certifyBlobs?(
    signer: Signer,
    certificates: readonly (CertificateOptions & { readonly blobObjectId: ObjectId })[],
  ): Promise<TxEffects & { blobs: BlobObject[] }>;
  /** `extend_blob`: pays storage for `epochs` more epochs. */
  extendBlob(signer: Signer, blobObjectId: ObjectId, epochs: number): Promise<TxEffects & { blob: BlobObject }>;
  /** `extend_blob_with_resource`: appends an adjacent Storage of the same size. */
  extendBlobWithResource(signer: Signer, blobObjectId: ObjectId, storageId: ObjectId): Promise<TxEffects & { blob: BlobObject }>;
  /** `delete_blob`: deletable blobs only; returns the freed Storage to the sender. */
  deleteBlob(signer: Signer, blobObjectId: ObjectId): Promise<TxEffects & { storage: StorageResource }>;
  /** `blob::burn`: destroys the Blob object (no refund, no event). */
  burnBlob(signer: Signer, blobObjectId: ObjectId): Promise<TxEffects>;
  /** `invalidate_blob_id`: certificate above validity over an invalid-blob-ID message. */
  invalidateBlobId(signer: Signer, certificate: CertificateOptions): Promise<TxEffects & { blobId: BlobId }>;
  /** `insert_or_update_metadata_pair`. */
  setBlobAttribute(signer: Signer, blobObjectId: ObjectId, key: string, value: string): Promise<TxEffects>;
  /** `remove_metadata_pair` (aborts if absent). */
  removeBlobAttribute(signer: Signer, blobObjectId: ObjectId, key: string): Promise<TxEffects>;
  /** `storage_resource::split_by_size`: the sender keeps `id` with `size` bytes; returns the rest. */
  splitStorage(signer: Signer, storageId: ObjectId, size: number): Promise<TxEffects & { storage: StorageResource }>;
  /**
   * `storage_resource::split_by_epoch`: the sender keeps `id` for [start, splitEpoch) and receives
   * [splitEpoch, end) as a new Storage (the way to obtain a resource that starts later, e.g. for
   * `extendBlobWithResource`).
   */
  splitStorageByEpoch(signer: Signer, storageId: ObjectId, splitEpoch: number): Promise<TxEffects & { storage: StorageResource }>;
  /** `storage_resource::fuse`: merges two of the sender's resources (same period or adjacent). */
  fuseStorage(signer: Signer, first: ObjectId, second: ObjectId): Promise<TxEffects & { storage: StorageResource }>;
  /** `transfer::public_transfer` of a Blob, Storage or StakedWal the sender owns. */
  transferObject(signer: Signer, objectId: ObjectId, recipient: Address): Promise<TxEffects>;

  // --- staking and epochs (walrus::staking) --------------------------------------------------
  /** `register_candidate`: returns the node ID; the sender receives its operator capability. */
  registerNode(signer: Signer, options: RegisterNodeOptions): Promise<TxEffects & { nodeId: ObjectId }>;
  updateNode(signer: Signer, nodeId: ObjectId, options: UpdateNodeOptions): Promise<TxEffects>;
  /** `stake_with_pool`: locks `amount` FROST with the node; active from the next committee selection. */
  stake(signer: Signer, nodeId: ObjectId, amount: bigint): Promise<TxEffects & { stakedWal: StakedWal }>;
  /** `request_withdraw_stake`: the stake stops counting; withdrawable from the returned epoch. */
  requestWithdrawStake(signer: Signer, stakedWalId: ObjectId): Promise<TxEffects & { stakedWal: StakedWal }>;
  /** `withdraw_stake`: pays principal plus accrued rewards to the sender; returns the amount. */
  withdrawStake(signer: Signer, stakedWalId: ObjectId): Promise<TxEffects & { amount: bigint }>;
  /** `epoch_sync_done`: the node's operator reports it holds its shards for `epoch`. */
  epochSyncDone(signer: Signer, nodeId: ObjectId, epoch: number): Promise<TxEffects>;
}

/** The local chain's extras: a faucet and an explicit clock for development and tests. */
export interface DevChain extends Chain {
  /** Mints `amount` FROST (default: the faucet's grant) to `recipient`. */
  requestFaucet(recipient: Address, amount?: bigint): Promise<TxEffects & { amount: bigint }>;
  /**
   * Ends the current epoch now: distributes its storage payments, selects the next committee by
   * stake, emits `EpochChangeStart`. Returns the new epoch.
   */
  advanceEpoch(): Promise<TxEffects & { epoch: number }>;
}
