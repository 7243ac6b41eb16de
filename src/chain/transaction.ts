/**
 * Signed transactions of the local chain. A transaction is the UTF-8 JSON (chain codec, see
 * json.ts) of `TransactionData`, signed by its sender with a Sui keypair as a *personal message*
 * (Sui's intent-prefixed, BLAKE2b-hashed signing, so the signature can be checked with
 * `@mysten/sui/verify` and an Ed25519 account of a real Sui wallet works unchanged). The chain
 * checks that the signature's key derives the `sender` address, that `chainId` is its own, and that
 * the digest was not executed before; a repeated digest returns the stored result instead of
 * running twice, which makes every call safely retryable after a lost answer or a crash.
 *
 * Signed bytes do not stay live forever: the chain rejects for good a transaction it refused with
 * a non-retryable abort (the same bytes get the same abort later, whatever the state), and one
 * whose `timestampMs` lies outside its validity window (LocalChainOptions `maxTransactionAgeMs`,
 * `maxTransactionFutureMs`). See `LocalChain.submit`.
 */
import type { Signer } from '@mysten/sui/cryptography';
import { verifyPersonalMessageSignature } from '@mysten/sui/verify';
import { toBase58 } from '@mysten/sui/utils';
import { blake2b } from '@noble/hashes/blake2.js';
import { randomBytes } from 'node:crypto';
import { ChainAbortError, TuskInputError } from '../errors.ts';
import { decodeChainJson, encodeChainJson } from './json.ts';

/** The state-changing calls, named after the `Chain` methods. */
export type CallName =
  | 'transferWal'
  | 'reserveSpace'
  | 'registerBlob'
  | 'certifyBlob'
  | 'registerBlobs'
  | 'certifyBlobs'
  | 'extendBlob'
  | 'extendBlobWithResource'
  | 'deleteBlob'
  | 'burnBlob'
  | 'invalidateBlobId'
  | 'setBlobAttribute'
  | 'removeBlobAttribute'
  | 'splitStorage'
  | 'splitStorageByEpoch'
  | 'fuseStorage'
  | 'transferObject'
  | 'registerNode'
  | 'updateNode'
  | 'stake'
  | 'requestWithdrawStake'
  | 'withdrawStake'
  | 'epochSyncDone'
  | 'createSite'
  | 'updateSite'
  | 'burnSite'
  | 'commitChallenge'
  | 'proveChallenge'
  | 'voteChallengeParams';

/** What the sender signs. */
export interface TransactionData {
  readonly version: 1;
  /** The chain's identifier (random at genesis): a transaction for one chain is void on another. */
  readonly chainId: string;
  readonly sender: string;
  readonly call: CallName;
  /** The call's arguments as an object (chain JSON: bigint and bytes survive). */
  readonly args: Readonly<Record<string, unknown>>;
  /** 16 random bytes in hex: two otherwise identical calls are two transactions. */
  readonly nonce: string;
  /**
   * When the sender signed (Unix ms, a non-negative safe integer). The chain executes the
   * transaction only while this is within its validity window of the chain's clock, so signed
   * bytes expire: a transaction that was never submitted cannot be replayed days later.
   */
  readonly timestampMs: number;
}

/** A transaction ready to submit: the exact signed bytes and the Sui serialized signature (base64). */
export interface SignedTransaction {
  readonly bytes: Uint8Array;
  readonly signature: string;
}

/** The digest of a transaction's bytes: base58 of BLAKE2b-256 (the form Sui prints digests in). */
export function transactionDigest(bytes: Uint8Array): string {
  return toBase58(blake2b(bytes, { dkLen: 32 }));
}

/**
 * Builds and signs a transaction for `call` with `args` on chain `chainId`.
 * @post the returned bytes are fresh (the caller owns them).
 */
export async function signTransaction(
  signer: Signer,
  chainId: string,
  call: CallName,
  args: Record<string, unknown>,
): Promise<SignedTransaction> {
  const data: TransactionData = {
    version: 1,
    chainId,
    sender: signer.toSuiAddress(),
    call,
    args,
    nonce: randomBytes(16).toString('hex'),
    timestampMs: Date.now(),
  };
  const bytes = new TextEncoder().encode(encodeChainJson(data));
  const { signature } = await signer.signPersonalMessage(bytes);
  return { bytes, signature };
}

/**
 * Parses and authenticates a transaction for chain `chainId`.
 * Checks the form only: the validity window of `timestampMs` needs the chain's clock and comes
 * after the chain's digest lookup (so an executed transaction's result stays retrievable).
 * @throws ChainAbortError `EInvalidSignature` when the signature does not come from `sender`'s key,
 *   `EWrongChain` for another chain's transaction, `EMalformedTransaction` for anything unparsable
 *   (including a `timestampMs` that is not a non-negative safe integer).
 */
export async function verifyTransaction(tx: SignedTransaction, chainId: string): Promise<TransactionData & { digest: string }> {
  if (!(tx.bytes instanceof Uint8Array) || typeof tx.signature !== 'string')
    throw new ChainAbortError('EMalformedTransaction', 'transaction needs bytes and a signature');
  let data: TransactionData;
  try {
    data = decodeChainJson(new TextDecoder('utf-8', { fatal: true }).decode(tx.bytes)) as TransactionData;
  } catch (e) {
    throw new ChainAbortError('EMalformedTransaction', `transaction bytes are not chain JSON: ${(e as Error).message}`);
  }
  if (
    data === null ||
    typeof data !== 'object' ||
    data.version !== 1 ||
    typeof data.sender !== 'string' ||
    typeof data.call !== 'string' ||
    data.args === null ||
    typeof data.args !== 'object' ||
    Array.isArray(data.args) ||
    typeof data.nonce !== 'string' ||
    typeof data.chainId !== 'string'
  ) {
    throw new ChainAbortError('EMalformedTransaction', 'transaction is missing version, chainId, sender, call, args or nonce');
  }
  // A float, NaN-like or huge value would make the chain's window arithmetic meaningless.
  if (typeof data.timestampMs !== 'number' || !Number.isSafeInteger(data.timestampMs) || data.timestampMs < 0) {
    throw new ChainAbortError(
      'EMalformedTransaction',
      `transaction timestampMs must be a non-negative integer (Unix ms), got ${typeof data.timestampMs === 'number' ? data.timestampMs : typeof data.timestampMs}`,
    );
  }
  if (data.chainId !== chainId) throw new ChainAbortError('EWrongChain', `transaction is for chain ${data.chainId}, this is ${chainId}`);
  try {
    await verifyPersonalMessageSignature(tx.bytes, tx.signature, { address: data.sender });
  } catch (e) {
    throw new ChainAbortError('EInvalidSignature', `signature does not verify for sender ${data.sender}: ${(e as Error).message}`);
  }
  return { ...data, digest: transactionDigest(tx.bytes) };
}
