/**
 * The localnet's transaction executor: a Sui-signed `TransactionData` (BCS) of the shapes the
 * official Walrus SDK builds, verified and interpreted against the local chain's Move rules
 * (src/chain/local/blobs.ts) inside ONE SQLite transaction (`LocalChain.executeVerified`): every
 * effect is applied, or none.
 *
 * What is checked before anything runs: the bytes parse as TransactionData V1 with a programmable
 * transaction; exactly one Ed25519 signature over the Sui intent of those bytes, by the sender;
 * the gas owner is the sender and the gas payment is the sender's gas coin at its current version;
 * every owned object input is at its current version (a transaction built on stale objects is
 * refused, as Sui refuses it). The digest is Sui's (BLAKE2b of "TransactionData::" ‖ bytes);
 * identical bytes sent again return the stored effects without running again (Sui's idempotent
 * execution), and bytes refused for good get the same refusal again.
 *
 * Commands: MergeCoins and SplitCoins of WAL; MoveCall to the walrus package's `system::`
 * reserve_space, register_blob, certify_blob, extend_blob, delete_blob, `blob::` add_metadata,
 * insert_or_update_metadata_pair, remove_metadata_pair, burn, `metadata::new`, and
 * `0x2::coin::destroy_zero<WAL>`; TransferObjects of Blobs, Storage and WAL coins. Anything else
 * aborts with `EUnsupportedCommand` naming it. Values without `drop` left unused at the end
 * (a split coin, a Storage, a new Blob) abort with `EUnusedValueWithoutDrop`, as Sui does.
 *
 * WAL: an account's balance is its one `Coin<WAL>` (ids.ts). Coins split from it are tracked
 * here; what Move functions charge is debited from the account by the local chain's rules and
 * taken from the coin passed as payment, which must cover it. Gas is not charged.
 */
import { bcs } from '@mysten/sui/bcs';
import { TransactionDataBuilder } from '@mysten/sui/transactions';
import { parseSerializedSignature } from '@mysten/sui/cryptography';
import { verifyTransactionSignature } from '@mysten/sui/verify';
import { fromBase64, normalizeStructTag, normalizeSuiAddress } from '@mysten/sui/utils';
import { ChainAbortError } from '../../errors.ts';
import type { ExecContext } from '../local/context.ts';
import * as blobs from '../local/blobs.ts';
import type { ChainEvent } from '../types.ts';
import { u256FromBytes, u256ToBytes } from '../sui/move-bcs.ts';
import { gasCoinId, LOCALNET_GAS_PRICE, SUI_FRAMEWORK, walCoinId } from './ids.ts';
import type { LocalnetObjects, SuiOwner } from './objects.ts';

/** One changed object in the effects (`SuiClientTypes.ChangedObject`). */
export interface LocalnetChangedObject {
  readonly objectId: string;
  readonly inputState: 'DoesNotExist' | 'Exists';
  readonly inputVersion: string | null;
  readonly inputDigest: string | null;
  readonly inputOwner: SuiOwner | null;
  readonly outputState: 'DoesNotExist' | 'ObjectWrite';
  readonly outputVersion: string | null;
  readonly outputDigest: string | null;
  readonly outputOwner: SuiOwner | null;
  readonly idOperation: 'None' | 'Created' | 'Deleted';
}

/** A Move event as Sui reports it (`SuiClientTypes.Event`, without `json`). */
export interface LocalnetEvent {
  readonly packageId: string;
  readonly module: string;
  readonly sender: string;
  readonly eventType: string;
  readonly bcs: Uint8Array;
}

/** What an executed transaction leaves: stored with its digest, served by getTransaction. */
export interface LocalnetEffects {
  readonly digest: string;
  readonly sender: string;
  readonly epoch: number;
  readonly lamportVersion: string;
  readonly changedObjects: readonly LocalnetChangedObject[];
  readonly objectTypes: Readonly<Record<string, string>>;
  readonly events: readonly LocalnetEvent[];
  readonly balanceChanges: readonly { coinType: string; address: string; amount: string }[];
}

type Value =
  | { t: 'coin'; account: boolean; owner: string; amount: bigint; consumed: boolean }
  | { t: 'storage'; id: string; consumed: boolean; fresh: boolean }
  | { t: 'blob'; id: string; consumed: boolean; fresh: boolean }
  | { t: 'metadata'; entries: Map<string, string>; consumed: boolean }
  | { t: 'shared'; id: string }
  | { t: 'pure'; bytes: Uint8Array }
  | { t: 'gas' }
  | { t: 'unit' };

type Arg = { GasCoin?: true; Input?: number; Result?: number; NestedResult?: [number, number] };

const unsupported = (what: string): never => {
  throw new ChainAbortError('EUnsupportedCommand', `${what} is not supported by the Tusk localnet`);
};
const malformed = (what: string): never => {
  throw new ChainAbortError('EMalformedTransaction', what);
};

/** The parts of a transaction checked before execution. */
export interface VerifiedSuiTransaction {
  readonly digest: string;
  readonly sender: string;
  readonly data: ReturnType<typeof bcs.TransactionData.parse>;
}

/**
 * Parses and authenticates Sui transaction bytes.
 * @throws ChainAbortError `EMalformedTransaction` (unparsable, not V1/programmable, no sender),
 *   `EInvalidSignature` (not exactly one valid Ed25519 signature by the sender).
 */
export async function verifySuiTransaction(bytes: Uint8Array, signatures: readonly string[]): Promise<VerifiedSuiTransaction> {
  let data: ReturnType<typeof bcs.TransactionData.parse>;
  try {
    data = bcs.TransactionData.parse(bytes);
  } catch (e) {
    return malformed(`transaction bytes are not Sui TransactionData: ${(e as Error).message}`);
  }
  const v1 = data.V1;
  if (!v1) return malformed('only TransactionData V1 is supported');
  if (!v1.kind.ProgrammableTransaction)
    return malformed(`transaction kind ${v1.kind.$kind} is not supported (programmable transactions only)`);
  const sender = normalizeSuiAddress(v1.sender);
  if (!Array.isArray(signatures) || signatures.length !== 1 || typeof signatures[0] !== 'string')
    throw new ChainAbortError('EInvalidSignature', 'exactly one signature (the sender\u2019s) is expected');
  let scheme: string;
  try {
    scheme = parseSerializedSignature(signatures[0]).signatureScheme;
  } catch (e) {
    throw new ChainAbortError('EInvalidSignature', `signature is not a Sui serialized signature: ${(e as Error).message}`);
  }
  if (scheme !== 'ED25519') throw new ChainAbortError('EInvalidSignature', `signature scheme ${scheme} is not supported (Ed25519 only)`);
  try {
    await verifyTransactionSignature(bytes, signatures[0], { address: sender });
  } catch (e) {
    throw new ChainAbortError('EInvalidSignature', `signature does not verify for sender ${sender}: ${(e as Error).message}`);
  }
  return { digest: TransactionDataBuilder.getDigestFromBytes(bytes), sender, data };
}

/**
 * Parses transaction bytes for a dry run (no signature: Sui's simulateTransaction).
 * @throws ChainAbortError `EMalformedTransaction`.
 */
export function parseSuiTransaction(bytes: Uint8Array): VerifiedSuiTransaction {
  let data: ReturnType<typeof bcs.TransactionData.parse>;
  try {
    data = bcs.TransactionData.parse(bytes);
  } catch (e) {
    return malformed(`transaction bytes are not Sui TransactionData: ${(e as Error).message}`);
  }
  if (!data.V1?.kind.ProgrammableTransaction) return malformed('only V1 programmable transactions are supported');
  return { digest: TransactionDataBuilder.getDigestFromBytes(bytes), sender: normalizeSuiAddress(data.V1.sender), data };
}

/** Interprets a verified transaction inside the chain's write transaction (see the module comment). */
export class PtbInterpreter {
  private readonly o: LocalnetObjects;
  private readonly ctx: ExecContext;
  private readonly tx: VerifiedSuiTransaction;
  private readonly values: Value[][] = [];
  private readonly inputs: Value[] = [];
  /** Object ID → kind and version before the transaction (for effects and version bumps). */
  private readonly touched = new Map<string, { before: ReturnType<LocalnetObjects['getObjects']>[number] }>();
  private readonly created = new Set<string>();
  /** WAL balances before the transaction of every address it may change (for balanceChanges). */
  private readonly balancesBefore = new Map<string, bigint>();

  /** A dry run (simulation): the gas payment is not checked (the resolver simulates without one). */
  private readonly simulate: boolean;

  constructor(objects: LocalnetObjects, ctx: ExecContext, tx: VerifiedSuiTransaction, options: { simulate?: boolean } = {}) {
    this.o = objects;
    this.ctx = ctx;
    this.tx = tx;
    this.simulate = options.simulate ?? false;
  }

  private get ids() {
    return this.o.ids;
  }

  private snapshot(id: string) {
    if (this.touched.has(id) || this.created.has(id)) return;
    this.touched.set(id, { before: this.o.getObjects([id])[0] });
  }

  run(): LocalnetEffects {
    const v1 = this.tx.data.V1!;
    const sender = this.tx.sender;
    // Gas: owned by the sender, paid with the sender's gas coin at its current version; not charged.
    if (normalizeSuiAddress(v1.gasData.owner) !== sender) malformed('the gas owner must be the sender');
    if (BigInt(v1.gasData.price) < LOCALNET_GAS_PRICE)
      throw new ChainAbortError('EGasPriceTooLow', `gas price ${v1.gasData.price} is below the reference price ${LOCALNET_GAS_PRICE}`);
    const gasId = gasCoinId(this.ids, sender);
    if (!this.simulate) {
      if (v1.gasData.payment.length !== 1 || normalizeSuiAddress(v1.gasData.payment[0]!.objectId) !== gasId)
        malformed(`gas must be paid with the sender's gas coin ${gasId} alone`);
      this.checkRef(gasId, v1.gasData.payment[0]!.version);
    }
    this.snapshot(gasId);
    const exp = v1.expiration;
    if (exp.$kind === 'Epoch' && Number(exp.Epoch) < this.ctx.meta.epoch)
      throw new ChainAbortError('ETransactionExpired', `transaction expired at epoch ${exp.Epoch}`);
    if (exp.$kind === 'ValidDuring') {
      const vd = exp.ValidDuring;
      if (vd.chain !== this.ids.chainIdentifier) throw new ChainAbortError('EWrongChain', `transaction is for chain ${vd.chain}`);
      if (
        (vd.minEpoch !== null && Number(vd.minEpoch) > this.ctx.meta.epoch) ||
        (vd.maxEpoch !== null && Number(vd.maxEpoch) < this.ctx.meta.epoch)
      )
        throw new ChainAbortError('ETransactionExpired', 'transaction is outside its valid epochs');
    }

    this.noteBalance(sender);
    const ptb = v1.kind.ProgrammableTransaction!;
    for (const input of ptb.inputs) this.inputs.push(this.input(input));
    ptb.commands.forEach((c, i) => {
      try {
        this.values.push(this.command(c));
      } catch (e) {
        if (e instanceof ChainAbortError)
          throw new ChainAbortError(e.code, `command ${i} (${describe(c)}): ${e.message.replace(`${e.code}: `, '')}`);
        throw e;
      }
    });
    for (const results of this.values)
      for (const v of results)
        if ((v.t === 'coin' && !v.account) || ((v.t === 'storage' || v.t === 'blob') && v.fresh) || v.t === 'metadata')
          if (!v.consumed)
            throw new ChainAbortError(
              'EUnusedValueWithoutDrop',
              `a ${v.t === 'coin' ? 'Coin<WAL>' : v.t} result was left unused (it has no drop ability)`,
            );
    return this.effects();
  }

  private noteBalance(address: string): void {
    if (!this.balancesBefore.has(address)) this.balancesBefore.set(address, this.ctx.store.balance(address));
  }

  private checkRef(id: string, version: string | number | bigint): void {
    const current = this.o.version(this.ctx.store, id).version;
    if (BigInt(version) !== current)
      throw new ChainAbortError(
        'EObjectVersionUnavailable',
        `object ${id} is at version ${current}, the transaction uses version ${version} (rebuild it)`,
      );
  }

  private input(input: ReturnType<typeof bcs.CallArg.parse>): Value {
    if (input.Pure) return { t: 'pure', bytes: fromBase64(input.Pure.bytes) };
    const obj = input.Object;
    if (!obj) return unsupported(`input kind ${input.$kind}`);
    if (obj.SharedObject) {
      const id = normalizeSuiAddress(obj.SharedObject.objectId);
      if (id !== this.ids.systemObjectId && id !== this.ids.stakingObjectId) return unsupported(`shared object ${id}`);
      return { t: 'shared', id };
    }
    if (!obj.ImmOrOwnedObject) return unsupported(`object argument ${obj.$kind}`);
    const id = normalizeSuiAddress(obj.ImmOrOwnedObject.objectId);
    const sender = this.tx.sender;
    if (id === walCoinId(this.ids, sender)) {
      this.checkRef(id, obj.ImmOrOwnedObject.version);
      this.snapshot(id);
      return { t: 'coin', account: true, owner: sender, amount: 0n, consumed: false };
    }
    if (id === gasCoinId(this.ids, sender)) return unsupported('the gas coin as an input');
    const blob = this.ctx.store.getBlob(id);
    const storage = blob ? null : this.ctx.store.getStorage(id);
    if (!blob && !storage)
      throw new ChainAbortError(
        'EObjectNotFound',
        `object ${id} does not exist (or is not an owned Blob, Storage or WAL coin of the sender)`,
      );
    const owner = blob?.owner ?? storage!.owner;
    if (owner !== sender) throw new ChainAbortError('ENotOwner', `object ${id} is owned by ${owner}, not by the sender ${sender}`);
    this.checkRef(id, obj.ImmOrOwnedObject.version);
    this.snapshot(id);
    return blob ? { t: 'blob', id, consumed: false, fresh: false } : { t: 'storage', id, consumed: false, fresh: false };
  }

  private arg(a: Arg): Value {
    if (a.GasCoin) return { t: 'gas' };
    if (a.Input !== undefined) return this.inputs[a.Input] ?? malformed(`input ${a.Input} does not exist`);
    if (a.Result !== undefined) {
      const r = this.values[a.Result] ?? malformed(`result ${a.Result} does not exist`);
      if (r.length !== 1) malformed(`result ${a.Result} has ${r.length} values; use NestedResult`);
      return r[0]!;
    }
    if (a.NestedResult) {
      const [c, i] = a.NestedResult;
      return this.values[c]?.[i] ?? malformed(`result ${c}.${i} does not exist`);
    }
    return malformed('unknown argument kind');
  }

  private pure<T>(a: Arg, type: { parse(b: Uint8Array): T }, what: string): T {
    const v = this.arg(a);
    if (v.t !== 'pure') return malformed(`${what} must be a pure argument`);
    try {
      return type.parse(v.bytes);
    } catch (e) {
      return malformed(`${what}: ${(e as Error).message}`);
    }
  }

  private coin(a: Arg, what: string): Extract<Value, { t: 'coin' }> {
    const v = this.arg(a);
    if (v.t === 'gas') return unsupported(`the gas coin (SUI) as ${what}`);
    if (v.t !== 'coin' || v.consumed) return malformed(`${what} must be an unused Coin<WAL>`);
    return v;
  }

  private available(c: Extract<Value, { t: 'coin' }>): bigint {
    if (!c.account) return c.amount;
    let outstanding = 0n;
    for (const r of this.values) for (const v of r) if (v.t === 'coin' && !v.account && !v.consumed) outstanding += v.amount;
    return this.ctx.store.balance(c.owner) - outstanding;
  }

  private blobArg(a: Arg, byValue: boolean): Extract<Value, { t: 'blob' }> {
    const v = this.arg(a);
    if (v.t !== 'blob' || v.consumed) return malformed('expected an unused Blob');
    if (byValue) v.consumed = true;
    return v;
  }

  private system(a: Arg): void {
    const v = this.arg(a);
    if (v.t !== 'shared' || v.id !== this.ids.systemObjectId) malformed('expected the System object');
  }

  /** Runs `fn` (which debits the sender) and takes what it charged from `coin`. */
  private pay<T>(coin: Extract<Value, { t: 'coin' }>, fn: () => T): T {
    const available = this.available(coin);
    const before = this.ctx.store.balance(this.tx.sender);
    const r = fn();
    const charged = before - this.ctx.store.balance(this.tx.sender);
    if (charged > available)
      throw new ChainAbortError('EInsufficientBalance', `the payment coin holds ${available} FROST, the call costs ${charged}`);
    if (!coin.account) coin.amount -= charged;
    return r;
  }

  private command(c: ReturnType<typeof bcs.Command.parse>): Value[] {
    if (c.SplitCoins) {
      const coin = this.coin(c.SplitCoins.coin as Arg, 'SplitCoins source');
      const amounts = c.SplitCoins.amounts.map((a) => BigInt(this.pure(a as Arg, bcs.u64(), 'split amount')));
      const total = amounts.reduce((s, x) => s + x, 0n);
      const have = this.available(coin);
      if (total > have) throw new ChainAbortError('EInsufficientCoinBalance', `splitting ${total} FROST from a coin of ${have}`);
      if (!coin.account) coin.amount -= total;
      return amounts.map((amount) => ({ t: 'coin', account: false, owner: coin.owner, amount, consumed: false }));
    }
    if (c.MergeCoins) {
      const dest = this.coin(c.MergeCoins.destination as Arg, 'MergeCoins destination');
      for (const s of c.MergeCoins.sources) {
        const src = this.coin(s as Arg, 'MergeCoins source');
        if (src === dest) malformed('a coin cannot be merged into itself');
        if (src.account) {
          if (!dest.account) dest.amount += this.available(src);
        } else {
          if (!dest.account) dest.amount += src.amount;
          src.consumed = true;
        }
      }
      return [];
    }
    if (c.TransferObjects) {
      const recipient = normalizeSuiAddress(this.pure(c.TransferObjects.address as Arg, bcs.Address, 'recipient'));
      for (const a of c.TransferObjects.objects) this.transfer(this.arg(a as Arg), recipient);
      return [];
    }
    if (c.MoveCall) return this.moveCall(c.MoveCall);
    return unsupported(`command ${c.$kind}`);
  }

  private transfer(v: Value, recipient: string): void {
    const sender = this.tx.sender;
    if (v.t === 'blob' || v.t === 'storage') {
      if (v.consumed) malformed(`the ${v.t} was already used`);
      v.consumed = true;
      if (recipient !== sender) {
        this.snapshot(v.id);
        blobs.transferObject(this.ctx, { objectId: v.id, recipient });
      }
      return;
    }
    if (v.t === 'coin') {
      if (v.consumed) malformed('the coin was already used');
      const amount = this.available(v);
      if (!v.account) v.consumed = true;
      if (recipient !== sender && amount > 0n) {
        this.noteBalance(recipient);
        this.ctx.store.debit(sender, amount, 'transfer');
        this.ctx.store.credit(recipient, amount);
        this.snapshot(walCoinId(this.ids, recipient));
      }
      return;
    }
    unsupported(`transferring a ${v.t} value`);
  }

  private moveCall(call: NonNullable<ReturnType<typeof bcs.Command.parse>['MoveCall']>): Value[] {
    const pkg = normalizeSuiAddress(call.package);
    const target = `${call.module}::${call.function}`;
    const a = call.arguments as Arg[];
    const nArgs = (n: number) => {
      if (a.length !== n) malformed(`${target} takes ${n} arguments, got ${a.length}`);
    };
    if (pkg === SUI_FRAMEWORK && target === 'coin::destroy_zero') {
      nArgs(1);
      const t = call.typeArguments.map((x) => normalizeStructTag(x));
      if (t.length !== 1 || t[0] !== normalizeStructTag(this.ids.walType)) unsupported(`coin::destroy_zero<${t.join(', ')}>`);
      const coin = this.coin(a[0]!, 'destroy_zero argument');
      const left = this.available(coin);
      if (coin.account) unsupported('destroying the account\u2019s WAL coin');
      if (left !== 0n) throw new ChainAbortError('ENonZero', `coin::destroy_zero of a coin holding ${left} FROST`);
      coin.consumed = true;
      return [];
    }
    if (pkg !== this.ids.walrusPackage) return unsupported(`Move call ${pkg}::${target}`);
    if (call.typeArguments.length !== 0) malformed(`${target} takes no type arguments`);
    const ctx = this.ctx;
    switch (target) {
      case 'system::reserve_space': {
        nArgs(4);
        this.system(a[0]!);
        const size = Number(this.pure(a[1]!, bcs.u64(), 'size'));
        const epochsAhead = this.pure(a[2]!, bcs.u32(), 'epochs_ahead');
        const coin = this.coin(a[3]!, 'payment');
        const { storage } = this.pay(coin, () => blobs.reserveSpace(ctx, { size, epochsAhead }));
        this.created.add(storage.id);
        return [{ t: 'storage', id: storage.id, consumed: false, fresh: true }];
      }
      case 'system::register_blob': {
        nArgs(8);
        this.system(a[0]!);
        const st = this.arg(a[1]!);
        if (st.t !== 'storage' || st.consumed) return malformed('register_blob needs an unused Storage');
        st.consumed = true;
        const args = {
          storage: st.id,
          blobId: u256ToBytes(this.pure(a[2]!, bcs.u256(), 'blob_id')),
          rootHash: u256ToBytes(this.pure(a[3]!, bcs.u256(), 'root_hash')),
          size: Number(this.pure(a[4]!, bcs.u64(), 'size')),
          encodingType: this.pure(a[5]!, bcs.u8(), 'encoding_type'),
          deletable: this.pure(a[6]!, bcs.bool(), 'deletable'),
        };
        const coin = this.coin(a[7]!, 'payment');
        this.snapshot(st.id);
        const { blob } = this.pay(coin, () => blobs.registerBlob(ctx, args));
        this.created.add(blob.id);
        return [{ t: 'blob', id: blob.id, consumed: false, fresh: true }];
      }
      case 'system::certify_blob': {
        nArgs(5);
        this.system(a[0]!);
        const b = this.blobArg(a[1]!, false);
        const vec = bcs.vector(bcs.u8());
        const signature = new Uint8Array(this.pure(a[2]!, vec, 'signature'));
        const signersBitmap = new Uint8Array(this.pure(a[3]!, vec, 'signers_bitmap'));
        const message = new Uint8Array(this.pure(a[4]!, vec, 'message'));
        blobs.certifyBlob(ctx, { blobObjectId: b.id, signature, signersBitmap, message });
        return [{ t: 'unit' }];
      }
      case 'system::extend_blob': {
        nArgs(4);
        this.system(a[0]!);
        const b = this.blobArg(a[1]!, false);
        const epochs = this.pure(a[2]!, bcs.u32(), 'extended_epochs');
        const coin = this.coin(a[3]!, 'payment');
        this.pay(coin, () => blobs.extendBlob(ctx, { blobObjectId: b.id, epochs }));
        return [{ t: 'unit' }];
      }
      case 'system::delete_blob': {
        nArgs(2);
        this.system(a[0]!);
        const b = this.blobArg(a[1]!, true);
        const { storage } = blobs.deleteBlob(ctx, { blobObjectId: b.id });
        this.created.add(storage.id); // it was part of the Blob, now an object of its own
        return [{ t: 'storage', id: storage.id, consumed: false, fresh: true }];
      }
      case 'blob::burn': {
        nArgs(1);
        const b = this.blobArg(a[0]!, true);
        blobs.burnBlob(ctx, { blobObjectId: b.id });
        return [];
      }
      case 'metadata::new':
        nArgs(0);
        return [{ t: 'metadata', entries: new Map(), consumed: false }];
      case 'metadata::insert_or_update': {
        nArgs(3);
        const m = this.arg(a[0]!);
        if (m.t !== 'metadata' || m.consumed) return malformed('expected an unused Metadata');
        m.entries.set(this.pure(a[1]!, bcs.string(), 'key'), this.pure(a[2]!, bcs.string(), 'value'));
        return [];
      }
      case 'blob::add_metadata': {
        nArgs(2);
        const b = this.blobArg(a[0]!, false);
        const m = this.arg(a[1]!);
        if (m.t !== 'metadata' || m.consumed) return malformed('add_metadata needs an unused Metadata');
        m.consumed = true;
        const blob = ctx.store.getBlob(b.id);
        if (blob && Object.keys(blob.attributes).length > 0)
          throw new ChainAbortError('EDuplicateMetadata', `blob ${b.id} already has metadata`);
        this.snapshotMetadata(b.id);
        for (const [key, value] of m.entries) blobs.setBlobAttribute(ctx, { blobObjectId: b.id, key, value });
        return [];
      }
      case 'blob::insert_or_update_metadata_pair': {
        nArgs(3);
        const b = this.blobArg(a[0]!, false);
        const key = this.pure(a[1]!, bcs.string(), 'key');
        const value = this.pure(a[2]!, bcs.string(), 'value');
        this.snapshotMetadata(b.id);
        blobs.setBlobAttribute(ctx, { blobObjectId: b.id, key, value });
        return [];
      }
      case 'blob::remove_metadata_pair': {
        nArgs(2);
        const b = this.blobArg(a[0]!, false);
        const key = this.pure(a[1]!, bcs.string(), 'key');
        this.snapshotMetadata(b.id);
        blobs.removeBlobAttribute(ctx, { blobObjectId: b.id, key });
        // Move returns the removed (key, value); Strings have drop.
        return [{ t: 'unit' }, { t: 'unit' }];
      }
      default:
        return unsupported(`Move call ${target}`);
    }
  }

  private snapshotMetadata(blobId: string): void {
    const id = this.o.metadataFieldId(blobId);
    if (this.touched.has(id) || this.created.has(id)) return;
    const before = this.o.getMetadataField(blobId);
    if (before) this.touched.set(id, { before });
    else this.created.add(id);
  }

  /** Bumps the versions of every written object and describes the changes. */
  private effects(): LocalnetEffects {
    const s = this.ctx.store;
    const lamport = BigInt(s.getMetaValue('suiLamport') ?? '1') + 1n;
    s.setMetaValue('suiLamport', String(lamport));
    const ids = [...this.touched.keys(), ...this.created];
    const bump = s.q(
      'INSERT INTO sui_versions(id, version, prev_tx) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, prev_tx = excluded.prev_tx',
    );
    const changedObjects: LocalnetChangedObject[] = [];
    const objectTypes: Record<string, string> = {};
    for (const id of ids) {
      const before = this.touched.get(id)?.before ?? null;
      const exists = (this.o.getObjects([id])[0] ?? this.metadataAfter(id)) !== null;
      if (!before && !exists) continue; // created and consumed in this transaction (e.g. reserve_space's Storage)
      if (exists) bump.run(id, Number(lamport), this.tx.digest); // a deleted ID keeps its last version
      const after = exists ? (this.o.getObjects([id])[0] ?? this.metadataAfter(id)) : null;
      objectTypes[id] = (after ?? before)!.type;
      changedObjects.push({
        objectId: id,
        inputState: before ? 'Exists' : 'DoesNotExist',
        inputVersion: before?.version ?? null,
        inputDigest: before?.digest ?? null,
        inputOwner: before?.owner ?? null,
        outputState: after ? 'ObjectWrite' : 'DoesNotExist',
        outputVersion: after ? String(lamport) : null,
        outputDigest: after?.digest ?? null,
        outputOwner: after?.owner ?? null,
        idOperation: !before ? 'Created' : after ? 'None' : 'Deleted',
      });
    }
    return {
      digest: this.tx.digest,
      sender: this.tx.sender,
      epoch: this.ctx.meta.epoch,
      lamportVersion: String(lamport),
      changedObjects,
      objectTypes,
      events: this.ctx.events.flatMap((e) => this.event(e)),
      balanceChanges: [...this.balancesBefore]
        .map(([address, before]) => ({ coinType: this.ids.walType, address, amount: String(s.balance(address) - before) }))
        .filter((c) => c.amount !== '0'),
    };
  }

  private metadataAfter(id: string) {
    for (const blobId of this.blobIdsTouched()) if (this.o.metadataFieldId(blobId) === id) return this.o.getMetadataField(blobId);
    return null;
  }

  private blobIdsTouched(): string[] {
    return [...this.touched.keys(), ...this.created].filter((id) => this.ctx.store.getBlob(id) !== null);
  }

  /** A local chain event in Walrus's Move event layout (walrus-sui.md §4). */
  private event(e: ChainEvent): LocalnetEvent[] {
    const pkg = this.ids.walrusPackage;
    const mk = (name: string, bytes: Uint8Array): LocalnetEvent[] => [
      { packageId: pkg, module: 'system', sender: this.tx.sender, eventType: `${pkg}::events::${name}`, bcs: bytes },
    ];
    switch (e.type) {
      case 'BlobRegistered':
        return mk(
          'BlobRegistered',
          EVENTS.BlobRegistered.serialize({
            epoch: e.epoch,
            blob_id: u256FromBytes(e.blobId),
            size: BigInt(e.size),
            encoding_type: e.encodingType,
            end_epoch: e.endEpoch,
            deletable: e.deletable,
            object_id: e.objectId,
          }).toBytes(),
        );
      case 'BlobCertified':
        return mk(
          'BlobCertified',
          EVENTS.BlobCertified.serialize({
            epoch: e.epoch,
            blob_id: u256FromBytes(e.blobId),
            end_epoch: e.endEpoch,
            deletable: e.deletable,
            object_id: e.objectId,
            is_extension: e.isExtension,
          }).toBytes(),
        );
      case 'BlobDeleted':
        return mk(
          'BlobDeleted',
          EVENTS.BlobDeleted.serialize({
            epoch: e.epoch,
            blob_id: u256FromBytes(e.blobId),
            end_epoch: e.endEpoch,
            object_id: e.objectId,
            was_certified: e.wasCertified,
          }).toBytes(),
        );
      default:
        return [];
    }
  }
}

/** Walrus's blob events (events.move), the ones the localnet's calls emit. */
export const EVENTS = {
  BlobRegistered: bcs.struct('BlobRegistered', {
    epoch: bcs.u32(),
    blob_id: bcs.u256(),
    size: bcs.u64(),
    encoding_type: bcs.u8(),
    end_epoch: bcs.u32(),
    deletable: bcs.bool(),
    object_id: bcs.Address,
  }),
  BlobCertified: bcs.struct('BlobCertified', {
    epoch: bcs.u32(),
    blob_id: bcs.u256(),
    end_epoch: bcs.u32(),
    deletable: bcs.bool(),
    object_id: bcs.Address,
    is_extension: bcs.bool(),
  }),
  BlobDeleted: bcs.struct('BlobDeleted', {
    epoch: bcs.u32(),
    blob_id: bcs.u256(),
    end_epoch: bcs.u32(),
    object_id: bcs.Address,
    was_certified: bcs.bool(),
  }),
};

function describe(c: ReturnType<typeof bcs.Command.parse>): string {
  return c.MoveCall ? `MoveCall ${c.MoveCall.module}::${c.MoveCall.function}` : c.$kind;
}
