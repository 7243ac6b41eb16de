/**
 * The local chain's state as Sui objects in Walrus's Move BCS layouts (walrus-sui.md §2.2), the way
 * a Sui fullnode would serve a Walrus deployment: System and Staking (shared), their inner states
 * behind `u64`-keyed dynamic fields, one StakingPool per storage node (at the node ID), Blob and
 * Storage objects, the blob-attribute dynamic field, and per-address `Coin<WAL>` and SUI gas coins
 * (ids.ts). Nothing here is stored twice: every object is rendered from the local chain's tables
 * when asked for, so it always agrees with what Tusk's own client and storage nodes see.
 *
 * Object versions live in one extra table (`sui_versions`), bumped by the localnet's executor for
 * every object a Sui transaction writes; objects no Sui transaction touched are at version 1.
 * Digests are BLAKE2b-256 of (type, version, content) in base58, so a changed object has a new one.
 */
import { bcs } from '@mysten/sui/bcs';
import { deriveDynamicFieldID } from '@mysten/sui/utils';
import { blake2b } from '@noble/hashes/blake2.js';
import { toBase58 } from '@mysten/sui/utils';
import { blsAggregatePublicKeys, blsPublicKeyUncompressed } from '../../crypto/bls.ts';
import type { LocalChain } from '../local/local-chain.ts';
import type { Store } from '../local/tables.ts';
import type { BlobObject, StorageResource } from '../types.ts';
import * as M from '../sui/move-bcs.ts';
import {
  gasCoinId,
  gasCoinOwner,
  LOCALNET_GAS_BALANCE,
  LOCALNET_INITIAL_SHARED_VERSION,
  LOCALNET_OBJECT_VERSION,
  SUI_COIN_TYPE,
  walCoinId,
  walCoinOwner,
  type LocalnetIds,
} from './ids.ts';

/** An object owner as `@mysten/sui` 2.x reports it. */
export type SuiOwner =
  | { $kind: 'AddressOwner'; AddressOwner: string }
  | { $kind: 'ObjectOwner'; ObjectOwner: string }
  | { $kind: 'Shared'; Shared: { initialSharedVersion: string } };

/** One rendered object (the fields of `SuiClientTypes.Object` the localnet serves). */
export interface SuiObject {
  readonly objectId: string;
  readonly version: string;
  readonly digest: string;
  readonly owner: SuiOwner;
  readonly type: string;
  /** Move BCS of the struct. */
  readonly content: Uint8Array;
  readonly previousTransaction: string | null;
  /** For coins: the balance (decimal). */
  readonly balance?: string;
}

const DDL = `CREATE TABLE IF NOT EXISTS sui_versions (id TEXT PRIMARY KEY, version INTEGER NOT NULL, prev_tx TEXT NOT NULL)`;

/** Key of the metadata dynamic field, BCS `vector<u8>` of "metadata". */
const METADATA_NAME_BCS = bcs.vector(bcs.u8()).serialize(M.METADATA_FIELD_NAME).toBytes();

const address = (a: string): SuiOwner => ({ $kind: 'AddressOwner', AddressOwner: a });
const objectOwner = (a: string): SuiOwner => ({ $kind: 'ObjectOwner', ObjectOwner: a });
const shared = (): SuiOwner => ({ $kind: 'Shared', Shared: { initialSharedVersion: LOCALNET_INITIAL_SHARED_VERSION } });

/** Strips a URL scheme: on Walrus a node's on-chain address is `host:port` (the SDK adds the scheme). */
export function hostPort(networkAddress: string): string {
  return networkAddress.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
}

/** Renders the local chain's state as Sui objects (see the module comment). */
export class LocalnetObjects {
  readonly chain: LocalChain;
  readonly ids: LocalnetIds;
  readonly systemInnerId: string;
  readonly stakingInnerId: string;

  constructor(chain: LocalChain, ids: LocalnetIds) {
    this.chain = chain;
    this.ids = ids;
    const key = bcs.u64().serialize(LOCALNET_OBJECT_VERSION).toBytes();
    this.systemInnerId = deriveDynamicFieldID(ids.systemObjectId, 'u64', key);
    this.stakingInnerId = deriveDynamicFieldID(ids.stakingObjectId, 'u64', key);
    chain.readStore((s) => s.db.exec(DDL));
  }

  /** Type strings (original package = current package on the localnet). */
  type(module: string, name: string): string {
    return `${this.ids.walrusPackage}::${module}::${name}`;
  }

  /** The objects with these IDs (null where none exists), from one consistent state. */
  getObjects(objectIds: readonly string[]): (SuiObject | null)[] {
    return this.chain.readStore((s) => objectIds.map((id) => this.render(s, id)));
  }

  /** The dynamic field `name` of `parentId`, or null (only blob attributes exist as such). */
  getMetadataField(parentId: string): SuiObject | null {
    return this.chain.readStore((s) => {
      const blob = s.getBlob(parentId);
      return blob ? this.metadataField(s, blob) : null;
    });
  }

  /** The WAL coin and gas coin of `owner` (none for an address the chain never credited). */
  coins(owner: string, coinType: string): SuiObject[] {
    return this.chain.readStore((s) => {
      if (!accountExists(s, owner)) return [];
      if (coinType === this.ids.walType) {
        const c = this.walCoin(s, owner);
        return c.balance === '0' ? [] : [c];
      }
      if (coinType === SUI_COIN_TYPE) return [this.gasCoin(s, owner)];
      return [];
    });
  }

  /** Blob and Storage objects owned by `owner`, and its coins (optionally of one type only). */
  ownedObjects(owner: string, type?: string): SuiObject[] {
    return this.chain.readStore((s) => {
      const out: SuiObject[] = [
        ...s.blobsOwnedBy(owner).map((b) => this.blob(s, b)),
        ...s.storageOwnedBy(owner).map((st) => this.storage(s, st)),
      ];
      if (accountExists(s, owner)) {
        const wal = this.walCoin(s, owner);
        if (wal.balance !== '0') out.push(wal);
        out.push(this.gasCoin(s, owner));
      }
      return type === undefined ? out : out.filter((o) => o.type === type);
    });
  }

  /** The version an object is at (1 until a Sui transaction writes it). */
  version(s: Store, id: string): { version: bigint; prevTx: string | null } {
    const row = s.q('SELECT version, prev_tx FROM sui_versions WHERE id = ?').get(id) as { version: number; prev_tx: string } | undefined;
    return row ? { version: BigInt(row.version), prevTx: row.prev_tx } : { version: 1n, prevTx: null };
  }

  private make(s: Store, id: string, type: string, owner: SuiOwner, content: Uint8Array, balance?: bigint): SuiObject {
    const { version, prevTx } = this.version(s, id);
    const digestInput = new Uint8Array([...new TextEncoder().encode(`${type}\u0000${version}\u0000`), ...content]);
    return {
      objectId: id,
      version: String(version),
      digest: toBase58(blake2b(digestInput, { dkLen: 32 })),
      owner,
      type,
      content,
      previousTransaction: prevTx,
      ...(balance === undefined ? {} : { balance: String(balance) }),
    };
  }

  private render(s: Store, id: string): SuiObject | null {
    const ids = this.ids;
    if (id === ids.systemObjectId || id === ids.stakingObjectId) {
      const content = M.VersionedObject.serialize({
        id,
        version: LOCALNET_OBJECT_VERSION,
        package_id: ids.walrusPackage,
        new_package_id: null,
      }).toBytes();
      return this.make(
        s,
        id,
        id === ids.systemObjectId ? this.type('system', 'System') : this.type('staking', 'Staking'),
        shared(),
        content,
      );
    }
    if (id === this.systemInnerId) return this.systemInner(s);
    if (id === this.stakingInnerId) return this.stakingInner(s);
    const blob = s.getBlob(id);
    if (blob) return this.blob(s, blob);
    const storage = s.getStorage(id);
    if (storage) return this.storage(s, storage);
    if (s.getPool(id)) return this.pool(s, id);
    const walOwner = walCoinOwner(ids, id);
    if (accountExists(s, walOwner)) return this.walCoin(s, walOwner);
    const gasOwner = gasCoinOwner(ids, id);
    if (accountExists(s, gasOwner)) return this.gasCoin(s, gasOwner);
    return null;
  }

  private walCoin(s: Store, owner: string): SuiObject {
    const id = walCoinId(this.ids, owner);
    const value = s.balance(owner);
    const content = bcs.struct('Coin', { id: bcs.Address, balance: M.Balance }).serialize({ id, balance: { value } }).toBytes();
    return this.make(
      s,
      id,
      `0x0000000000000000000000000000000000000000000000000000000000000002::coin::Coin<${this.ids.walType}>`,
      address(owner),
      content,
      value,
    );
  }

  private gasCoin(s: Store, owner: string): SuiObject {
    const id = gasCoinId(this.ids, owner);
    const content = bcs
      .struct('Coin', { id: bcs.Address, balance: M.Balance })
      .serialize({ id, balance: { value: LOCALNET_GAS_BALANCE } })
      .toBytes();
    return this.make(
      s,
      id,
      `0x0000000000000000000000000000000000000000000000000000000000000002::coin::Coin<${SUI_COIN_TYPE}>`,
      address(owner),
      content,
      LOCALNET_GAS_BALANCE,
    );
  }

  /** Move `Blob` of a local blob (its Storage keeps its own ID). */
  blobContent(blob: BlobObject): Uint8Array {
    return M.Blob.serialize({
      id: blob.id,
      registered_epoch: blob.registeredEpoch,
      blob_id: M.u256FromBytes(blob.blobId),
      size: BigInt(blob.size),
      encoding_type: blob.encodingType,
      certified_epoch: blob.certifiedEpoch,
      storage: {
        id: blob.storage.id,
        start_epoch: blob.storage.startEpoch,
        end_epoch: blob.storage.endEpoch,
        storage_size: BigInt(blob.storage.storageSize),
      },
      deletable: blob.deletable,
    }).toBytes();
  }

  private blob(s: Store, blob: BlobObject): SuiObject {
    return this.make(s, blob.id, this.type('blob', 'Blob'), address(blob.owner), this.blobContent(blob));
  }

  private storage(s: Store, st: StorageResource): SuiObject {
    const content = M.Storage.serialize({
      id: st.id,
      start_epoch: st.startEpoch,
      end_epoch: st.endEpoch,
      storage_size: BigInt(st.storageSize),
    }).toBytes();
    return this.make(s, st.id, this.type('storage_resource', 'Storage'), address(st.owner), content);
  }

  /** The ID of a blob's attribute field. */
  metadataFieldId(blobObjectId: string): string {
    return deriveDynamicFieldID(blobObjectId, 'vector<u8>', METADATA_NAME_BCS);
  }

  private metadataField(s: Store, blob: BlobObject): SuiObject | null {
    const entries = Object.entries(blob.attributes);
    if (entries.length === 0) return null;
    const id = this.metadataFieldId(blob.id);
    const content = M.MetadataField.serialize({
      id,
      name: M.METADATA_FIELD_NAME,
      value: { metadata: { contents: entries.map(([key, value]) => ({ key, value })) } },
    }).toBytes();
    const type = `0x0000000000000000000000000000000000000000000000000000000000000002::dynamic_field::Field<vector<u8>, ${this.type('metadata', 'Metadata')}>`;
    return this.make(s, id, type, objectOwner(blob.id), content);
  }

  private systemInner(s: Store): SuiObject {
    const m = s.readMeta();
    const committee = s.committee(m.epoch, m.nShards)!;
    const keys = committee.members.map((n) => n.publicKey);
    const ahead = m.maxEpochsAhead;
    const value = {
      committee: {
        members: committee.members.map((n) => ({
          public_key: { bytes: Array.from(blsPublicKeyUncompressed(n.publicKey)) },
          weight: n.weight,
          node_id: n.nodeId,
        })),
        n_shards: m.nShards,
        epoch: m.epoch,
        total_aggregated_key: { bytes: keys.length ? Array.from(blsPublicKeyUncompressed(blsAggregatePublicKeys(keys))) : [] },
      },
      total_capacity_size: BigInt(m.totalCapacity),
      used_capacity_size: BigInt(s.accounting(m.epoch).usedCapacity),
      storage_price_per_unit_size: m.storagePrice,
      write_price_per_unit_size: m.writePrice,
      future_accounting: {
        current_index: 0,
        length: ahead,
        ring_buffer: Array.from({ length: ahead }, (_, i) => {
          const a = s.accounting(m.epoch + i);
          return { epoch: m.epoch + i, used_capacity: BigInt(a.usedCapacity), rewards_to_distribute: { value: a.rewards } };
        }),
      },
      event_blob_certification_state: { latest_certified_blob: null, aggregate_weight_per_blob: { contents: [] } },
      deny_list_sizes: { id: this.derived('deny-list-sizes') },
    };
    const content = M.SystemStateInnerField.serialize({ id: this.systemInnerId, name: LOCALNET_OBJECT_VERSION, value }).toBytes();
    const type = `0x0000000000000000000000000000000000000000000000000000000000000002::dynamic_field::Field<u64, ${this.type('system_state_inner', 'SystemStateInnerV1')}>`;
    return this.make(s, this.systemInnerId, type, objectOwner(this.ids.systemObjectId), content);
  }

  private stakingInner(s: Store): SuiObject {
    const m = s.readMeta();
    const vecmap = (epoch: number) => {
      const c = epoch >= 0 ? s.committee(epoch, m.nShards) : null;
      return { contents: (c?.members ?? []).map((n) => ({ key: n.nodeId, value: [...n.shards] })) };
    };
    const value = {
      n_shards: m.nShards,
      epoch_duration: BigInt(m.epochDurationMs),
      first_epoch_start: BigInt(Math.max(0, m.epochStartMs - m.epoch * m.epochDurationMs)),
      pools: { id: this.ids.poolsTableId, size: BigInt(s.pools().length) },
      epoch: m.epoch,
      active_set: { id: this.derived('active-set') },
      next_committee: null,
      committee: vecmap(m.epoch),
      previous_committee: vecmap(m.epoch - 1),
      next_epoch_params: null,
      epoch_state: m.epochState === 'changeSync' ? { EpochChangeSync: m.syncWeight } : { EpochChangeDone: BigInt(m.epochStartMs) },
      next_epoch_public_keys: { id: this.derived('next-epoch-public-keys') },
    };
    const content = M.StakingInnerField.serialize({ id: this.stakingInnerId, name: LOCALNET_OBJECT_VERSION, value }).toBytes();
    const type = `0x0000000000000000000000000000000000000000000000000000000000000002::dynamic_field::Field<u64, ${this.type('staking_inner', 'StakingInnerV1')}>`;
    return this.make(s, this.stakingInnerId, type, objectOwner(this.ids.stakingObjectId), content);
  }

  private pool(s: Store, nodeId: string): SuiObject {
    const p = s.getPool(nodeId)!;
    const n = s.getNode(nodeId)!;
    const m = s.readMeta();
    const empty = { contents: [] };
    const content = M.StakingPool.serialize({
      id: nodeId,
      state: { Active: true },
      voting_params: { storage_price: p.storagePriceVote, write_price: p.writePriceVote, node_capacity: BigInt(p.capacityVote) },
      node_info: {
        name: n.name,
        node_id: nodeId,
        network_address: hostPort(n.networkAddress),
        public_key: { bytes: Array.from(blsPublicKeyUncompressed(n.publicKey)) },
        next_epoch_public_key: null,
        // Tusk's nodes have no TLS network key; 33 bytes in the shape of a compressed Ed25519 key.
        network_public_key: [0, ...Array(32).fill(0)],
        metadata: { id: this.derived(`node-metadata:${nodeId}`) },
      },
      activation_epoch: 0,
      latest_epoch: m.epoch,
      wal_balance: p.walBalance,
      num_shares: p.numShares,
      pending_shares_withdraw: empty,
      pre_active_withdrawals: empty,
      pending_commission_rate: empty,
      commission_rate: p.commissionBps,
      exchange_rates: { id: this.derived(`exchange-rates:${nodeId}`), size: BigInt(m.epoch + 1) },
      pending_stake: empty,
      rewards_pool: { value: p.rewardsPool },
      commission: { value: 0n },
      commission_receiver: { Address: p.operator },
      governance_authorized: { Address: p.operator },
      extra_fields: { id: this.derived(`extra-fields:${nodeId}`), size: 0n },
    }).toBytes();
    return this.make(s, nodeId, this.type('staking_pool', 'StakingPool'), objectOwner(this.ids.poolsTableId), content);
  }

  private derived(label: string): string {
    return (
      '0x' + Buffer.from(blake2b(new TextEncoder().encode(`tusk-localnet:${this.ids.chainId}:${label}`), { dkLen: 32 })).toString('hex')
    );
  }
}

function accountExists(s: Store, owner: string): boolean {
  return s.q('SELECT 1 AS x FROM accounts WHERE address = ?').get(owner) !== undefined;
}
