/**
 * Test-only Walrus-on-Sui fixture: writes the walrus package's Move objects (System, Staking,
 * inner dynamic fields, StakingPools, Blobs with metadata, WAL and SUI coins) with the Move BCS
 * layouts of src/chain/sui/move-bcs.ts, and serves them through a fake `CoreClient` that both
 * Tusk's `SuiChain` and the official `@mysten/walrus` SDK use. It can also "execute" a
 * transaction: it decodes the PTB and applies the walrus calls the store flow needs
 * (reserve_space + register_blob, certify_blob) to its objects, so a full store runs offline.
 *
 * Object IDs of System/Staking/packages are Walrus Testnet's; versions and digests are made up.
 */
import { bcs } from '@mysten/sui/bcs';
import { toBase58 } from '@mysten/bcs';
import { CoreClient } from '@mysten/sui/client';
import { deriveDynamicFieldID, normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import { blsPublicKeyUncompressed } from '../../src/crypto/bls.ts';
import * as M from '../../src/chain/sui/move-bcs.ts';
import { WALRUS_NETWORKS } from '../../src/chain/sui/sui-chain.ts';

export const addr = (n: number | bigint) => normalizeSuiAddress('0x' + n.toString(16));
export const digestOf = (n: number) => toBase58(new Uint8Array(32).fill(n & 0xff));

export const SYSTEM_ID = WALRUS_NETWORKS.testnet.systemObjectId;
export const STAKING_ID = WALRUS_NETWORKS.testnet.stakingObjectId;
export const ORIG_PKG = '0xd84704c17fc870b8764832c535aa6b11f21a95cd6f5bb38a9b07d2cf42220c66';
export const CUR_PKG = '0x849e95d2718938d66c37fb91df76d72f78526c1864c339bac415ce8ecda2d8cc';
export const WAL_TYPE = normalizeStructTag('0x8270feb7375eee355e64fdb69c50abb6b5f9393a722883c1cf45f8e26048810a::wal::WAL');
export const SUI_TYPE = normalizeStructTag('0x2::sui::SUI');
export const SYSTEM_ISV = '400185623';
export const GAS_COIN = { objectId: addr(0x9a5), version: '42', digest: digestOf(0x42) };
export const PINNED_GAS = { price: 1000, budget: 50_000_000, payment: [GAS_COIN] };

export interface FixtureNode {
  readonly id: string;
  readonly shards: readonly number[];
  /** `host:port`. */
  readonly address: string;
  /** 48-byte compressed BLS public key. */
  readonly publicKey: Uint8Array;
  readonly name?: string;
}

export interface FixtureOptions {
  readonly nShards: number;
  readonly epoch: number;
  readonly storagePrice: bigint;
  readonly writePrice: bigint;
  readonly nodes: readonly FixtureNode[];
  /** Default: the current committee. */
  readonly previousNodes?: readonly FixtureNode[];
  readonly epochChangeSync?: boolean;
  readonly owner: string;
  /** WAL coin balances of `owner` (FROST). */
  readonly walCoins?: readonly bigint[];
  readonly version?: bigint;
}

interface StoredObject {
  objectId: string;
  version: string;
  digest: string;
  owner: unknown;
  type: string;
  content: Uint8Array;
  previousTransaction: null;
}

const shared = (v: string) => ({ $kind: 'Shared', Shared: { initialSharedVersion: v } });
const owned = (a: string) => ({ $kind: 'AddressOwner', AddressOwner: a });
const byObj = (a: string) => ({ $kind: 'ObjectOwner', ObjectOwner: a });

/** Move signatures the resolver and the SDK ask for (walrus-sui.md §5.1). */
function moveFunctions(): Record<string, unknown[]> {
  const T = (typeName: string, typeParameters: unknown[] = []) => ({ $kind: 'datatype', datatype: { typeName, typeParameters } });
  const P = (body: unknown, reference: string | null = null) => ({ reference, body });
  const prim = (k: string) => ({ $kind: k });
  const two = '0x0000000000000000000000000000000000000000000000000000000000000002';
  const TXCTX = P(T(`${two}::tx_context::TxContext`), 'mutable');
  const SYS = T(`${ORIG_PKG}::system::System`);
  const BLOB = T(`${ORIG_PKG}::blob::Blob`);
  const COINWAL = T(`${two}::coin::Coin`, [T(WAL_TYPE)]);
  const STR = T('0x0000000000000000000000000000000000000000000000000000000000000001::string::String');
  const U8V = { $kind: 'vector', vector: prim('u8') };
  return {
    'staking::stake_with_pool': [P(T(`${ORIG_PKG}::staking::Staking`), 'mutable'), P(COINWAL), P(T(`${two}::object::ID`)), TXCTX],
    'system::reserve_space': [P(SYS, 'mutable'), P(prim('u64')), P(prim('u32')), P(COINWAL, 'mutable'), TXCTX],
    'system::register_blob': [
      P(SYS, 'mutable'),
      P(T(`${ORIG_PKG}::storage_resource::Storage`)),
      P(prim('u256')),
      P(prim('u256')),
      P(prim('u64')),
      P(prim('u8')),
      P(prim('bool')),
      P(COINWAL, 'mutable'),
      TXCTX,
    ],
    'system::certify_blob': [P(SYS, 'immutable'), P(BLOB, 'mutable'), P(U8V), P(U8V), P(U8V)],
    'system::delete_blob': [P(SYS, 'immutable'), P(BLOB)],
    'system::extend_blob': [P(SYS, 'mutable'), P(BLOB, 'mutable'), P(prim('u32')), P(COINWAL, 'mutable')],
    'blob::add_metadata': [P(BLOB, 'mutable'), P(T(`${ORIG_PKG}::metadata::Metadata`))],
    'blob::insert_or_update_metadata_pair': [P(BLOB, 'mutable'), P(STR), P(STR)],
    'blob::remove_metadata_pair': [P(BLOB, 'mutable'), P(STR, 'immutable')],
    'blob::burn': [P(BLOB)],
    'metadata::new': [],
  };
}

/** The fixture's object store and its fake Sui client. */
export class SuiFixture {
  readonly objects = new Map<string, StoredObject>();
  readonly walCoins: { objectId: string; version: string; digest: string; balance: bigint }[] = [];
  readonly o: FixtureOptions;
  #nextId = 0x7000;
  #nextVersion = 1000;

  constructor(options: FixtureOptions) {
    this.o = options;
    const version = options.version ?? 3n;
    this.put(
      SYSTEM_ID,
      `${ORIG_PKG}::system::System`,
      shared(SYSTEM_ISV),
      M.VersionedObject.serialize({ id: SYSTEM_ID, version, package_id: CUR_PKG, new_package_id: null }).toBytes(),
      555,
    );
    this.put(
      STAKING_ID,
      `${ORIG_PKG}::staking::Staking`,
      shared('400185624'),
      M.VersionedObject.serialize({ id: STAKING_ID, version, package_id: CUR_PKG, new_package_id: null }).toBytes(),
      556,
    );
    this.writeState();
    const all = new Map<string, FixtureNode>();
    for (const n of [...options.nodes, ...(options.previousNodes ?? [])]) all.set(normalizeSuiAddress(n.id), n);
    [...all.values()].forEach((n, i) => this.putPool(n, i));
    (options.walCoins ?? [5_000_000_000n, 7_000_000_000n]).forEach((b, i) => {
      this.walCoins.push({ objectId: addr(0xc011 + i), version: String(900 + i), digest: digestOf(0x11 + i), balance: b });
    });
  }

  put(id: string, type: string, owner: unknown, content: Uint8Array, version?: number): void {
    const v = version ?? this.#nextVersion++;
    this.objects.set(normalizeSuiAddress(id), {
      objectId: normalizeSuiAddress(id),
      version: String(v),
      digest: digestOf(v),
      owner,
      type,
      content,
      previousTransaction: null,
    });
  }

  newId(): string {
    return addr(this.#nextId++);
  }

  /** (Re)writes both inner-state dynamic fields from the options. */
  writeState(): void {
    const o = this.o;
    const version = o.version ?? 3n;
    const member = (n: FixtureNode) => ({
      public_key: { bytes: Array.from(blsPublicKeyUncompressed(n.publicKey)) },
      weight: n.shards.length,
      node_id: n.id,
    });
    const sysInner = {
      committee: {
        members: o.nodes.map(member),
        n_shards: o.nShards,
        epoch: o.epoch,
        total_aggregated_key: { bytes: Array.from(blsPublicKeyUncompressed(o.nodes[0]!.publicKey)) },
      },
      total_capacity_size: 10n ** 15n,
      used_capacity_size: 10n ** 12n,
      storage_price_per_unit_size: o.storagePrice,
      write_price_per_unit_size: o.writePrice,
      future_accounting: {
        current_index: 0,
        length: 53,
        ring_buffer: Array.from({ length: 53 }, (_, i) => ({
          epoch: o.epoch + i,
          used_capacity: 0n,
          rewards_to_distribute: { value: 0n },
        })),
      },
      event_blob_certification_state: { latest_certified_blob: null, aggregate_weight_per_blob: { contents: [] } },
      deny_list_sizes: { id: addr(0xd1) },
    };
    const key = bcs.u64().serialize(version).toBytes();
    const sysDf = deriveDynamicFieldID(SYSTEM_ID, 'u64', key);
    this.put(
      sysDf,
      `0x2::dynamic_field::Field<u64, ${ORIG_PKG}::system_state_inner::SystemStateInnerV1>`,
      byObj(SYSTEM_ID),
      M.SystemStateInnerField.serialize({ id: sysDf, name: version, value: sysInner }).toBytes(),
      600,
    );
    const committee = (ns: readonly FixtureNode[]) => ({ contents: ns.map((n) => ({ key: n.id, value: [...n.shards] })) });
    const stakingInner = {
      n_shards: o.nShards,
      epoch_duration: 86_400_000n,
      first_epoch_start: 1_700_000_000_000n,
      pools: { id: addr(0xb0), size: BigInt(o.nodes.length) },
      epoch: o.epoch,
      active_set: { id: addr(0xb1) },
      next_committee: null,
      committee: committee(o.nodes),
      previous_committee: committee(o.previousNodes ?? o.nodes),
      next_epoch_params: null,
      epoch_state: o.epochChangeSync ? { EpochChangeSync: 3 } : { EpochChangeDone: 1_700_000_000_000n },
      next_epoch_public_keys: { id: addr(0xb2) },
    };
    const stkDf = deriveDynamicFieldID(STAKING_ID, 'u64', key);
    this.put(
      stkDf,
      `0x2::dynamic_field::Field<u64, ${ORIG_PKG}::staking_inner::StakingInnerV1>`,
      byObj(STAKING_ID),
      M.StakingInnerField.serialize({ id: stkDf, name: version, value: stakingInner }).toBytes(),
      601,
    );
  }

  putPool(n: FixtureNode, i: number): void {
    const emptyPV = { contents: [] };
    this.put(
      n.id,
      `${ORIG_PKG}::staking_pool::StakingPool`,
      byObj(addr(0xb0)),
      M.StakingPool.serialize({
        id: n.id,
        state: { Active: true },
        voting_params: { storage_price: this.o.storagePrice, write_price: this.o.writePrice, node_capacity: 10n ** 13n },
        node_info: {
          name: n.name ?? `node-${i}`,
          node_id: n.id,
          network_address: n.address,
          public_key: { bytes: Array.from(blsPublicKeyUncompressed(n.publicKey)) },
          next_epoch_public_key: null,
          network_public_key: Array(33).fill(2),
          metadata: { id: addr(0xc0 + i) },
        },
        activation_epoch: 1,
        latest_epoch: this.o.epoch,
        wal_balance: 10n ** 12n,
        num_shares: 10n ** 12n,
        pending_shares_withdraw: emptyPV,
        pre_active_withdrawals: emptyPV,
        pending_commission_rate: emptyPV,
        commission_rate: 100,
        exchange_rates: { id: addr(0xe0 + i), size: 1n },
        pending_stake: emptyPV,
        rewards_pool: { value: 0n },
        commission: { value: 0n },
        commission_receiver: { Address: n.id },
        governance_authorized: { Address: n.id },
        extra_fields: { id: addr(0xf0 + i), size: 0n },
      }).toBytes(),
    );
  }

  /** Adds a Blob object owned by `owner` (and its metadata field when `attributes` is given). */
  putBlob(b: {
    id: string;
    blobId: bigint;
    size: bigint;
    storageSize: bigint;
    start: number;
    end: number;
    deletable: boolean;
    certified?: number | null;
    attributes?: Record<string, string>;
  }): void {
    this.put(
      b.id,
      `${ORIG_PKG}::blob::Blob`,
      owned(this.o.owner),
      M.Blob.serialize({
        id: b.id,
        registered_epoch: b.start,
        blob_id: b.blobId,
        size: b.size,
        encoding_type: 1,
        certified_epoch: b.certified ?? null,
        storage: { id: addr(0x5700 + this.objects.size), start_epoch: b.start, end_epoch: b.end, storage_size: b.storageSize },
        deletable: b.deletable,
      }).toBytes(),
      777,
    );
    if (b.attributes) {
      const df = deriveDynamicFieldID(b.id, 'vector<u8>', bcs.vector(bcs.u8()).serialize(M.METADATA_FIELD_NAME).toBytes());
      this.put(
        df,
        `0x2::dynamic_field::Field<vector<u8>, ${ORIG_PKG}::metadata::Metadata>`,
        byObj(b.id),
        M.MetadataField.serialize({
          id: df,
          name: M.METADATA_FIELD_NAME,
          value: { metadata: { contents: Object.entries(b.attributes).map(([key, value]) => ({ key, value })) } },
        }).toBytes(),
        778,
      );
    }
  }

  client(): FakeSuiClient {
    return new FakeSuiClient(this);
  }
}

/** A `CoreClient` over a `SuiFixture`; every unexpected call throws. */
export class FakeSuiClient extends CoreClient {
  readonly calls: string[] = [];
  readonly fx: SuiFixture;
  /** Set by tests that execute transactions: applies the decoded PTB, returns created object IDs. */
  executor: ((bytes: Uint8Array) => Promise<string[]>) | null = null;
  readonly #effects = new Map<string, string[]>();
  #txCount = 0;

  constructor(fx: SuiFixture) {
    super({ network: 'testnet', base: undefined as never });
    this.fx = fx;
  }

  override async getObjects({ objectIds, include }: { objectIds: string[]; include?: { content?: boolean } }): Promise<never> {
    this.calls.push(`getObjects ${objectIds.length}`);
    return {
      objects: objectIds.map((id) => {
        const o = this.fx.objects.get(normalizeSuiAddress(id));
        if (!o) return new Error(`object ${id} not found`);
        return { ...o, content: include?.content ? o.content : undefined };
      }),
    } as never;
  }

  override async getMoveFunction({ packageId, moduleName, name }: { packageId: string; moduleName: string; name: string }): Promise<never> {
    this.calls.push(`getMoveFunction ${moduleName}::${name}`);
    const params = moveFunctions()[`${moduleName}::${name}`];
    if (!params) throw new Error(`no fixture for ${moduleName}::${name}`);
    return {
      function: { packageId, moduleName, name, visibility: 'public', isEntry: false, typeParameters: [], parameters: params, returns: [] },
    } as never;
  }

  override async listCoins({ coinType }: { owner: string; coinType?: string }): Promise<never> {
    const t = normalizeStructTag(coinType ?? SUI_TYPE);
    const objects =
      t === WAL_TYPE
        ? this.fx.walCoins.map((c) => ({
            objectId: c.objectId,
            version: c.version,
            digest: c.digest,
            owner: owned(this.fx.o.owner),
            type: `0x2::coin::Coin<${WAL_TYPE}>`,
            balance: String(c.balance),
          }))
        : [];
    return { objects, hasNextPage: false, cursor: null } as never;
  }

  override async getBalance({ coinType }: { owner: string; coinType?: string }): Promise<never> {
    const t = normalizeStructTag(coinType ?? SUI_TYPE);
    const bal = t === WAL_TYPE ? this.fx.walCoins.reduce((s, c) => s + c.balance, 0n) : 10n ** 10n;
    return { balance: { coinType: t, balance: String(bal), coinBalance: String(bal), addressBalance: '0' } } as never;
  }

  override async listOwnedObjects({ owner, type }: { owner: string; type?: string }): Promise<never> {
    const objects = [...this.fx.objects.values()].filter((o) => {
      const own = (o.owner as { AddressOwner?: string }).AddressOwner;
      return (
        own && normalizeSuiAddress(own) === normalizeSuiAddress(owner) && (!type || normalizeStructTag(o.type) === normalizeStructTag(type))
      );
    });
    return { objects, hasNextPage: false, cursor: null } as never;
  }

  override async executeTransaction({ transaction }: { transaction: Uint8Array }): Promise<never> {
    if (!this.executor) throw new Error('fixture: executeTransaction not enabled');
    const created = await this.executor(transaction);
    const digest = digestOf(0x80 + this.#txCount++);
    this.#effects.set(digest, created);
    return this.#result(digest) as never;
  }

  #result(digest: string) {
    const created = this.#effects.get(digest) ?? [];
    return {
      $kind: 'Transaction',
      Transaction: {
        digest,
        status: { success: true, error: null },
        effects: { changedObjects: created.map((objectId) => ({ objectId, idOperation: 'Created' })) },
      },
    };
  }

  override async getTransaction({ digest }: { digest: string }): Promise<never> {
    if (!this.#effects.has(digest)) throw new Error(`unknown transaction ${digest}`);
    return this.#result(digest) as never;
  }

  override async getChainIdentifier(): Promise<never> {
    throw new Error('fixture: gas is pinned; getChainIdentifier not expected');
  }
  override async getCurrentSystemState(): Promise<never> {
    throw new Error('fixture: gas is pinned; getCurrentSystemState not expected');
  }
  override async simulateTransaction(): Promise<never> {
    throw new Error('fixture: gas is pinned; simulateTransaction not expected');
  }
  override async getReferenceGasPrice(): Promise<never> {
    throw new Error('not needed');
  }
  override async listBalances(): Promise<never> {
    throw new Error('not needed');
  }
  override async getCoinMetadata(): Promise<never> {
    throw new Error('not needed');
  }
  override async getProtocolConfig(): Promise<never> {
    throw new Error('not needed');
  }
  override async listDynamicFields(): Promise<never> {
    throw new Error('not needed');
  }
  override async verifyZkLoginSignature(): Promise<never> {
    throw new Error('not needed');
  }
  override async defaultNameServiceName(): Promise<never> {
    throw new Error('not needed');
  }
  override async resolveNameServiceAddress(): Promise<never> {
    throw new Error('not needed');
  }
  override async listTransactions(): Promise<never> {
    throw new Error('not needed');
  }
  override async listEvents(): Promise<never> {
    throw new Error('not needed');
  }
  override resolveTransactionPlugin(): never {
    return undefined as never;
  }
}
