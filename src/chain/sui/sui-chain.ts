/**
 * `SuiChain`: the client side of the `Chain` interface over the real Walrus contracts on Sui,
 * through `@mysten/sui` 2.x (walrus-sui.md). State is read as raw Move BCS (move-bcs.ts);
 * transactions are built with the same commands, in the same input order, as the official
 * `@mysten/walrus` SDK builds them (§3.5), so that a given state yields byte-identical
 * TransactionData (test/chain/sui-parity.test.ts proves it against the SDK).
 *
 * Only the System and Staking object IDs are configuration; the package for Move calls is read
 * from `System.package_id`, type strings use the System type's address (the original package),
 * the WAL type comes from the signature of `staking::stake_with_pool`, and the inner-state
 * dynamic-field keys from the `version` fields. Shared-object initial versions are fetched once;
 * prices and Blob objects are re-read before every paying transaction.
 *
 * Gas: unless `gas` is pinned (tests), price, budget and payment are left to the Sui resolver
 * (reference gas price, a simulation, the sender's SUI coins).
 *
 * Not mapped onto Sui (they throw a non-retryable `TuskError` saying so): the node-operator and
 * staking calls, `invalidateBlobId`, Storage split/fuse, `extendBlobWithResource`, `getStakedWal`,
 * `nodes()` and `events()` (Sui has no blob index; the store/read flows do not need them).
 */
import type { ClientWithCoreApi } from '@mysten/sui/client';
import type { Signer } from '@mysten/sui/cryptography';
import { bcs } from '@mysten/sui/bcs';
import { coinWithBalance, Transaction, type TransactionObjectArgument } from '@mysten/sui/transactions';
import { deriveDynamicFieldID, normalizeStructTag, normalizeSuiAddress, parseStructTag } from '@mysten/sui/utils';
import type { BlobId } from '../../codec/blob-id.ts';
import { EncodingConfig } from '../../codec/config.ts';
import { blsPublicKeyCompressed } from '../../crypto/bls.ts';
import { ChainAbortError, ChainUnavailableError, TuskError, TuskInputError } from '../../errors.ts';
import {
  storageUnits,
  type Address,
  type BlobObject,
  type CertificateOptions,
  type Chain,
  type CommitteeInfo,
  type CommitteeNode,
  type EventPage,
  type ObjectId,
  type OwnedObject,
  type RegisterBlobOptions,
  type ReserveSpaceOptions,
  type StakedWal,
  type StorageNodeInfo,
  type StorageResource,
  type SystemState,
  type TxEffects,
} from '../types.ts';
import * as M from './move-bcs.ts';

/** The Walrus objects of a Sui network (the only IDs Tusk ships; walrus-sui.md §1.1). */
export interface WalrusSuiNetwork {
  readonly systemObjectId: ObjectId;
  readonly stakingObjectId: ObjectId;
}

/** Walrus Testnet and Mainnet (the same IDs as the official SDK and Walrus's client configs). */
export const WALRUS_NETWORKS: Readonly<Record<'testnet' | 'mainnet', WalrusSuiNetwork>> = {
  testnet: {
    systemObjectId: '0x6c2547cbbc38025cf3adac45f63cb0a8d12ecf777cdc75a4971612bf97fdf6af',
    stakingObjectId: '0xbe46180321c30aab2f8b3501e24048377287fa708018a5b7c2792b35fe339ee3',
  },
  mainnet: {
    systemObjectId: '0x2134d52768ea07e8c43570ef975eb3e4c27a39fa6396bef985b5abc58d03ddd2',
    stakingObjectId: '0x10b9d30c28448939ce6c4d6c6e0ffce4a7f8a4ada8248bdad09ef8b70e4a3904',
  },
};

/** Pinned gas (deterministic bytes; tests and offline signing). Unset → the Sui resolver decides. */
export interface SuiGasOptions {
  readonly price: bigint | number;
  readonly budget: bigint | number;
  readonly payment: readonly { objectId: string; version: string; digest: string }[];
}

/** Options of `new SuiChain`. */
export interface SuiChainOptions extends WalrusSuiNetwork {
  /** A Sui client (gRPC, JSON-RPC, or any `ClientWithCoreApi`, e.g. a test fake). */
  readonly client: ClientWithCoreApi;
  readonly gas?: SuiGasOptions;
  /** Whose Blob objects `blobObjects()` scans (Sui has no blob-ID index); usually the wallet's address. */
  readonly owner?: Address;
  /** Shown in "cannot reach" errors (e.g. the RPC URL). */
  readonly endpoint?: string;
}

interface RawObject {
  objectId: string;
  version: string;
  digest: string;
  owner: unknown;
  type: string;
  content?: Uint8Array;
}

type SystemInner = ReturnType<typeof M.SystemStateInnerV1.parse>;
type StakingInner = ReturnType<typeof M.StakingInnerV1.parse>;
type PoolValue = ReturnType<typeof M.StakingPool.parse>;

/** What a state read returns: everything a transaction or a `SystemState` needs. */
export interface SuiWalrusState {
  readonly originalPackageId: string;
  readonly packageId: string;
  readonly system: SystemInner;
  readonly staking: StakingInner;
}

const ENCODING_RS2 = 1;

function notOnSui(what: string): never {
  throw new TuskError(`${what} is not supported on Sui by Tusk (a node-operator or local-chain operation; use the Walrus node tooling)`, {
    retryable: false,
  });
}

function ownerAddress(owner: unknown): Address {
  const o = owner as { $kind?: string; AddressOwner?: string; ObjectOwner?: string };
  return normalizeSuiAddress(o?.AddressOwner ?? o?.ObjectOwner ?? '0x0');
}

/** The Sui adapter of `Chain`. */
export class SuiChain implements Chain {
  readonly #core: ClientWithCoreApi['core'];
  readonly #o: SuiChainOptions;
  #systemIsv: string | null = null;
  #walType: string | null = null;

  constructor(options: SuiChainOptions) {
    this.#o = {
      ...options,
      systemObjectId: normalizeSuiAddress(options.systemObjectId),
      stakingObjectId: normalizeSuiAddress(options.stakingObjectId),
    };
    this.#core = options.client.core;
  }

  // --- raw reads ------------------------------------------------------------------------------

  async #objects(ids: readonly string[], content = true): Promise<(RawObject | null)[]> {
    let res;
    try {
      res = await this.#core.getObjects({ objectIds: [...ids], include: content ? { content: true } : {} });
    } catch (e) {
      throw new ChainUnavailableError(
        `cannot reach the Sui network${this.#o.endpoint ? ` at ${this.#o.endpoint}` : ''}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    return res.objects.map((o) => (o instanceof Error ? null : (o as unknown as RawObject)));
  }

  async #object(id: string): Promise<RawObject> {
    const [o] = await this.#objects([id]);
    if (!o?.content) throw new TuskError(`Sui object ${id} not found (wrong network or object IDs?)`, { retryable: false });
    return o;
  }

  /** Reads System, Staking and both inner states (4 objects, no cache: prices may change mid-epoch). */
  async readState(): Promise<SuiWalrusState> {
    const [sys, stk] = await this.#objects([this.#o.systemObjectId, this.#o.stakingObjectId]);
    if (!sys?.content || !stk?.content)
      throw new TuskError(`the Walrus System/Staking objects were not found on this Sui network`, { retryable: false });
    this.#systemIsv ??= String((sys.owner as { Shared?: { initialSharedVersion: string } }).Shared?.initialSharedVersion ?? '');
    const system = M.VersionedObject.parse(sys.content);
    const staking = M.VersionedObject.parse(stk.content);
    const key = (v: string | bigint) => bcs.u64().serialize(v).toBytes();
    const [sysDf, stkDf] = await this.#objects([
      deriveDynamicFieldID(this.#o.systemObjectId, 'u64', key(system.version)),
      deriveDynamicFieldID(this.#o.stakingObjectId, 'u64', key(staking.version)),
    ]);
    if (!sysDf?.content || !stkDf?.content)
      throw new TuskError('the Walrus inner state dynamic fields were not found', { retryable: false });
    return {
      originalPackageId: normalizeSuiAddress(parseStructTag(sys.type).address),
      packageId: normalizeSuiAddress(system.package_id),
      system: M.SystemStateInnerField.parse(sysDf.content).value,
      staking: M.StakingInnerField.parse(stkDf.content).value,
    };
  }

  async #pools(ids: readonly string[]): Promise<Map<string, PoolValue>> {
    const objs = await this.#objects(ids);
    const out = new Map<string, PoolValue>();
    objs.forEach((o, i) => {
      if (!o?.content) throw new TuskError(`staking pool ${ids[i]} not found`, { retryable: false });
      out.set(normalizeSuiAddress(ids[i]!), M.StakingPool.parse(o.content));
    });
    return out;
  }

  async #committeeOf(state: SuiWalrusState, which: 'committee' | 'previous_committee', epoch: number): Promise<CommitteeInfo> {
    const entries = state.staking[which].contents;
    const pools = await this.#pools(entries.map((e) => e.key));
    const members: CommitteeNode[] = entries.map((e) => {
      const info = pools.get(normalizeSuiAddress(e.key))!.node_info;
      const shards = [...e.value].sort((a, b) => a - b);
      return {
        nodeId: normalizeSuiAddress(e.key),
        publicKey: blsPublicKeyCompressed(Uint8Array.from(info.public_key.bytes)),
        shards,
        weight: shards.length,
        networkAddress: info.network_address,
        name: info.name,
      };
    });
    return { epoch, nShards: state.staking.n_shards, members };
  }

  /** The WAL coin type, from `staking::stake_with_pool(&mut Staking, Coin<WAL>, …)` (read once). */
  async walType(state?: SuiWalrusState): Promise<string> {
    if (this.#walType) return this.#walType;
    const s = state ?? (await this.readState());
    const { function: fn } = await this.#core.getMoveFunction({
      packageId: s.originalPackageId,
      moduleName: 'staking',
      name: 'stake_with_pool',
    });
    const coin = fn.parameters[1]?.body as {
      $kind: string;
      datatype?: { typeParameters: { $kind: string; datatype?: { typeName: string } }[] };
    };
    const inner = coin?.datatype?.typeParameters[0];
    if (inner?.$kind !== 'datatype' || !inner.datatype)
      throw new TuskError('cannot determine the WAL type from staking::stake_with_pool', { retryable: false });
    this.#walType = normalizeStructTag(inner.datatype.typeName);
    return this.#walType;
  }

  async #systemRef(mutable: boolean) {
    if (!this.#systemIsv) await this.readState();
    return { objectId: this.#o.systemObjectId, initialSharedVersion: this.#systemIsv!, mutable };
  }

  // --- Chain reads ----------------------------------------------------------------------------

  async systemState(): Promise<SystemState> {
    const s = await this.readState();
    const epoch = s.system.committee.epoch;
    const duration = Number(s.staking.epoch_duration);
    return {
      epoch,
      epochState: 'EpochChangeSync' in s.staking.epoch_state && s.staking.epoch_state.$kind === 'EpochChangeSync' ? 'changeSync' : 'active',
      nShards: s.system.committee.n_shards,
      storagePricePerUnitSize: BigInt(s.system.storage_price_per_unit_size),
      writePricePerUnitSize: BigInt(s.system.write_price_per_unit_size),
      totalCapacitySize: Number(s.system.total_capacity_size),
      usedCapacitySize: Number(s.system.used_capacity_size),
      maxEpochsAhead: s.system.future_accounting.length,
      epochDurationMs: duration,
      // Walrus epoch 1 starts at first_epoch_start; later epochs follow every epoch_duration.
      epochStartMs: Number(s.staking.first_epoch_start) + Math.max(0, epoch - 1) * duration,
      committee: await this.#committeeOf(s, 'committee', s.staking.epoch),
    };
  }

  /**
   * The current committee, or the previous one (Sui keeps only those two; older epochs are not
   * on chain). Keys and addresses are the pools' current ones.
   */
  async committee(epoch?: number): Promise<CommitteeInfo> {
    const s = await this.readState();
    if (epoch === undefined || epoch === s.staking.epoch) return this.#committeeOf(s, 'committee', s.staking.epoch);
    if (epoch === s.staking.epoch - 1) return this.#committeeOf(s, 'previous_committee', epoch);
    throw new TuskError(`Sui keeps only the current (${s.staking.epoch}) and previous committee; epoch ${epoch} is not available`, {
      retryable: false,
    });
  }

  /** Storage cost in FROST, as Move charges it: units(encoded) × price × epochs, plus the write price. */
  async storageCost(size: number, epochs: number): Promise<{ storageCost: bigint; writeCost: bigint; totalCost: bigint }> {
    const s = await this.readState();
    const units = storageUnits(new EncodingConfig(s.system.committee.n_shards).encodedBlobLength(size));
    const storageCost = units * BigInt(s.system.storage_price_per_unit_size) * BigInt(epochs);
    const writeCost = units * BigInt(s.system.write_price_per_unit_size);
    return { storageCost, writeCost, totalCost: storageCost + writeCost };
  }

  async balance(address: Address): Promise<bigint> {
    const wal = await this.walType();
    const { balance } = await this.#core.getBalance({ owner: address, coinType: wal });
    return BigInt(balance.balance);
  }

  async #blobFrom(o: RawObject): Promise<BlobObject> {
    const b = M.Blob.parse(o.content!);
    return {
      id: normalizeSuiAddress(b.id),
      owner: ownerAddress(o.owner),
      registeredEpoch: b.registered_epoch,
      blobId: M.u256ToBytes(b.blob_id),
      // The Move Blob does not keep the root hash (only register_blob's argument does).
      rootHash: new Uint8Array(0),
      size: Number(b.size),
      encodingType: b.encoding_type,
      certifiedEpoch: b.certified_epoch ?? null,
      storage: {
        id: normalizeSuiAddress(b.storage.id),
        startEpoch: b.storage.start_epoch,
        endEpoch: b.storage.end_epoch,
        storageSize: Number(b.storage.storage_size),
      },
      deletable: b.deletable,
      attributes: await this.blobAttributes(b.id),
    };
  }

  async #rawBlob(objectId: ObjectId): Promise<RawObject | null> {
    const [o] = await this.#objects([objectId]);
    return o?.content && /::blob::Blob$/.test(o.type) ? o : null;
  }

  async getBlob(objectId: ObjectId): Promise<BlobObject | null> {
    const o = await this.#rawBlob(objectId);
    return o ? this.#blobFrom(o) : null;
  }

  /** The blob's attributes (the `b"metadata"` dynamic field); `{}` when it has none. */
  async blobAttributes(blobObjectId: ObjectId): Promise<Record<string, string>> {
    const name = bcs.vector(bcs.u8()).serialize(M.METADATA_FIELD_NAME).toBytes();
    const [o] = await this.#objects([deriveDynamicFieldID(blobObjectId, 'vector<u8>', name)]);
    if (!o?.content) return {};
    const out: Record<string, string> = {};
    for (const { key, value } of M.MetadataField.parse(o.content).value.metadata.contents) out[key] = value;
    return out;
  }

  async getStorage(objectId: ObjectId): Promise<StorageResource | null> {
    const [o] = await this.#objects([objectId]);
    if (!o?.content || !/::storage_resource::Storage$/.test(o.type)) return null;
    const s = M.Storage.parse(o.content);
    return {
      id: normalizeSuiAddress(s.id),
      owner: ownerAddress(o.owner),
      startEpoch: s.start_epoch,
      endEpoch: s.end_epoch,
      storageSize: Number(s.storage_size),
    };
  }

  async getStakedWal(_objectId: ObjectId): Promise<StakedWal | null> {
    return notOnSui('getStakedWal');
  }

  async getNode(nodeId: ObjectId): Promise<StorageNodeInfo | null> {
    const [o] = await this.#objects([nodeId]);
    if (!o?.content || !/::staking_pool::StakingPool$/.test(o.type)) return null;
    const p = M.StakingPool.parse(o.content);
    return {
      nodeId: normalizeSuiAddress(p.id),
      operator: normalizeSuiAddress(p.governance_authorized.Address ?? p.governance_authorized.ObjectID ?? '0x0'),
      name: p.node_info.name,
      networkAddress: p.node_info.network_address,
      publicKey: blsPublicKeyCompressed(Uint8Array.from(p.node_info.public_key.bytes)),
      commissionRateBps: p.commission_rate,
      storagePriceVote: BigInt(p.voting_params.storage_price),
      writePriceVote: BigInt(p.voting_params.write_price),
      capacityVote: Number(p.voting_params.node_capacity),
      stake: BigInt(p.wal_balance),
      rewards: BigInt(p.rewards_pool.value),
      commission: BigInt(p.commission.value),
    };
  }

  async nodes(): Promise<StorageNodeInfo[]> {
    return notOnSui('listing every registered node (nodes())');
  }

  async ownedObjects(address: Address): Promise<OwnedObject[]> {
    const s = await this.readState();
    const out: OwnedObject[] = [];
    let cursor: string | null = null;
    do {
      const page: { objects: unknown[]; hasNextPage: boolean; cursor: string | null } = await this.#core.listOwnedObjects({
        owner: address,
        type: `${s.originalPackageId}::blob::Blob`,
        include: { content: true },
        cursor,
      });
      for (const o of page.objects) out.push({ kind: 'blob', object: await this.#blobFrom(o as unknown as RawObject) });
      cursor = page.hasNextPage ? page.cursor : null;
    } while (cursor);
    return out;
  }

  /** Blobs carrying `blobId` among the configured owner's objects (Sui has no blob-ID index). */
  async blobObjects(blobId: BlobId): Promise<BlobObject[]> {
    if (!this.#o.owner) return [];
    const want = M.u256FromBytes(blobId);
    return (await this.ownedObjects(this.#o.owner)).flatMap((o) =>
      o.kind === 'blob' && M.u256FromBytes(o.object.blobId) === want ? [o.object] : [],
    );
  }

  async events(): Promise<EventPage> {
    return notOnSui('the event stream (events())');
  }

  // --- transaction builders (the SDK's exact PTBs) -----------------------------------------

  #pin(tx: Transaction, sender: Address): void {
    tx.setSenderIfNotSet(sender);
    const g = this.#o.gas;
    if (g) {
      tx.setGasPrice(g.price);
      tx.setGasBudget(g.budget);
      tx.setGasPayment(g.payment.map((p) => ({ ...p })));
    }
  }

  async #blobRef(
    tx: Transaction,
    blobObjectId: ObjectId,
  ): Promise<{ arg: TransactionObjectArgument; blob: ReturnType<typeof M.Blob.parse> }> {
    const o = await this.#rawBlob(blobObjectId); // fresh: extend pays by its end epoch
    if (!o) throw new ChainAbortError('ENotFound', `Blob object ${blobObjectId} not found`);
    return { arg: tx.objectRef({ objectId: o.objectId, version: o.version, digest: o.digest }), blob: M.Blob.parse(o.content!) };
  }

  /** reserve_space + transfer of the Storage to `owner` (SDK `createStorageTransaction`). */
  async buildReserveSpace(owner: Address, options: ReserveSpaceOptions): Promise<Transaction> {
    const s = await this.readState();
    const wal = await this.walType(s);
    const tx = new Transaction();
    this.#pin(tx, owner);
    const cost = storageUnits(options.size) * BigInt(s.system.storage_price_per_unit_size) * BigInt(options.epochsAhead);
    const storage = this.#reserve(tx, s, wal, await this.#systemRef(true), options.size, options.epochsAhead, cost);
    tx.transferObjects([storage], tx.pure.address(owner));
    return tx;
  }

  #reserve(
    tx: Transaction,
    s: SuiWalrusState,
    wal: string,
    sys: { objectId: string; initialSharedVersion: string; mutable: boolean },
    size: number,
    epochs: number,
    cost: bigint,
  ) {
    const coin = tx.add(coinWithBalance({ balance: cost, type: wal, useGasCoin: false }));
    const storage = tx.moveCall({
      target: `${s.packageId}::system::reserve_space`,
      arguments: [tx.sharedObjectRef(sys), tx.pure.u64(size), tx.pure.u32(epochs), coin],
    });
    tx.moveCall({ target: '0x2::coin::destroy_zero', typeArguments: [wal], arguments: [coin] });
    return storage;
  }

  /**
   * reserve_space + register_blob (+ attributes) + transfer to `owner`, with fresh prices.
   * An existing Storage object is not supported (the SDK's flow always reserves).
   */
  async buildRegisterBlob(
    owner: Address,
    options: RegisterBlobOptions,
    attributes: Readonly<Record<string, string>> = {},
  ): Promise<Transaction> {
    if (typeof options.storage === 'string')
      throw new TuskInputError(
        'SuiChain.registerBlob: registering into an existing Storage object is not supported; pass { size, epochsAhead }',
      );
    if (options.encodingType !== ENCODING_RS2)
      throw new TuskInputError(`Walrus on Sui accepts only RS2 (encoding type 1), got ${options.encodingType}`);
    const s = await this.readState();
    const wal = await this.walType(s);
    const units = storageUnits(options.storage.size);
    const writeCost = units * BigInt(s.system.write_price_per_unit_size);
    const storageCost = units * BigInt(s.system.storage_price_per_unit_size) * BigInt(options.storage.epochsAhead);
    const sys = await this.#systemRef(true);
    const tx = new Transaction();
    this.#pin(tx, owner);
    const writeCoin = tx.add(coinWithBalance({ balance: writeCost, type: wal, useGasCoin: false }));
    const system = tx.sharedObjectRef(sys);
    const storage = this.#reserve(tx, s, wal, sys, options.storage.size, options.storage.epochsAhead, storageCost);
    const blob = tx.moveCall({
      target: `${s.packageId}::system::register_blob`,
      arguments: [
        system,
        storage,
        tx.pure.u256(M.u256FromBytes(options.blobId)),
        tx.pure.u256(M.u256FromBytes(options.rootHash)),
        tx.pure.u64(options.size),
        tx.pure.u8(options.encodingType),
        tx.pure.bool(options.deletable),
        writeCoin,
      ],
    });
    const entries = Object.entries(attributes);
    if (entries.length > 0) {
      const md = tx.moveCall({ target: `${s.packageId}::metadata::new`, arguments: [] });
      tx.moveCall({ target: `${s.packageId}::blob::add_metadata`, arguments: [blob, md] });
      for (const [k, v] of entries) {
        tx.moveCall({
          target: `${s.packageId}::blob::insert_or_update_metadata_pair`,
          arguments: [blob, tx.pure.string(k), tx.pure.string(v)],
        });
      }
    }
    tx.moveCall({ target: '0x2::coin::destroy_zero', typeArguments: [wal], arguments: [writeCoin] });
    tx.transferObjects([blob], tx.pure.address(owner));
    return tx;
  }

  /** certify_blob: certificate vectors first, then System (immutable) and the Blob. */
  async buildCertifyBlob(sender: Address, blobObjectId: ObjectId, certificate: CertificateOptions): Promise<Transaction> {
    const s = await this.readState();
    const tx = new Transaction();
    this.#pin(tx, sender);
    const sig = tx.pure.vector('u8', certificate.signature);
    const bitmap = tx.pure.vector('u8', certificate.signersBitmap);
    const msg = tx.pure.vector('u8', certificate.message);
    const system = tx.sharedObjectRef(await this.#systemRef(false));
    const { arg } = await this.#blobRef(tx, blobObjectId);
    tx.moveCall({ target: `${s.packageId}::system::certify_blob`, arguments: [system, arg, sig, bitmap, msg] });
    return tx;
  }

  /** extend_blob by `epochs`, paying units(storage_size) × price × epochs (fresh Blob and prices). */
  async buildExtendBlob(sender: Address, blobObjectId: ObjectId, epochs: number): Promise<Transaction> {
    if (!Number.isInteger(epochs) || epochs <= 0) throw new TuskInputError(`extend: epochs must be a positive integer, got ${epochs}`);
    const s = await this.readState();
    const wal = await this.walType(s);
    const tx = new Transaction();
    this.#pin(tx, sender);
    const sys = await this.#systemRef(true);
    const probe = await this.#rawBlob(blobObjectId);
    if (!probe) throw new ChainAbortError('ENotFound', `Blob object ${blobObjectId} not found`);
    const cost =
      storageUnits(Number(M.Blob.parse(probe.content!).storage.storage_size)) *
      BigInt(s.system.storage_price_per_unit_size) *
      BigInt(epochs);
    const coin = tx.add(coinWithBalance({ balance: cost, type: wal, useGasCoin: false }));
    const system = tx.sharedObjectRef(sys);
    const blob = tx.objectRef({ objectId: probe.objectId, version: probe.version, digest: probe.digest });
    tx.moveCall({ target: `${s.packageId}::system::extend_blob`, arguments: [system, blob, tx.pure.u32(epochs), coin] });
    tx.moveCall({ target: '0x2::coin::destroy_zero', typeArguments: [wal], arguments: [coin] });
    return tx;
  }

  /** delete_blob and transfer of the freed Storage to `owner`. */
  async buildDeleteBlob(owner: Address, blobObjectId: ObjectId): Promise<Transaction> {
    const s = await this.readState();
    const tx = new Transaction();
    this.#pin(tx, owner);
    const system = tx.sharedObjectRef(await this.#systemRef(false));
    const { arg } = await this.#blobRef(tx, blobObjectId);
    const storage = tx.moveCall({ target: `${s.packageId}::system::delete_blob`, arguments: [system, arg] });
    tx.transferObjects([storage], tx.pure.address(owner));
    return tx;
  }

  /** Attribute upserts (`value` string) and removals (`null`), as the SDK's writeBlobAttributes. */
  async buildWriteAttributes(
    sender: Address,
    blobObjectId: ObjectId,
    attributes: Readonly<Record<string, string | null>>,
  ): Promise<Transaction> {
    const s = await this.readState();
    const existing = await this.blobAttributes(blobObjectId);
    const hasMetadata = await this.#hasMetadata(blobObjectId);
    const tx = new Transaction();
    this.#pin(tx, sender);
    const { arg: blob } = await this.#blobRef(tx, blobObjectId);
    if (!hasMetadata) {
      // The SDK cannot add the first attributes to an existing blob (pitfall 18); Move needs the map first.
      const md = tx.moveCall({ target: `${s.packageId}::metadata::new`, arguments: [] });
      tx.moveCall({ target: `${s.packageId}::blob::add_metadata`, arguments: [blob, md] });
    }
    for (const [k, v] of Object.entries(attributes)) {
      if (v === null) {
        if (k in existing) tx.moveCall({ target: `${s.packageId}::blob::remove_metadata_pair`, arguments: [blob, tx.pure.string(k)] });
      } else {
        tx.moveCall({
          target: `${s.packageId}::blob::insert_or_update_metadata_pair`,
          arguments: [blob, tx.pure.string(k), tx.pure.string(v)],
        });
      }
    }
    return tx;
  }

  async #hasMetadata(blobObjectId: ObjectId): Promise<boolean> {
    const name = bcs.vector(bcs.u8()).serialize(M.METADATA_FIELD_NAME).toBytes();
    const [o] = await this.#objects([deriveDynamicFieldID(blobObjectId, 'vector<u8>', name)], false);
    return o !== null;
  }

  /** blob::burn (Tusk-only; the SDK has no method). */
  async buildBurnBlob(sender: Address, blobObjectId: ObjectId): Promise<Transaction> {
    const s = await this.readState();
    const tx = new Transaction();
    this.#pin(tx, sender);
    const { arg } = await this.#blobRef(tx, blobObjectId);
    tx.moveCall({ target: `${s.packageId}::blob::burn`, arguments: [arg] });
    return tx;
  }

  /** TransferObjects of a Blob or Storage the sender owns. */
  async buildTransferObject(sender: Address, objectId: ObjectId, recipient: Address): Promise<Transaction> {
    const [o] = await this.#objects([objectId], false);
    if (!o) throw new ChainAbortError('ENotFound', `object ${objectId} not found`);
    const tx = new Transaction();
    this.#pin(tx, sender);
    tx.transferObjects([tx.objectRef({ objectId: o.objectId, version: o.version, digest: o.digest })], tx.pure.address(recipient));
    return tx;
  }

  // --- execution ------------------------------------------------------------------------------

  /** Signs, executes and waits; returns the digest and the IDs of created objects. Aborts → ChainAbortError. */
  async execute(signer: Signer, tx: Transaction): Promise<{ digest: string; created: string[] }> {
    let res;
    try {
      res = await signer.signAndExecuteTransaction({ transaction: tx, client: this.#o.client });
    } catch (e) {
      const message = (e as Error).message;
      // Network trouble may pass; a build or validation failure (e.g. not enough WAL or SUI) will not.
      if (/fetch failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|UNAVAILABLE|timed? ?out/i.test(message)) {
        throw new ChainUnavailableError(`cannot reach the Sui network${this.#o.endpoint ? ` at ${this.#o.endpoint}` : ''}: ${message}`, {
          cause: e,
        });
      }
      throw new TuskError(`Sui transaction could not be built or executed: ${message}`, { retryable: false, cause: e });
    }
    const t =
      (res as { Transaction?: { digest: string } }).Transaction ??
      (res as { FailedTransaction?: { digest: string; status?: { error?: unknown } } }).FailedTransaction;
    if (!t) throw new TuskError('Sui returned no transaction', { retryable: true });
    if ((res as { $kind: string }).$kind === 'FailedTransaction') {
      const err = JSON.stringify((t as { status?: { error?: unknown } }).status?.error ?? 'unknown');
      throw new ChainAbortError('MoveAbort', `Sui transaction ${t.digest} failed: ${err}`);
    }
    const done = await this.#core.waitForTransaction({ digest: t.digest, include: { effects: true } });
    const effects = (done as { Transaction?: { effects?: { changedObjects: { objectId: string; idOperation: string }[] } } }).Transaction
      ?.effects;
    const created = (effects?.changedObjects ?? []).filter((c) => c.idOperation === 'Created').map((c) => normalizeSuiAddress(c.objectId));
    return { digest: t.digest, created };
  }

  async #createdOf(created: string[], typeSuffix: RegExp): Promise<RawObject> {
    const objs = await this.#objects(created);
    const o = objs.find((x) => x?.content && typeSuffix.test(x.type));
    if (!o) throw new TuskError('the transaction did not create the expected object', { retryable: false });
    return o;
  }

  // --- Chain writes -------------------------------------------------------------------------

  async transferWal(signer: Signer, recipient: Address, amount: bigint): Promise<TxEffects> {
    const wal = await this.walType();
    const tx = new Transaction();
    this.#pin(tx, signer.toSuiAddress());
    tx.transferObjects([tx.add(coinWithBalance({ balance: amount, type: wal, useGasCoin: false }))], tx.pure.address(recipient));
    return { digest: (await this.execute(signer, tx)).digest, events: [] };
  }

  async reserveSpace(signer: Signer, options: ReserveSpaceOptions): Promise<TxEffects & { storage: StorageResource }> {
    const { digest, created } = await this.execute(signer, await this.buildReserveSpace(signer.toSuiAddress(), options));
    const o = await this.#createdOf(created, /::storage_resource::Storage$/);
    return { digest, events: [], storage: (await this.getStorage(o.objectId))! };
  }

  async registerBlob(signer: Signer, options: RegisterBlobOptions): Promise<TxEffects & { blob: BlobObject }> {
    const { digest, created } = await this.execute(signer, await this.buildRegisterBlob(signer.toSuiAddress(), options));
    const o = await this.#createdOf(created, /::blob::Blob$/);
    const blob = await this.#blobFrom(o);
    return { digest, events: [], blob: { ...blob, rootHash: options.rootHash } };
  }

  async certifyBlob(signer: Signer, blobObjectId: ObjectId, certificate: CertificateOptions): Promise<TxEffects & { blob: BlobObject }> {
    const { digest } = await this.execute(signer, await this.buildCertifyBlob(signer.toSuiAddress(), blobObjectId, certificate));
    return { digest, events: [], blob: (await this.getBlob(blobObjectId))! };
  }

  async extendBlob(signer: Signer, blobObjectId: ObjectId, epochs: number): Promise<TxEffects & { blob: BlobObject }> {
    const { digest } = await this.execute(signer, await this.buildExtendBlob(signer.toSuiAddress(), blobObjectId, epochs));
    return { digest, events: [], blob: (await this.getBlob(blobObjectId))! };
  }

  async extendBlobWithResource(): Promise<TxEffects & { blob: BlobObject }> {
    return notOnSui('extendBlobWithResource');
  }

  async deleteBlob(signer: Signer, blobObjectId: ObjectId): Promise<TxEffects & { storage: StorageResource }> {
    const before = await this.getBlob(blobObjectId);
    if (!before) throw new ChainAbortError('ENotFound', `Blob object ${blobObjectId} not found`);
    const { digest } = await this.execute(signer, await this.buildDeleteBlob(signer.toSuiAddress(), blobObjectId));
    const st = before.storage;
    return { digest, events: [], storage: (await this.getStorage(st.id)) ?? { ...st, owner: signer.toSuiAddress() } };
  }

  async burnBlob(signer: Signer, blobObjectId: ObjectId): Promise<TxEffects> {
    return { digest: (await this.execute(signer, await this.buildBurnBlob(signer.toSuiAddress(), blobObjectId))).digest, events: [] };
  }

  async invalidateBlobId(): Promise<TxEffects & { blobId: BlobId }> {
    return notOnSui('invalidateBlobId');
  }

  async setBlobAttribute(signer: Signer, blobObjectId: ObjectId, key: string, value: string): Promise<TxEffects> {
    return {
      digest: (await this.execute(signer, await this.buildWriteAttributes(signer.toSuiAddress(), blobObjectId, { [key]: value }))).digest,
      events: [],
    };
  }

  async removeBlobAttribute(signer: Signer, blobObjectId: ObjectId, key: string): Promise<TxEffects> {
    const attrs = await this.blobAttributes(blobObjectId);
    if (!(key in attrs))
      throw new ChainAbortError('EMetadataKeyNotFound', `attribute ${JSON.stringify(key)} is not set on ${blobObjectId}`);
    return {
      digest: (await this.execute(signer, await this.buildWriteAttributes(signer.toSuiAddress(), blobObjectId, { [key]: null }))).digest,
      events: [],
    };
  }

  async splitStorage(): Promise<TxEffects & { storage: StorageResource }> {
    return notOnSui('splitStorage');
  }
  async splitStorageByEpoch(): Promise<TxEffects & { storage: StorageResource }> {
    return notOnSui('splitStorageByEpoch');
  }
  async fuseStorage(): Promise<TxEffects & { storage: StorageResource }> {
    return notOnSui('fuseStorage');
  }

  async transferObject(signer: Signer, objectId: ObjectId, recipient: Address): Promise<TxEffects> {
    return {
      digest: (await this.execute(signer, await this.buildTransferObject(signer.toSuiAddress(), objectId, recipient))).digest,
      events: [],
    };
  }

  async registerNode(): Promise<TxEffects & { nodeId: ObjectId }> {
    return notOnSui('registerNode');
  }
  async updateNode(): Promise<TxEffects> {
    return notOnSui('updateNode');
  }
  async stake(): Promise<TxEffects & { stakedWal: StakedWal }> {
    return notOnSui('stake');
  }
  async requestWithdrawStake(): Promise<TxEffects & { stakedWal: StakedWal }> {
    return notOnSui('requestWithdrawStake');
  }
  async withdrawStake(): Promise<TxEffects & { amount: bigint }> {
    return notOnSui('withdrawStake');
  }
  async epochSyncDone(): Promise<TxEffects> {
    return notOnSui('epochSyncDone');
  }
}
