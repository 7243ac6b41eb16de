/**
 * LocalChain replay protection: a signed transaction rejected for good keeps its rejection (also
 * across a reopen of the file, and after its validity window); retryable rejections are not
 * stored; `timestampMs` must be a non-negative integer within the chain's validity window; and an
 * executed transaction still returns its stored result, inside the window and after it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { randomBytes } from 'node:crypto';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain, LOCAL_CHAIN_DEFAULTS } from '../../src/chain/local/index.ts';
import { encodeChainJson } from '../../src/chain/json.ts';
import { signTransaction, transactionDigest, type CallName, type SignedTransaction } from '../../src/chain/transaction.ts';
import type { TxEffects } from '../../src/chain/types.ts';
import { ChainAbortError, TuskInputError } from '../../src/errors.ts';
import { storageConfirmationMessage } from '../../src/protocol/messages.ts';
import { abortCode, blobArgs, certificate, fundedAccount, setupCommittee, tempDir } from './local-helpers.ts';

const chains: LocalChain[] = [];
afterEach(async () => {
  for (const c of chains.splice(0)) await c.close();
});

async function open(path: string, options: { maxTransactionAgeMs?: number; maxTransactionFutureMs?: number } = {}): Promise<LocalChain> {
  const c = await LocalChain.open({ path, nShards: 10, ...options });
  chains.push(c);
  return c;
}

/** Signs a transaction with an explicit `timestampMs` (any JSON value, to test malformed ones). */
async function signAt(
  signer: Ed25519Keypair,
  chainId: string,
  call: CallName,
  args: Record<string, unknown>,
  timestampMs: unknown,
): Promise<SignedTransaction> {
  const data = { version: 1, chainId, sender: signer.toSuiAddress(), call, args, nonce: randomBytes(16).toString('hex'), timestampMs };
  const bytes = new TextEncoder().encode(encodeChainJson(data));
  return { bytes, signature: (await signer.signPersonalMessage(bytes)).signature };
}

/** The rejection of `p` (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, the call succeeded');
}

/** The stored rejection rows of `digest`, read straight from the file with a second connection. */
function abortRows(path: string, digest: string): unknown[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare('SELECT code, kind FROM aborted_txs WHERE digest = ?').all(digest);
  } finally {
    db.close();
  }
}

describe('rejected transactions stay rejected', () => {
  it('a transfer refused for want of funds is not executed after a faucet credit, nor after a reopen', async () => {
    const path = join(tempDir(), 'chain.sqlite');
    let chain = await open(path);
    const alice = new Ed25519Keypair();
    const bob = new Ed25519Keypair().toSuiAddress();
    const tx = await signTransaction(alice, await chain.chainId(), 'transferWal', { recipient: bob, amount: 500n });
    const first = await rejection(chain.submit(tx));
    expect(first).toBeInstanceOf(ChainAbortError);
    expect((first as ChainAbortError).code).toBe('EInsufficientFunds');
    expect((first as ChainAbortError).retryable).toBe(false);

    await chain.requestFaucet(alice.toSuiAddress(), 1000n);
    const again = await rejection(chain.submit(tx));
    expect(again).toBeInstanceOf(ChainAbortError);
    expect({ code: (again as ChainAbortError).code, message: again.message, retryable: (again as ChainAbortError).retryable }).toEqual({
      code: 'EInsufficientFunds',
      message: first.message,
      retryable: false,
    });
    expect(await chain.balance(alice.toSuiAddress())).toBe(1000n);
    expect(await chain.balance(bob)).toBe(0n);

    // Durable: the record is in the file, not in this instance's memory.
    await chain.close();
    chain = await open(path);
    expect(await abortCode(chain.submit(tx))).toBe('EInsufficientFunds');
    expect(await chain.balance(bob)).toBe(0n);
    // A fresh transaction with the same content is another digest and goes through.
    await chain.transferWal(alice, bob, 500n);
    expect(await chain.balance(bob)).toBe(500n);
    expect(await chain.supplyAudit()).toMatchObject({ minted: 1000n, balances: 1000n });
  });

  it('a rejected call leaves no partial state and no events; an argument error is stored as an input error', async () => {
    const path = join(tempDir(), 'chain.sqlite');
    const chain = await open(path);
    const id = await chain.chainId();
    const alice = await fundedAccount(chain, 100n);
    const cursor = (await chain.events()).nextCursor;
    const bad = await signTransaction(alice, id, 'transferWal', { recipient: 'bob', amount: 1n });
    const e1 = await rejection(chain.submit(bad));
    expect(e1).toBeInstanceOf(TuskInputError);
    const e2 = await rejection(chain.submit(bad));
    expect(e2).toBeInstanceOf(TuskInputError);
    expect(e2.message).toBe(e1.message);
    expect(abortRows(path, transactionDigest(bad.bytes))).toEqual([{ code: 'EInvalidInput', kind: 'input' }]);
    // registerBlob that fails after reserving space in the same call: nothing of it stays.
    const before = await chain.systemState();
    const tooPoor = await signTransaction(alice, id, 'registerBlob', { ...blobArgs(10, { size: 1_000_000, epochsAhead: 5 }) });
    expect(await abortCode(chain.submit(tooPoor))).toBe('EInsufficientFunds');
    expect((await chain.systemState()).usedCapacitySize).toBe(before.usedCapacitySize);
    expect(await chain.ownedObjects(alice.toSuiAddress())).toEqual([]);
    expect((await chain.events({ cursor })).events).toEqual([]);
    expect(await chain.balance(alice.toSuiAddress())).toBe(100n);
  });

  it('forged signatures are not stored, so they cannot poison the digest of the real transaction', async () => {
    const path = join(tempDir(), 'chain.sqlite');
    const chain = await open(path);
    const alice = await fundedAccount(chain, 100n);
    const bob = new Ed25519Keypair().toSuiAddress();
    const tx = await signTransaction(alice, await chain.chainId(), 'transferWal', { recipient: bob, amount: 7n });
    const forged = { bytes: tx.bytes, signature: (await new Ed25519Keypair().signPersonalMessage(tx.bytes)).signature };
    expect(await abortCode(chain.submit(forged))).toBe('EInvalidSignature');
    expect(abortRows(path, transactionDigest(tx.bytes))).toEqual([]);
    await chain.submit(tx);
    expect(await chain.balance(bob)).toBe(7n);
  });

  it('a retryable abort (certificate of a past epoch) is not stored', async () => {
    const path = join(tempDir(), 'chain.sqlite');
    const chain = await open(path);
    const nodes = await setupCommittee(chain, [100n, 100n, 100n, 100n]);
    const alice = await fundedAccount(chain);
    const { blob } = await chain.registerBlob(alice, blobArgs(10));
    const cert = await certificate(
      chain,
      nodes,
      storageConfirmationMessage((await chain.systemState()).epoch, blob.blobId, { kind: 'permanent' }),
    );
    await chain.advanceEpoch();
    const tx = await signTransaction(alice, await chain.chainId(), 'certifyBlob', {
      blobObjectId: blob.id,
      signature: cert.signature,
      signersBitmap: cert.signersBitmap,
      message: cert.message,
    });
    const e = await rejection(chain.submit(tx));
    expect(e).toBeInstanceOf(ChainAbortError);
    expect((e as ChainAbortError).code).toBe('EIncorrectEpoch');
    expect((e as ChainAbortError).retryable).toBe(true);
    expect(abortRows(path, transactionDigest(tx.bytes))).toEqual([]);
    // Evaluated afresh each time (still retryable, still not stored).
    expect(((await rejection(chain.submit(tx))) as ChainAbortError).retryable).toBe(true);
    expect(abortRows(path, transactionDigest(tx.bytes))).toEqual([]);
  });
});

describe('validity window of timestampMs', () => {
  it('refuses timestamps that are not non-negative integers as malformed', async () => {
    const chain = await open(join(tempDir(), 'chain.sqlite'));
    const id = await chain.chainId();
    const alice = await fundedAccount(chain, 100n);
    const bob = new Ed25519Keypair().toSuiAddress();
    for (const ts of [undefined, Date.now() + 0.5, -1, '1700000000000', null, 2 ** 53, BigInt(Date.now())]) {
      const tx = await signAt(alice, id, 'transferWal', { recipient: bob, amount: 1n }, ts);
      expect(await abortCode(chain.submit(tx)), String(ts)).toBe('EMalformedTransaction');
    }
    expect(await chain.balance(bob)).toBe(0n);
  });

  it('aborts transactions older than maxTransactionAgeMs or too far ahead, for good', async () => {
    const path = join(tempDir(), 'chain.sqlite');
    const chain = await open(path);
    const id = await chain.chainId();
    const alice = await fundedAccount(chain, 100n);
    const bob = new Ed25519Keypair().toSuiAddress();
    const args = { recipient: bob, amount: 1n };
    const old = await signAt(alice, id, 'transferWal', args, Date.now() - LOCAL_CHAIN_DEFAULTS.maxTransactionAgeMs - 60_000);
    const e = await rejection(chain.submit(old));
    expect((e as ChainAbortError).code).toBe('ETransactionExpired');
    expect((e as ChainAbortError).retryable).toBe(false);
    const ahead = await signAt(alice, id, 'transferWal', args, Date.now() + LOCAL_CHAIN_DEFAULTS.maxTransactionFutureMs + 60_000);
    expect(await abortCode(chain.submit(ahead))).toBe('ETimestampInFuture');
    // Within the window on both sides: executed.
    await chain.submit(await signAt(alice, id, 'transferWal', args, Date.now() - LOCAL_CHAIN_DEFAULTS.maxTransactionAgeMs + 60_000));
    await chain.submit(await signAt(alice, id, 'transferWal', args, Date.now() + 30_000));
    expect(await chain.balance(bob)).toBe(2n);
    await chain.close();

    // The future-dated one does not come alive once the clock (here: the window) catches up.
    const wide = await open(path, { maxTransactionFutureMs: 10 * 60_000, maxTransactionAgeMs: 24 * 3_600_000 });
    expect(await abortCode(wide.submit(ahead))).toBe('ETimestampInFuture');
    expect(await abortCode(wide.submit(old))).toBe('ETransactionExpired');
    expect(await wide.balance(bob)).toBe(2n);
  });

  it('an executed transaction returns its stored result after its window has passed', async () => {
    const path = join(tempDir(), 'chain.sqlite');
    const chain = await open(path);
    const id = await chain.chainId();
    const alice = await fundedAccount(chain, 100n);
    const bob = new Ed25519Keypair().toSuiAddress();
    const tx = await signAt(alice, id, 'transferWal', { recipient: bob, amount: 3n }, Date.now() - 5 * 60_000);
    const first = (await chain.submit(tx)) as TxEffects;
    expect(await chain.submit(tx)).toEqual(first); // within the window
    const poor = await signAt(alice, id, 'transferWal', { recipient: bob, amount: 10_000n }, Date.now() - 5 * 60_000);
    expect(await abortCode(chain.submit(poor))).toBe('EInsufficientFunds');
    await chain.close();
    // Reopened with a window of one minute: both are five minutes old now, and keep their answers.
    const narrow = await open(path, { maxTransactionAgeMs: 60_000 });
    expect(await narrow.submit(tx)).toEqual(first);
    expect(await abortCode(narrow.submit(poor))).toBe('EInsufficientFunds');
    expect(await narrow.balance(bob)).toBe(3n);
    // While a new transaction of the same age is refused.
    expect(
      await abortCode(narrow.submit(await signAt(alice, id, 'transferWal', { recipient: bob, amount: 3n }, Date.now() - 5 * 60_000))),
    ).toBe('ETransactionExpired');
  });

  it('validates the window options', async () => {
    const path = join(tempDir(), 'chain.sqlite');
    await expect(LocalChain.open({ path, maxTransactionAgeMs: -1 })).rejects.toThrow(TuskInputError);
    await expect(LocalChain.open({ path, maxTransactionFutureMs: 1.5 })).rejects.toThrow(TuskInputError);
    await expect(LocalChain.open({ path, maxTransactionAgeMs: Number.POSITIVE_INFINITY })).rejects.toThrow(TuskInputError);
  });
});
