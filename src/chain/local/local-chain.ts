/**
 * `LocalChain`: the embedded chain. One SQLite file (or memory) holds the whole state; every call
 * is a signed transaction executed in one `BEGIN IMMEDIATE … COMMIT` together with its events and
 * its stored result, so a call is applied entirely or not at all, and a repeated transaction (same
 * digest) returns the stored result instead of running again.
 *
 * Replay protection (what a digest can do after its first submission):
 * - committed → every resubmission returns the stored result, at any time (idempotent retries);
 * - rejected for good (a non-retryable ChainAbortError, or a TuskInputError for its arguments) →
 *   the rejection is stored with the digest in the same SQLite transaction (the call's changes are
 *   rolled back to a savepoint first), and every resubmission gets the same rejection, even after
 *   the state changed (a transfer refused for want of funds stays refused once funds arrive);
 * - rejected with a *retryable* abort → nothing is stored, and the same bytes may succeed later.
 *   That is deliberate: "retryable" tells the sender the transaction is still live and that
 *   re-sending it may work (the contract of TuskError.retryable, which callers act on), so its
 *   later success is what the sender was told to expect. The validity window below bounds how long such bytes stay live; a sender who no longer
 *   wants the call only has to wait `maxTransactionAgeMs`. (Today the only retryable abort of a
 *   signed call is `EIncorrectEpoch` for a certificate of a past epoch, whose bytes can never
 *   succeed anyway: epochs only grow.)
 * - not yet executed, but `timestampMs` outside [now − maxTransactionAgeMs, now +
 *   maxTransactionFutureMs] → `ETransactionExpired` / `ETimestampInFuture`, stored like any final
 *   rejection (so a clock that steps back, or a future-dated transaction, cannot come alive later).
 * Unauthenticated rejections (bad signature, wrong chain, malformed bytes) are never stored: the
 * digest covers the bytes, not the signature, so storing them would let anyone who saw the bytes
 * poison the digest with a garbage signature before the real one arrives.
 *
 * Ownership: the instance owns its database handle until `close()`. All work is synchronous
 * inside SQLite; the async signatures are the `Chain` interface's (the HTTP client needs them).
 * Only one `LocalChain` should write a given file at a time (a second opener is serialized by
 * SQLite's lock, but long polls of one instance are not woken by commits of another).
 */
import { randomBytes } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { ChainAbortError, ChainUnavailableError, TuskInputError } from '../../errors.ts';
import { EncodingConfig } from '../../codec/config.ts';
import type { BlobId } from '../../codec/blob-id.ts';
import { decodeChainJson, encodeChainJson } from '../json.ts';
import { SigningChain } from '../signing-chain.ts';
import { transactionDigest, verifyTransaction, type CallName, type SignedTransaction } from '../transaction.ts';
import {
  FROST_PER_WAL,
  type Address,
  type BlobObject,
  type ChainEvent,
  type ChainEventEnvelope,
  type ChallengeNodeStatus,
  type ChallengePenaltyRecord,
  type ChallengeReads,
  type ChallengeSummary,
  type ChallengeRoundInfo,
  type CommitteeInfo,
  type DevChain,
  type EventPage,
  type EventQueryOptions,
  type ObjectId,
  type OwnedObject,
  type StakedWal,
  type StakedWalValue,
  type StorageNodeInfo,
  type StorageResource,
  type SystemState,
  type TxEffects,
} from '../types.ts';
import { openDatabase, SCHEMA_VERSION } from './schema.ts';
import { isAddress, MAX_AMOUNT, Store, type StoredAbort, type SystemMeta } from './tables.ts';
import { ExecContext, SYSTEM_ADDRESS } from './context.ts';
import * as blobs from './blobs.ts';
import * as staking from './staking.ts';
import * as sites from './sites.ts';
import type { SiteObject, SiteReader, SiteResource } from '../site-objects.ts';
import { advanceEpoch, DEFAULT_MAX_COMMITTEE_SIZE } from './epochs.ts';
import * as challenges from './challenges.ts';

/** Options of `LocalChain.open`. Genesis parameters apply only when the file is new. */
export interface LocalChainOptions {
  /** SQLite file path, or `':memory:'` for a chain that ends with the process. */
  readonly path: string;
  /** Shards of the system (default 1000, as Walrus Mainnet/Testnet; 4…49155). Fixed at genesis. */
  readonly nShards?: number;
  /** Epoch duration recorded in the system state (default 1 day); the server's clock uses it. */
  readonly epochDurationMs?: number;
  /** Longest storage period in epochs (default 53; 1…1000 as Move's MAX_MAX_EPOCHS_AHEAD). */
  readonly maxEpochsAhead?: number;
  /** Default faucet grant in FROST (default 1000 WAL). */
  readonly faucetGrant?: bigint;
  /** Storage price per MiB unit per epoch until a committee votes (default 100 000 FROST). */
  readonly storagePrice?: bigint;
  /** Write price per MiB unit until a committee votes (default 20 000 FROST). */
  readonly writePrice?: bigint;
  /** Total capacity in bytes until a committee votes (default 1 PiB). */
  readonly capacity?: number;
  /** Most members a committee may have (default 150, Move's active set limit). */
  readonly maxCommitteeSize?: number;
  /**
   * How old a signed transaction may be when first executed: a `timestampMs` earlier than the
   * chain's clock minus this aborts `ETransactionExpired` (default 10 minutes). Not stored in the
   * file: it applies to this opening. Resubmitting an executed transaction works at any age.
   */
  readonly maxTransactionAgeMs?: number;
  /**
   * How far ahead of the chain's clock a transaction's `timestampMs` may be (clock skew between
   * signer and chain): later ones abort `ETimestampInFuture` (default 1 minute). Not stored.
   */
  readonly maxTransactionFutureMs?: number;
  /** Storage-challenge and penalty parameters (genesis only; docs/challenges.md). */
  readonly challenges?: Partial<challenges.ChallengeParams>;
}

/** Defaults of LocalChainOptions (genesis parameters, and the per-opening validity window). */
export const LOCAL_CHAIN_DEFAULTS = {
  nShards: 1000,
  epochDurationMs: 24 * 60 * 60 * 1000,
  maxEpochsAhead: 53,
  faucetGrant: 1000n * FROST_PER_WAL,
  storagePrice: 100_000n,
  writePrice: 20_000n,
  capacity: 2 ** 50,
  maxCommitteeSize: DEFAULT_MAX_COMMITTEE_SIZE,
  maxTransactionAgeMs: 10 * 60 * 1000,
  maxTransactionFutureMs: 60 * 1000,
} as const;

/** Move's upper bound on max_epochs_ahead. */
export const MAX_MAX_EPOCHS_AHEAD = 1000;

/** Where every FROST the faucet minted is (LocalChain.supplyAudit). */
export interface SupplyAudit {
  readonly minted: bigint;
  readonly balances: bigint;
  /**
   * Staked FROST: the principal of every StakedWal, less the pools' slash debt (principal already
   * burnt by a slash, settled when those positions are withdrawn at the lowered exchange rate).
   */
  readonly stakedPrincipal: bigint;
  readonly poolRewards: bigint;
  /** Storage payments not yet distributed (future epochs and rolled-forward leftovers). */
  readonly undistributed: bigint;
  /** Burnt by penalties (commission of jailed nodes' offending epochs, stake slashes). */
  readonly burned: bigint;
  /** Of `burned`, what stake slashing burnt (not a separate bucket: minted = balances + stakedPrincipal + poolRewards + undistributed + burned). */
  readonly slashed: bigint;
}

type CallFn = (ctx: ExecContext, args: Readonly<Record<string, unknown>>) => object;

const CALLS: Record<CallName, CallFn> = {
  transferWal: blobs.transferWal,
  reserveSpace: blobs.reserveSpace,
  registerBlob: blobs.registerBlob,
  certifyBlob: blobs.certifyBlob,
  registerBlobs: blobs.registerBlobs,
  certifyBlobs: blobs.certifyBlobs,
  extendBlob: blobs.extendBlob,
  extendBlobWithResource: blobs.extendBlobWithResource,
  deleteBlob: blobs.deleteBlob,
  burnBlob: blobs.burnBlob,
  invalidateBlobId: blobs.invalidateBlobId,
  setBlobAttribute: blobs.setBlobAttribute,
  removeBlobAttribute: blobs.removeBlobAttribute,
  splitStorage: blobs.splitStorage,
  splitStorageByEpoch: blobs.splitStorageByEpoch,
  fuseStorage: blobs.fuseStorage,
  transferObject: blobs.transferObject,
  registerNode: staking.registerNode,
  updateNode: staking.updateNode,
  stake: staking.stake,
  requestWithdrawStake: staking.requestWithdrawStake,
  withdrawStake: staking.withdrawStake,
  epochSyncDone: staking.epochSyncDone,
  createSite: sites.createSite,
  updateSite: sites.updateSite,
  burnSite: sites.burnSite,
  commitChallenge: challenges.commitChallenge,
  proveChallenge: challenges.proveChallenge,
  voteChallengeParams: challenges.voteChallengeParams,
};

function positiveInt(v: number | undefined, def: number, min: number, max: number, what: string): number {
  const x = v ?? def;
  if (!Number.isSafeInteger(x) || x < min || x > max) throw new TuskInputError(`${what} must be an integer in ${min}…${max}, got ${x}`);
  return x;
}

function amountOption(v: bigint | undefined, def: bigint, what: string): bigint {
  const x = v ?? def;
  if (typeof x !== 'bigint' || x < 0n || x > MAX_AMOUNT) throw new TuskInputError(`${what} must be a bigint in 0…2^63−1`);
  return x;
}

/**
 * The final form of a rejection of a signed call, to store with its digest; null for errors that
 * must not be stored (retryable aborts, and anything that is not a verdict on the transaction:
 * SQLite errors, bugs, closing).
 */
function finalRejection(e: unknown): StoredAbort | null {
  if (e instanceof ChainAbortError) {
    if (e.retryable) return null;
    const prefix = `${e.code}: `;
    return { kind: 'abort', code: e.code, message: e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message };
  }
  // Argument errors depend on the signed bytes alone, so they are as final as an abort.
  if (e instanceof TuskInputError) return { kind: 'input', code: 'EInvalidInput', message: e.message };
  return null;
}

/** The error a stored rejection is thrown as again (same class, code and message as the first time). */
function rejectionError(r: StoredAbort): Error {
  return r.kind === 'abort' ? new ChainAbortError(r.code, r.message) : new TuskInputError(r.message);
}

/** The embedded local chain (see the module comment). */
export class LocalChain extends SigningChain implements DevChain, SiteReader, ChallengeReads {
  private readonly db: DatabaseSync;
  private readonly store: Store;
  private readonly id: string;
  private readonly maxTxAgeMs: number;
  private readonly maxTxFutureMs: number;
  private closed = false;
  /** Long polls waiting for the next commit that adds events. */
  private readonly waiters = new Set<() => void>();

  private constructor(db: DatabaseSync, store: Store, id: string, window: { maxTxAgeMs: number; maxTxFutureMs: number }) {
    super();
    this.db = db;
    this.store = store;
    this.id = id;
    this.maxTxAgeMs = window.maxTxAgeMs;
    this.maxTxFutureMs = window.maxTxFutureMs;
  }

  /**
   * Opens the chain at `options.path`: creates the genesis state on a new file (random chain ID,
   * epoch 0, empty committee), or reopens an existing one exactly as it was.
   * @throws TuskInputError for invalid options, a file of another schema, or an explicit
   *   `nShards` that differs from the existing chain's.
   */
  static async open(options: LocalChainOptions): Promise<LocalChain> {
    if (!options || typeof options.path !== 'string' || options.path === '')
      throw new TuskInputError('LocalChain.open needs a path (or ":memory:")');
    const nShards = positiveInt(options.nShards, LOCAL_CHAIN_DEFAULTS.nShards, 1, 65535, 'nShards');
    new EncodingConfig(nShards); // RS2's committee range (4…49155), with its own error message
    const genesis = {
      nShards,
      epochDurationMs: positiveInt(
        options.epochDurationMs,
        LOCAL_CHAIN_DEFAULTS.epochDurationMs,
        1,
        Number.MAX_SAFE_INTEGER,
        'epochDurationMs',
      ),
      maxEpochsAhead: positiveInt(options.maxEpochsAhead, LOCAL_CHAIN_DEFAULTS.maxEpochsAhead, 1, MAX_MAX_EPOCHS_AHEAD, 'maxEpochsAhead'),
      faucetGrant: amountOption(options.faucetGrant, LOCAL_CHAIN_DEFAULTS.faucetGrant, 'faucetGrant'),
      storagePrice: amountOption(options.storagePrice, LOCAL_CHAIN_DEFAULTS.storagePrice, 'storagePrice'),
      writePrice: amountOption(options.writePrice, LOCAL_CHAIN_DEFAULTS.writePrice, 'writePrice'),
      capacity: positiveInt(options.capacity, LOCAL_CHAIN_DEFAULTS.capacity, 0, Number.MAX_SAFE_INTEGER, 'capacity'),
      maxCommitteeSize: positiveInt(options.maxCommitteeSize, LOCAL_CHAIN_DEFAULTS.maxCommitteeSize, 1, 65535, 'maxCommitteeSize'),
      challenges: challenges.challengeParams(options.challenges),
    };
    const window = {
      maxTxAgeMs: positiveInt(
        options.maxTransactionAgeMs,
        LOCAL_CHAIN_DEFAULTS.maxTransactionAgeMs,
        0,
        Number.MAX_SAFE_INTEGER,
        'maxTransactionAgeMs',
      ),
      maxTxFutureMs: positiveInt(
        options.maxTransactionFutureMs,
        LOCAL_CHAIN_DEFAULTS.maxTransactionFutureMs,
        0,
        Number.MAX_SAFE_INTEGER,
        'maxTransactionFutureMs',
      ),
    };
    const db = openDatabase(options.path);
    try {
      const store = new Store(db);
      db.exec('BEGIN IMMEDIATE');
      try {
        const version = store.getMetaValue('schemaVersion');
        if (version === undefined) {
          const meta: SystemMeta = {
            chainId: randomBytes(16).toString('hex'),
            nShards: genesis.nShards,
            epoch: 0,
            epochState: 'active',
            storagePrice: genesis.storagePrice,
            writePrice: genesis.writePrice,
            totalCapacity: genesis.capacity,
            maxEpochsAhead: genesis.maxEpochsAhead,
            epochDurationMs: genesis.epochDurationMs,
            epochStartMs: Date.now(),
            faucetGrant: genesis.faucetGrant,
            syncWeight: 0,
            maxCommitteeSize: genesis.maxCommitteeSize,
            minted: 0n,
          };
          store.setMetaValue('schemaVersion', String(SCHEMA_VERSION));
          store.writeMeta(meta);
          challenges.writeParams(store, genesis.challenges);
        } else if (version !== String(SCHEMA_VERSION)) {
          throw new TuskInputError(`${options.path} has chain schema version ${version}, this Tusk reads ${SCHEMA_VERSION}`);
        }
        db.exec('COMMIT');
      } catch (e) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw e;
      }
      const meta = store.readMeta();
      if (options.nShards !== undefined && options.nShards !== meta.nShards) {
        throw new TuskInputError(`${options.path} is a chain of ${meta.nShards} shards, not ${options.nShards}`);
      }
      return new LocalChain(db, store, meta.chainId, window);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /** Closes the database; pending long polls end with ChainUnavailableError. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ChainUnavailableError('the local chain is closed');
  }

  private wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  async chainId(): Promise<string> {
    return this.id;
  }

  /**
   * Verifies and executes a signed transaction (see `verifyTransaction` for the signature,
   * chain-ID and format checks, and the module comment for replay protection). In order: a digest
   * executed before returns its stored result; a digest rejected for good before throws the same
   * rejection; a `timestampMs` outside the validity window aborts; then the call runs.
   * @returns the call's result merged with `{ digest, events }` (a fresh object).
   * @throws ChainAbortError for a rejected transaction or call (nothing of it is applied), among
   *   them `ETransactionExpired` / `ETimestampInFuture` for a timestamp outside the window;
   *   TuskInputError for invalid call arguments; ChainUnavailableError once closed, or when a
   *   final rejection could not be recorded (nothing was applied or stored; re-sending is safe).
   */
  async submit(tx: SignedTransaction): Promise<unknown> {
    this.assertOpen();
    const data = await verifyTransaction(tx, this.id);
    this.assertOpen();
    const fn = Object.hasOwn(CALLS, data.call) ? CALLS[data.call] : undefined;
    if (!fn) throw new ChainAbortError('EMalformedTransaction', `unknown call ${JSON.stringify(data.call)}`);
    return this.execute(
      data.digest,
      data.sender,
      data.call,
      (ctx) => {
        // Inside the write transaction and after the digest lookups: an executed (or finally
        // rejected) transaction keeps its answer once its window has passed.
        this.checkValidityWindow(data.timestampMs, ctx.nowMs);
        return fn(ctx, data.args);
      },
      true,
    );
  }

  /**
   * Runs `fn` as a signed call that an extension verified itself (the Sui localnet's executor,
   * src/chain/localnet/): one write transaction with the digest lookup (a digest executed before
   * returns its stored result, one rejected for good throws the same rejection), the events, and
   * the stored result or final rejection — exactly as `submit` after its own verification.
   * @pre the caller authenticated `sender` for `digest` (signature, chain, replay window).
   */
  async executeVerified(digest: string, sender: Address, call: string, fn: (ctx: ExecContext) => object): Promise<unknown> {
    this.assertOpen();
    return this.execute(digest, sender, call, fn, true);
  }

  /**
   * Runs `fn` as `sender` inside a write transaction that is always rolled back: a dry run (the
   * Sui localnet's `simulateTransaction`). Nothing is stored, not even a rejection.
   * @returns what `fn` returned; @throws what `fn` threw.
   */
  async dryRun<T>(sender: Address, fn: (ctx: ExecContext) => T): Promise<T> {
    this.assertOpen();
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const ctx = new ExecContext(this.store, this.store.readMeta(), sender, this.devDigest('dry-run'), Date.now());
      return fn(ctx);
    } finally {
      if (db.isTransaction) db.exec('ROLLBACK');
    }
  }

  /**
   * Read access to the tables for extensions that render the state in another form (the Sui
   * localnet's objects). `fn` runs synchronously between commits, so it sees one consistent state.
   * @pre `fn` does not write.
   */
  readStore<T>(fn: (store: Store) => T): T {
    this.assertOpen();
    return fn(this.store);
  }

  private checkValidityWindow(timestampMs: number, nowMs: number): void {
    if (timestampMs < nowMs - this.maxTxAgeMs) {
      throw new ChainAbortError(
        'ETransactionExpired',
        `transaction was signed at ${timestampMs}, ${nowMs - timestampMs} ms before the chain's clock; at most ${this.maxTxAgeMs} ms are accepted (sign it again)`,
      );
    }
    if (timestampMs > nowMs + this.maxTxFutureMs) {
      throw new ChainAbortError(
        'ETimestampInFuture',
        `transaction was signed at ${timestampMs}, ${timestampMs - nowMs} ms ahead of the chain's clock; at most ${this.maxTxFutureMs} ms are accepted (check the signer's clock)`,
      );
    }
  }

  /**
   * Runs `fn` in one write transaction with the replay check, the events and the stored result.
   * With `signed`, a final rejection by `fn` (see `finalRejection`) is rolled back to a savepoint
   * and stored with the digest in the same transaction, and a stored rejection is thrown again.
   * Synchronous from BEGIN to COMMIT, so calls of this instance never interleave.
   */
  private execute(digest: string, sender: Address, call: string, fn: (ctx: ExecContext) => object, signed = false): unknown {
    const db = this.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const stored = this.store.txResult(digest);
      if (stored !== null) {
        db.exec('ROLLBACK');
        return decodeChainJson(stored);
      }
      const rejected = signed ? this.store.abortedTx(digest) : null;
      if (rejected !== null) {
        db.exec('ROLLBACK');
        throw rejectionError(rejected);
      }
      const meta = this.store.readMeta();
      const now = Date.now();
      const ctx = new ExecContext(this.store, meta, sender, digest, now);
      db.exec('SAVEPOINT exec_call');
      let result: object;
      try {
        result = fn(ctx);
      } catch (e) {
        const rejection = signed ? finalRejection(e) : null;
        if (rejection === null || !db.isTransaction) throw e; // the outer handler rolls everything back
        try {
          db.exec('ROLLBACK TO exec_call');
          this.store.putAbortedTx(digest, sender, call, rejection);
          db.exec('COMMIT');
        } catch (recordError) {
          // Reporting the (non-retryable) rejection without its record would let these bytes
          // succeed later; report a retryable failure instead so the sender re-sends them.
          throw new ChainUnavailableError(
            `the chain could not record the rejection of ${digest} (${(e as Error).message}): ${(recordError as Error).message}`,
            { cause: recordError },
          );
        }
        throw e;
      }
      db.exec('RELEASE exec_call');
      const events: ChainEventEnvelope[] = ctx.events.map((event, i) => {
        const seq = this.store.appendEvent(digest, i, now, encodeChainJson(event));
        return { id: { txDigest: digest, eventSeq: i }, cursor: String(seq), timestampMs: now, event };
      });
      const text = encodeChainJson({ ...result, digest, events });
      this.store.putTx(digest, sender, call, text);
      this.store.writeMeta(meta);
      db.exec('COMMIT');
      if (events.length > 0) this.wake();
      // The caller gets the same decoded form a replay would get.
      return decodeChainJson(text);
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw e;
    }
  }

  /** A digest for a dev call (no signed bytes): unique, and in the same base58 form. */
  private devDigest(what: string): string {
    return transactionDigest(new TextEncoder().encode(`tusk-dev:${what}:${randomBytes(16).toString('hex')}`));
  }

  // --- DevChain --------------------------------------------------------------------------------

  /**
   * Mints `amount` FROST (default: the faucet grant) to `recipient`; recorded as a transaction of
   * the system pseudo-address and counted in the minted total.
   */
  async requestFaucet(recipient: Address, amount?: bigint): Promise<TxEffects & { amount: bigint }> {
    this.assertOpen();
    if (!isAddress(recipient)) throw new TuskInputError(`recipient must be 0x + 64 lowercase hex digits, got ${JSON.stringify(recipient)}`);
    if (amount !== undefined && (typeof amount !== 'bigint' || amount <= 0n || amount > MAX_AMOUNT))
      throw new TuskInputError('faucet amount must be a bigint in 1…2^63−1');
    return this.execute(this.devDigest('faucet'), SYSTEM_ADDRESS, 'requestFaucet', (ctx) => {
      const a = amount ?? ctx.meta.faucetGrant;
      ctx.store.credit(recipient, a);
      const minted = ctx.meta.minted + a;
      if (minted > MAX_AMOUNT) throw new ChainAbortError('EOverflow', 'the faucet would mint more than 2^63 − 1 FROST in all');
      ctx.meta.minted = minted;
      return { amount: a };
    }) as TxEffects & { amount: bigint };
  }

  /** Ends the current epoch now (see epochs.ts for what happens). */
  async advanceEpoch(): Promise<TxEffects & { epoch: number }> {
    this.assertOpen();
    return this.execute(this.devDigest('advanceEpoch'), SYSTEM_ADDRESS, 'advanceEpoch', (ctx) => advanceEpoch(ctx)) as TxEffects & {
      epoch: number;
    };
  }

  /**
   * Penalty hook for storage challenges (a later issue): withholds `bps` basis points of the
   * reward `nodeId` earns for `epoch` (current or future). Withheld rewards roll forward to the
   * next epoch's distribution. Setting it again replaces the value.
   */
  async setRewardWithholding(nodeId: ObjectId, epoch: number, bps: number): Promise<void> {
    this.assertOpen();
    if (!Number.isInteger(bps) || bps < 0 || bps > staking.N_BASIS_POINTS)
      throw new TuskInputError(`bps must be an integer in 0…${staking.N_BASIS_POINTS}`);
    this.execute(this.devDigest('withholding'), SYSTEM_ADDRESS, 'setRewardWithholding', (ctx) => {
      if (!Number.isInteger(epoch) || epoch < ctx.meta.epoch)
        throw new TuskInputError(`epoch must be ≥ the current epoch ${ctx.meta.epoch}, got ${epoch}`);
      if (!ctx.store.getPool(nodeId)) throw new ChainAbortError('EPoolNotFound', `no storage node ${nodeId}`);
      ctx.store.setWithholdingBps(nodeId, epoch, bps);
      return {};
    });
  }

  /** The supply bookkeeping: `minted` must equal the sum of the other fields at every commit. */
  async supplyAudit(): Promise<SupplyAudit> {
    this.assertOpen();
    return {
      minted: this.store.readMeta().minted,
      balances: this.store.totalBalances(),
      stakedPrincipal: this.store.totalStakedPrincipal() - this.store.totalSlashDebt(),
      poolRewards: this.store.totalRewardPools(),
      undistributed: this.store.totalAccountingRewards(),
      burned: challenges.burned(this.store),
      slashed: challenges.slashedTotal(this.store),
    };
  }

  // --- storage challenges (challenges.ts) ------------------------------------------------------

  /**
   * Starts the next challenge round of the current epoch now, with `seed` (default: fresh from the
   * CSPRNG; tests inject one). The chain server's clock calls it `roundsPerEpoch` times an epoch.
   * @throws ChainAbortError EWrongEpochState during an epoch change (retryable), EChallengesOff.
   */
  async startChallengeRound(seed?: Uint8Array): Promise<TxEffects & { epoch: number; round: number; nodes: number }> {
    this.assertOpen();
    return this.execute(this.devDigest('challengeRound'), SYSTEM_ADDRESS, 'startChallengeRound', (ctx) =>
      challenges.startRound(ctx, seed),
    ) as TxEffects & { epoch: number; round: number; nodes: number };
  }

  /**
   * Closes the current epoch's open challenge round once its proof window has passed (the chain
   * server's round clock), so unanswered assignments show as missed or failed without waiting
   * for the next round. @returns whether a round was closed.
   */
  async closeExpiredChallengeRound(): Promise<boolean> {
    this.assertOpen();
    const r = challenges.lastRound(this.store, this.store.readMeta().epoch);
    if (!r || r.closed || Date.now() <= r.startedMs + challenges.readParams(this.store).proofWindowMs) return false;
    this.execute(this.devDigest('closeChallengeRound'), SYSTEM_ADDRESS, 'closeChallengeRound', (ctx) => {
      challenges.closeRound(ctx, r);
      return {};
    });
    return true;
  }

  /** The chain's challenge and penalty parameters. */
  async challengeParams(): Promise<challenges.ChallengeParams> {
    this.assertOpen();
    return challenges.readParams(this.store);
  }

  /** The rounds of `epoch` (default: current) with every node's assignment and outcome. */
  async challengeRounds(epoch?: number): Promise<ChallengeRoundInfo[]> {
    this.assertOpen();
    const e = epoch ?? this.store.readMeta().epoch;
    return challenges.roundsOf(this.store, e).map((r) => ({ ...r, assignments: challenges.assignments(this.store, r.epoch, r.round) }));
  }

  /** One node's challenge record over epochs from…to (default: all), and its jail term. */
  async challengeStatus(nodeId: ObjectId, fromEpoch = 0, toEpoch?: number): Promise<ChallengeNodeStatus> {
    this.assertOpen();
    const to = toEpoch ?? this.store.readMeta().epoch;
    const as = challenges.nodeAssignments(this.store, nodeId, fromEpoch, to);
    return { nodeId, ...challenges.tally(as), jailedUntilEpoch: challenges.jailedUntil(this.store, nodeId), rounds: as };
  }

  /** Settlements (withholding, offences, jail, burnt commission, slashes) over epochs from…to (default: all). */
  async challengePenalties(fromEpoch = 0, toEpoch?: number, nodeId?: ObjectId): Promise<ChallengePenaltyRecord[]> {
    this.assertOpen();
    return challenges.penalties(this.store, fromEpoch, toEpoch ?? this.store.readMeta().epoch, nodeId);
  }

  /** Current round, last outcomes, jailed nodes, burnt and slashed totals. */
  async challengeSummary(): Promise<ChallengeSummary> {
    this.assertOpen();
    return challenges.summary(this.store, this.store.readMeta().epoch);
  }

  // --- reads -----------------------------------------------------------------------------------

  async systemState(): Promise<SystemState> {
    this.assertOpen();
    const m = this.store.readMeta();
    return {
      epoch: m.epoch,
      epochState: m.epochState,
      nShards: m.nShards,
      storagePricePerUnitSize: m.storagePrice,
      writePricePerUnitSize: m.writePrice,
      totalCapacitySize: m.totalCapacity,
      usedCapacitySize: this.store.accounting(m.epoch).usedCapacity,
      maxEpochsAhead: m.maxEpochsAhead,
      epochDurationMs: m.epochDurationMs,
      epochStartMs: m.epochStartMs,
      committee: this.store.committee(m.epoch, m.nShards)!,
    };
  }

  /** @throws TuskInputError for an epoch after the current one. */
  async committee(epoch?: number): Promise<CommitteeInfo> {
    this.assertOpen();
    const m = this.store.readMeta();
    const e = epoch ?? m.epoch;
    if (!Number.isInteger(e) || e < 0 || e > m.epoch) throw new TuskInputError(`no committee for epoch ${e} (current epoch ${m.epoch})`);
    return this.store.committee(e, m.nShards)!;
  }

  async balance(address: Address): Promise<bigint> {
    this.assertOpen();
    return this.store.balance(address);
  }

  async getBlob(objectId: ObjectId): Promise<BlobObject | null> {
    this.assertOpen();
    return this.store.getBlob(objectId);
  }

  async getStorage(objectId: ObjectId): Promise<StorageResource | null> {
    this.assertOpen();
    return this.store.getStorage(objectId);
  }

  async getStakedWal(objectId: ObjectId): Promise<StakedWal | null> {
    this.assertOpen();
    return this.store.getStakedWal(objectId);
  }

  /** What a StakedWal is worth at its pool's exchange rate now (null if it does not exist). */
  async stakedWalValue(objectId: ObjectId): Promise<StakedWalValue | null> {
    this.assertOpen();
    const s = this.store.getStakedWal(objectId);
    return s ? staking.stakedWalValue(this.store, s, this.store.readMeta().epoch) : null;
  }

  async getNode(nodeId: ObjectId): Promise<StorageNodeInfo | null> {
    this.assertOpen();
    return this.store.getNode(nodeId);
  }

  async nodes(): Promise<StorageNodeInfo[]> {
    this.assertOpen();
    return this.store.nodesList();
  }

  async ownedObjects(address: Address): Promise<OwnedObject[]> {
    this.assertOpen();
    return [
      ...this.store.blobsOwnedBy(address).map((object): OwnedObject => ({ kind: 'blob', object })),
      ...this.store.storageOwnedBy(address).map((object): OwnedObject => ({ kind: 'storage', object })),
      ...this.store.stakedWalOwnedBy(address).map((object): OwnedObject => ({ kind: 'stakedWal', object })),
      ...this.store.nodeCapsOwnedBy(address).map((c): OwnedObject => ({ kind: 'nodeCap', nodeId: c.nodeId, id: c.id })),
    ];
  }

  // --- Walrus Sites (./sites.ts) ----------------------------------------------------------------
  async getSite(siteId: ObjectId): Promise<SiteObject | null> {
    this.assertOpen();
    return sites.readSite(this.store, siteId);
  }
  async siteResource(siteId: ObjectId, path: string): Promise<SiteResource | null> {
    this.assertOpen();
    return sites.readSiteResource(this.store, siteId, path);
  }
  async siteResources(siteId: ObjectId): Promise<SiteResource[]> {
    this.assertOpen();
    return sites.readSiteResources(this.store, siteId);
  }
  async sitesOwnedBy(owner: Address): Promise<SiteObject[]> {
    this.assertOpen();
    return sites.readSitesOwnedBy(this.store, owner);
  }

  async blobObjects(blobId: BlobId): Promise<BlobObject[]> {
    this.assertOpen();
    if (!(blobId instanceof Uint8Array) || blobId.length !== 32) throw new TuskInputError('blob ID must be 32 bytes');
    return this.store.blobsWithBlobId(blobId);
  }

  /**
   * Events after `cursor` (a decimal sequence number from an earlier page), oldest first. With
   * `waitMs` and nothing new, waits until a commit adds events, the time is up, or `signal` aborts.
   * @throws TuskInputError for a malformed cursor or limit; ChainUnavailableError once closed.
   */
  async events(options: EventQueryOptions = {}): Promise<EventPage> {
    this.assertOpen();
    const cursor = options.cursor ?? null;
    if (cursor !== null && (typeof cursor !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(cursor)))
      throw new TuskInputError(`malformed event cursor ${JSON.stringify(cursor)}`);
    const after = cursor === null ? 0 : Number(cursor);
    const limit = options.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new TuskInputError(`limit must be an integer in 1…10000, got ${limit}`);
    const waitMs = options.waitMs ?? 0;
    if (!Number.isFinite(waitMs) || waitMs < 0) throw new TuskInputError(`waitMs must be a non-negative number, got ${waitMs}`);
    let rows = this.store.eventsAfter(after, limit);
    if (rows.length === 0 && waitMs > 0 && !options.signal?.aborted) {
      await this.waitForCommit(waitMs, options.signal);
      this.assertOpen();
      rows = this.store.eventsAfter(after, limit);
    }
    const events = rows.map((r): ChainEventEnvelope => ({
      id: { txDigest: r.tx_digest, eventSeq: r.event_seq },
      cursor: String(r.seq),
      timestampMs: r.timestamp_ms,
      event: decodeChainJson(r.body) as ChainEvent,
    }));
    return { events, nextCursor: events.length > 0 ? events[events.length - 1].cursor : cursor };
  }

  private waitForCommit(waitMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(done);
    });
  }
}
