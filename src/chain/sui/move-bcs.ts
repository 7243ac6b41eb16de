/**
 * BCS layouts of the Move structs of Walrus's `walrus` package as they are stored on Sui
 * (walrus-sui.md §2.2): System/Staking, their inner states behind a `u64`-keyed dynamic field,
 * StakingPool, Blob, Storage, Metadata, and the certificate message. One module owns these
 * layouts for both directions: the Sui adapter parses objects with them and test fixtures (and,
 * later, the localnet) serialize objects with them.
 *
 * Field order is the Move declaration order; a wrong order shows up as a parse failure or
 * nonsense values, which the differential tests against `@mysten/walrus` catch.
 */
import { bcs, type BcsType } from '@mysten/sui/bcs';

/** `bls_aggregate::Element` and friends: a byte vector in a struct. */
export const Element = bcs.struct('Element', { bytes: bcs.vector(bcs.u8()) });
/** `extended_field::ExtendedField`: only the UID; the value lives in a dynamic field. */
export const ExtendedField = bcs.struct('ExtendedField', { id: bcs.Address });
/** `sui::balance::Balance<T>`. */
export const Balance = bcs.struct('Balance', { value: bcs.u64() });
/** `sui::table::Table`, `object_table::ObjectTable`, `bag::Bag`: UID and size. */
export const TableHandle = bcs.struct('Table', { id: bcs.Address, size: bcs.u64() });

/** `sui::vec_map::VecMap<K, V>`. */
export function VecMap<K, V, KI, VI>(key: BcsType<K, KI>, value: BcsType<V, VI>) {
  return bcs.struct(`VecMap<${key.name}, ${value.name}>`, {
    contents: bcs.vector(bcs.struct(`Entry<${key.name}, ${value.name}>`, { key, value })),
  });
}

/** `sui::dynamic_field::Field<K, V>`. */
export function DynamicField<K, V, KI, VI>(name: BcsType<K, KI>, value: BcsType<V, VI>) {
  return bcs.struct(`Field<${name.name}, ${value.name}>`, { id: bcs.Address, name, value });
}

/** `system::System` and `staking::Staking` share this shape. */
export const VersionedObject = bcs.struct('System', {
  id: bcs.Address,
  version: bcs.u64(),
  package_id: bcs.Address,
  new_package_id: bcs.option(bcs.Address),
});

export const BlsCommitteeMember = bcs.struct('BlsCommitteeMember', {
  public_key: Element,
  weight: bcs.u16(),
  node_id: bcs.Address,
});

export const BlsCommittee = bcs.struct('BlsCommittee', {
  members: bcs.vector(BlsCommitteeMember),
  n_shards: bcs.u16(),
  epoch: bcs.u32(),
  total_aggregated_key: Element,
});

export const EventBlob = bcs.struct('EventBlob', { blob_id: bcs.u256(), ending_checkpoint_sequence_number: bcs.u64() });

export const SystemStateInnerV1 = bcs.struct('SystemStateInnerV1', {
  committee: BlsCommittee,
  total_capacity_size: bcs.u64(),
  used_capacity_size: bcs.u64(),
  storage_price_per_unit_size: bcs.u64(),
  write_price_per_unit_size: bcs.u64(),
  future_accounting: bcs.struct('FutureAccountingRingBuffer', {
    current_index: bcs.u32(),
    length: bcs.u32(),
    ring_buffer: bcs.vector(bcs.struct('FutureAccounting', { epoch: bcs.u32(), used_capacity: bcs.u64(), rewards_to_distribute: Balance })),
  }),
  event_blob_certification_state: bcs.struct('EventBlobCertificationState', {
    latest_certified_blob: bcs.option(EventBlob),
    aggregate_weight_per_blob: VecMap(EventBlob, bcs.u16()),
  }),
  deny_list_sizes: ExtendedField,
});

/** `committee::Committee(VecMap<ID, vector<u16>>)`: node ID → shard indices, in committee order. */
export const Committee = VecMap(bcs.Address, bcs.vector(bcs.u16()));

export const EpochState = bcs.enum('EpochState', {
  EpochChangeSync: bcs.u16(),
  EpochChangeDone: bcs.u64(),
  NextParamsSelected: bcs.u64(),
});

export const StakingInnerV1 = bcs.struct('StakingInnerV1', {
  n_shards: bcs.u16(),
  epoch_duration: bcs.u64(),
  first_epoch_start: bcs.u64(),
  pools: TableHandle,
  epoch: bcs.u32(),
  active_set: ExtendedField,
  next_committee: bcs.option(Committee),
  committee: Committee,
  previous_committee: Committee,
  next_epoch_params: bcs.option(
    bcs.struct('EpochParams', {
      total_capacity_size: bcs.u64(),
      storage_price_per_unit_size: bcs.u64(),
      write_price_per_unit_size: bcs.u64(),
    }),
  ),
  epoch_state: EpochState,
  next_epoch_public_keys: ExtendedField,
});

const PendingValues = VecMap(bcs.u32(), bcs.u64());
const Authorized = bcs.enum('Authorized', { Address: bcs.Address, ObjectID: bcs.Address });

export const StorageNodeInfo = bcs.struct('StorageNodeInfo', {
  name: bcs.string(),
  node_id: bcs.Address,
  /** `host:port`, no scheme. */
  network_address: bcs.string(),
  /** 96-byte uncompressed G1 key. */
  public_key: Element,
  next_epoch_public_key: bcs.option(Element),
  network_public_key: bcs.vector(bcs.u8()),
  metadata: ExtendedField,
});

export const StakingPool = bcs.struct('StakingPool', {
  id: bcs.Address,
  state: bcs.enum('PoolState', { Active: null, Withdrawing: bcs.u32(), Withdrawn: null }),
  voting_params: bcs.struct('VotingParams', { storage_price: bcs.u64(), write_price: bcs.u64(), node_capacity: bcs.u64() }),
  node_info: StorageNodeInfo,
  activation_epoch: bcs.u32(),
  latest_epoch: bcs.u32(),
  wal_balance: bcs.u64(),
  num_shares: bcs.u64(),
  pending_shares_withdraw: PendingValues,
  pre_active_withdrawals: PendingValues,
  pending_commission_rate: PendingValues,
  commission_rate: bcs.u16(),
  exchange_rates: TableHandle,
  pending_stake: PendingValues,
  rewards_pool: Balance,
  commission: Balance,
  commission_receiver: Authorized,
  governance_authorized: Authorized,
  extra_fields: TableHandle,
});

export const Storage = bcs.struct('Storage', {
  id: bcs.Address,
  start_epoch: bcs.u32(),
  /** Exclusive. */
  end_epoch: bcs.u32(),
  /** Encoded bytes. */
  storage_size: bcs.u64(),
});

export const Blob = bcs.struct('Blob', {
  id: bcs.Address,
  registered_epoch: bcs.u32(),
  blob_id: bcs.u256(),
  size: bcs.u64(),
  encoding_type: bcs.u8(),
  certified_epoch: bcs.option(bcs.u32()),
  storage: Storage,
  deletable: bcs.bool(),
});

export const Metadata = bcs.struct('Metadata', { metadata: VecMap(bcs.string(), bcs.string()) });

/** The dynamic-field key of a blob's attributes: `vector<u8>` "metadata". */
export const METADATA_FIELD_NAME = new TextEncoder().encode('metadata');

/** The inner-state dynamic fields: `Field<u64, SystemStateInnerV1>` / `Field<u64, StakingInnerV1>`. */
export const SystemStateInnerField = DynamicField(bcs.u64(), SystemStateInnerV1);
export const StakingInnerField = DynamicField(bcs.u64(), StakingInnerV1);
export const MetadataField = DynamicField(bcs.vector(bcs.u8()), Metadata);

/** A Move u256 as Sui passes it: 32 little-endian bytes ↔ bigint. */
export function u256FromBytes(bytes: Uint8Array): bigint {
  if (bytes.length !== 32) throw new RangeError(`u256: expected 32 bytes, got ${bytes.length}`);
  return BigInt(bcs.u256().parse(bytes));
}

/** Inverse of `u256FromBytes`. */
export function u256ToBytes(value: bigint | string): Uint8Array {
  return bcs.u256().serialize(value).toBytes();
}
