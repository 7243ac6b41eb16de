/**
 * The write half of `Chain`, shared by every adapter that speaks Tusk's signed transactions (the
 * local chain in-process, and its HTTP client): each method signs one transaction with the
 * caller's keypair and hands it to `submit`. The chain decides; nothing is checked here that the
 * chain does not check again.
 */
import type { Signer } from '@mysten/sui/cryptography';
import type { BlobId } from '../codec/blob-id.ts';
import type { ChallengeItemProof } from '../challenge/proof.ts';
import type {
  Address,
  BlobObject,
  CertificateOptions,
  Chain,
  CommitteeInfo,
  EventPage,
  EventQueryOptions,
  ObjectId,
  OwnedObject,
  RegisterBlobOptions,
  RegisterNodeOptions,
  ReserveSpaceOptions,
  StakedWal,
  StorageNodeInfo,
  StorageResource,
  SystemState,
  TxEffects,
  UpdateNodeOptions,
} from './types.ts';
import { signTransaction, type CallName, type SignedTransaction } from './transaction.ts';

/** Base class: subclasses provide the chain ID, `submit` and the reads. */
export abstract class SigningChain implements Chain {
  /** The chain's identifier, bound into every transaction. */
  abstract chainId(): Promise<string>;
  /**
   * Executes a signed transaction; resolves to the call's result merged with its `TxEffects`.
   * Submitting the same transaction again returns the first execution's result.
   */
  abstract submit(tx: SignedTransaction): Promise<unknown>;

  abstract systemState(): Promise<SystemState>;
  abstract committee(epoch?: number): Promise<CommitteeInfo>;
  abstract balance(address: Address): Promise<bigint>;
  abstract getBlob(objectId: ObjectId): Promise<BlobObject | null>;
  abstract getStorage(objectId: ObjectId): Promise<StorageResource | null>;
  abstract getStakedWal(objectId: ObjectId): Promise<StakedWal | null>;
  abstract getNode(nodeId: ObjectId): Promise<StorageNodeInfo | null>;
  abstract nodes(): Promise<StorageNodeInfo[]>;
  abstract ownedObjects(address: Address): Promise<OwnedObject[]>;
  abstract blobObjects(blobId: BlobId): Promise<BlobObject[]>;
  abstract events(options?: EventQueryOptions): Promise<EventPage>;

  private async call<T>(signer: Signer, call: CallName, args: Record<string, unknown>): Promise<T & TxEffects> {
    const tx = await signTransaction(signer, await this.chainId(), call, args);
    return (await this.submit(tx)) as T & TxEffects;
  }

  transferWal(signer: Signer, recipient: Address, amount: bigint) {
    return this.call<object>(signer, 'transferWal', { recipient, amount });
  }
  reserveSpace(signer: Signer, options: ReserveSpaceOptions) {
    return this.call<{ storage: StorageResource }>(signer, 'reserveSpace', { size: options.size, epochsAhead: options.epochsAhead });
  }
  registerBlob(signer: Signer, o: RegisterBlobOptions) {
    return this.call<{ blob: BlobObject }>(signer, 'registerBlob', {
      storage: o.storage,
      blobId: o.blobId,
      rootHash: o.rootHash,
      size: o.size,
      encodingType: o.encodingType,
      deletable: o.deletable,
    });
  }
  certifyBlob(signer: Signer, blobObjectId: ObjectId, c: CertificateOptions) {
    return this.call<{ blob: BlobObject }>(signer, 'certifyBlob', {
      blobObjectId,
      signature: c.signature,
      signersBitmap: c.signersBitmap,
      message: c.message,
    });
  }
  /** Many `registerBlob`s in one transaction (see `Chain.registerBlobs`). */
  registerBlobs(signer: Signer, options: readonly RegisterBlobOptions[]) {
    return this.call<{ blobs: BlobObject[] }>(signer, 'registerBlobs', {
      blobs: options.map((o) => ({
        storage: o.storage,
        blobId: o.blobId,
        rootHash: o.rootHash,
        size: o.size,
        encodingType: o.encodingType,
        deletable: o.deletable,
      })),
    });
  }
  /** Many `certifyBlob`s in one transaction (see `Chain.certifyBlobs`). */
  certifyBlobs(signer: Signer, certificates: readonly (CertificateOptions & { readonly blobObjectId: ObjectId })[]) {
    return this.call<{ blobs: BlobObject[] }>(signer, 'certifyBlobs', {
      certificates: certificates.map((c) => ({
        blobObjectId: c.blobObjectId,
        signature: c.signature,
        signersBitmap: c.signersBitmap,
        message: c.message,
      })),
    });
  }
  extendBlob(signer: Signer, blobObjectId: ObjectId, epochs: number) {
    return this.call<{ blob: BlobObject }>(signer, 'extendBlob', { blobObjectId, epochs });
  }
  extendBlobWithResource(signer: Signer, blobObjectId: ObjectId, storageId: ObjectId) {
    return this.call<{ blob: BlobObject }>(signer, 'extendBlobWithResource', { blobObjectId, storageId });
  }
  deleteBlob(signer: Signer, blobObjectId: ObjectId) {
    return this.call<{ storage: StorageResource }>(signer, 'deleteBlob', { blobObjectId });
  }
  burnBlob(signer: Signer, blobObjectId: ObjectId) {
    return this.call<object>(signer, 'burnBlob', { blobObjectId });
  }
  invalidateBlobId(signer: Signer, c: CertificateOptions) {
    return this.call<{ blobId: BlobId }>(signer, 'invalidateBlobId', {
      signature: c.signature,
      signersBitmap: c.signersBitmap,
      message: c.message,
    });
  }
  setBlobAttribute(signer: Signer, blobObjectId: ObjectId, key: string, value: string) {
    return this.call<object>(signer, 'setBlobAttribute', { blobObjectId, key, value });
  }
  removeBlobAttribute(signer: Signer, blobObjectId: ObjectId, key: string) {
    return this.call<object>(signer, 'removeBlobAttribute', { blobObjectId, key });
  }
  splitStorage(signer: Signer, storageId: ObjectId, size: number) {
    return this.call<{ storage: StorageResource }>(signer, 'splitStorage', { storageId, size });
  }
  splitStorageByEpoch(signer: Signer, storageId: ObjectId, splitEpoch: number) {
    return this.call<{ storage: StorageResource }>(signer, 'splitStorageByEpoch', { storageId, splitEpoch });
  }
  fuseStorage(signer: Signer, first: ObjectId, second: ObjectId) {
    return this.call<{ storage: StorageResource }>(signer, 'fuseStorage', { first, second });
  }
  transferObject(signer: Signer, objectId: ObjectId, recipient: Address) {
    return this.call<object>(signer, 'transferObject', { objectId, recipient });
  }
  registerNode(signer: Signer, o: RegisterNodeOptions) {
    return this.call<{ nodeId: ObjectId }>(signer, 'registerNode', { ...o });
  }
  updateNode(signer: Signer, nodeId: ObjectId, o: UpdateNodeOptions) {
    return this.call<object>(signer, 'updateNode', { nodeId, ...o });
  }
  stake(signer: Signer, nodeId: ObjectId, amount: bigint) {
    return this.call<{ stakedWal: StakedWal }>(signer, 'stake', { nodeId, amount });
  }
  requestWithdrawStake(signer: Signer, stakedWalId: ObjectId) {
    return this.call<{ stakedWal: StakedWal }>(signer, 'requestWithdrawStake', { stakedWalId });
  }
  withdrawStake(signer: Signer, stakedWalId: ObjectId) {
    return this.call<{ amount: bigint }>(signer, 'withdrawStake', { stakedWalId });
  }
  epochSyncDone(signer: Signer, nodeId: ObjectId, epoch: number) {
    return this.call<object>(signer, 'epochSyncDone', { nodeId, epoch });
  }
  /** Storage challenge, step 1: the digest of the node's answers to round `round` of `epoch`. */
  commitChallenge(signer: Signer, nodeId: ObjectId, epoch: number, round: number, digest: Uint8Array) {
    return this.call<object>(signer, 'commitChallenge', { nodeId, epoch, round, digest });
  }
  /** The operator's vote on challenge and penalty parameters (applied at an epoch change by a quorum). */
  voteChallengeParams(signer: Signer, nodeId: ObjectId, params: Readonly<Record<string, number>>) {
    return this.call<object>(signer, 'voteChallengeParams', { nodeId, params });
  }
  /** Storage challenge, step 2: the answers themselves (see src/challenge/proof.ts). */
  proveChallenge(signer: Signer, nodeId: ObjectId, epoch: number, round: number, proofs: readonly ChallengeItemProof[]) {
    return this.call<{ outcome: string; absent: number; invalid: number }>(signer, 'proveChallenge', { nodeId, epoch, round, proofs });
  }
}
