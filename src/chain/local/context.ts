/**
 * The execution context of one call on the local chain: the store, the system parameters as the
 * call sees and changes them, the sender, and the events it emits. A context lives inside one
 * SQLite transaction; `LocalChain` writes `meta` back and the events out before COMMIT.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { ChainAbortError, TuskInputError } from '../../errors.ts';
import type { Address, ChainEvent, ObjectId } from '../types.ts';
import { isAddress, type Store, type SystemMeta } from './tables.ts';

/** What one call has access to. */
export class ExecContext {
  readonly store: Store;
  readonly meta: SystemMeta;
  /** The signer of the transaction (for dev calls: the faucet / system pseudo-address). */
  readonly sender: Address;
  readonly digest: string;
  readonly nowMs: number;
  readonly events: ChainEvent[] = [];
  private idCounter = 0;

  constructor(store: Store, meta: SystemMeta, sender: Address, digest: string, nowMs: number) {
    this.store = store;
    this.meta = meta;
    this.sender = sender;
    this.digest = digest;
    this.nowMs = nowMs;
  }

  emit(event: ChainEvent): void {
    this.events.push(event);
  }

  /**
   * A fresh object ID, derived from the transaction digest and a counter (as Sui derives IDs from
   * the transaction): deterministic, unique across transactions, and stable if a call is replayed.
   */
  newId(): ObjectId {
    const input = new TextEncoder().encode(`tusk-object:${this.digest}:${this.idCounter++}`);
    return '0x' + Buffer.from(blake2b(input, { dkLen: 32 })).toString('hex');
  }
}

/** Dev-only pseudo sender of faucet mints and epoch changes (never a valid key's address). */
export const SYSTEM_ADDRESS: Address = '0x' + '0'.repeat(64);

// --- argument readers: bad shapes are the caller's input errors, not Move aborts ----------------

/** A required object ID / address argument. */
export function argAddress(args: Readonly<Record<string, unknown>>, name: string): string {
  const v = args[name];
  if (!isAddress(v)) throw new TuskInputError(`argument ${name} must be 0x + 64 lowercase hex digits, got ${JSON.stringify(v)}`);
  return v;
}

/** A required non-negative safe integer argument, at most `max`. */
export function argUint(args: Readonly<Record<string, unknown>>, name: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = args[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
    throw new TuskInputError(`argument ${name} must be an integer in 0…${max}, got ${JSON.stringify(v)}`);
  return v;
}

/** An optional non-negative safe integer argument. */
export function optUint(args: Readonly<Record<string, unknown>>, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  return args[name] === undefined ? undefined : argUint(args, name, max);
}

/** A required amount (bigint FROST, 0…2^63 − 1). */
export function argAmount(args: Readonly<Record<string, unknown>>, name: string): bigint {
  const v = args[name];
  if (typeof v !== 'bigint' || v < 0n || v > (1n << 63n) - 1n)
    throw new TuskInputError(`argument ${name} must be a bigint amount in 0…2^63−1, got ${String(v)}`);
  return v;
}

/** An optional amount. */
export function optAmount(args: Readonly<Record<string, unknown>>, name: string): bigint | undefined {
  return args[name] === undefined ? undefined : argAmount(args, name);
}

/** A required byte-array argument of length `len` (any length when omitted). */
export function argBytes(args: Readonly<Record<string, unknown>>, name: string, len?: number): Uint8Array {
  const v = args[name];
  if (!(v instanceof Uint8Array) || (len !== undefined && v.length !== len)) {
    throw new TuskInputError(`argument ${name} must be ${len === undefined ? '' : `${len} `}bytes`);
  }
  return v;
}

/** A required string argument. */
export function argString(args: Readonly<Record<string, unknown>>, name: string): string {
  const v = args[name];
  if (typeof v !== 'string') throw new TuskInputError(`argument ${name} must be a string`);
  return v;
}

/** A required boolean argument. */
export function argBool(args: Readonly<Record<string, unknown>>, name: string): boolean {
  const v = args[name];
  if (typeof v !== 'boolean') throw new TuskInputError(`argument ${name} must be a boolean`);
  return v;
}

/** Aborts with `ENotOwner` unless `owner` is the sender. */
export function requireOwner(ctx: ExecContext, owner: Address, what: string): void {
  if (owner !== ctx.sender) throw new ChainAbortError('ENotOwner', `${what} is owned by ${owner}, not by the sender ${ctx.sender}`);
}

/** Aborts with `EObjectNotFound` (Sui's "object does not exist" before any Move code runs). */
export function notFound(what: string, id: string): never {
  throw new ChainAbortError('EObjectNotFound', `${what} ${id} does not exist (or was deleted)`);
}
