/**
 * LocalChain core: genesis and reopening, transaction authentication and replay, the faucet and
 * WAL transfers, pricing (walrus-protocol.md §8 worked examples), the event stream (cursors, long
 * poll) and durability of acknowledged calls across kill -9 of a real child process.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain, LOCAL_CHAIN_DEFAULTS, SYSTEM_ADDRESS } from '../../src/chain/local/index.ts';
import { encodedBlobLength, storageUnits } from '../../src/chain/local/blobs.ts';
import { signTransaction, type SignedTransaction } from '../../src/chain/transaction.ts';
import { encodeChainJson } from '../../src/chain/json.ts';
import type { ChainEventEnvelope, TxEffects } from '../../src/chain/types.ts';
import { ChainUnavailableError, TuskInputError } from '../../src/errors.ts';
import { abortCode, blobArgs, expectSupplyConserved, fundedAccount, openTestChain, tempDir } from './local-helpers.ts';

let chain: LocalChain | undefined;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

describe('genesis and persistence', () => {
  it('creates epoch 0 with an empty committee and reopens a file unchanged', async () => {
    const path = join(tempDir(), 'chain.sqlite');
    const c = await LocalChain.open({ path, nShards: 7, maxEpochsAhead: 9, storagePrice: 5n, writePrice: 6n });
    const id = await c.chainId();
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    const s = await c.systemState();
    expect(s).toMatchObject({
      epoch: 0,
      epochState: 'active',
      nShards: 7,
      maxEpochsAhead: 9,
      storagePricePerUnitSize: 5n,
      writePricePerUnitSize: 6n,
      usedCapacitySize: 0,
    });
    expect(s.committee).toEqual({ epoch: 0, nShards: 7, members: [] });
    const alice = await fundedAccount(c, 1000n);
    const bob = new Ed25519Keypair().toSuiAddress();
    await c.transferWal(alice, bob, 300n);
    const { blob } = await c.registerBlob(alice, { ...blobArgs(7, { size: 10, epochsAhead: 2 }) });
    await c.advanceEpoch();
    const events = await c.events();
    await c.close();
    await expect(c.balance(bob)).rejects.toThrow(ChainUnavailableError);
    // WAL is a property of the file (synchronous=FULL is per connection, set by every open).
    const raw = new DatabaseSync(path);
    expect((raw.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode).toBe('wal');
    raw.close();

    const d = await LocalChain.open({ path, storagePrice: 1n }); // genesis options are ignored on reopen
    try {
      expect(await d.chainId()).toBe(id);
      expect((await d.systemState()).epoch).toBe(1);
      expect((await d.systemState()).storagePricePerUnitSize).toBe(5n);
      expect(await d.balance(bob)).toBe(300n);
      expect(await d.getBlob(blob.id)).toEqual(blob);
      expect(await d.events()).toEqual(events);
      await expectSupplyConserved(d);
      await expect(LocalChain.open({ path, nShards: 8 })).rejects.toThrow(/7 shards, not 8/);
    } finally {
      await d.close();
    }
  });

  it('validates options', async () => {
    await expect(LocalChain.open({ path: ':memory:', nShards: 3 })).rejects.toThrow(TuskInputError);
    await expect(LocalChain.open({ path: ':memory:', nShards: 49156 })).rejects.toThrow(TuskInputError);
    await expect(LocalChain.open({ path: ':memory:', maxEpochsAhead: 1001 })).rejects.toThrow(/maxEpochsAhead/);
    await expect(LocalChain.open({ path: '' })).rejects.toThrow(/path/);
    const c = await LocalChain.open({ path: ':memory:' });
    expect((await c.systemState()).nShards).toBe(LOCAL_CHAIN_DEFAULTS.nShards);
    await c.close();
  });
});

describe('transactions', () => {
  it('rejects bad signatures, other chains, malformed bytes and unknown calls; replays return the stored result once', async () => {
    ({ chain } = await openTestChain());
    const alice = await fundedAccount(chain, 100n);
    const mallory = new Ed25519Keypair();
    const bob = new Ed25519Keypair().toSuiAddress();
    const id = await chain.chainId();
    const tx = await signTransaction(alice, id, 'transferWal', { recipient: bob, amount: 7n });
    // A signature by another key over the same bytes (which name alice as the sender).
    const forged: SignedTransaction = { bytes: tx.bytes, signature: (await mallory.signPersonalMessage(tx.bytes)).signature };
    expect(await abortCode(chain.submit(forged))).toBe('EInvalidSignature');
    // The right key, but the bytes changed after signing.
    const tampered = new TextEncoder().encode(new TextDecoder().decode(tx.bytes).replace('"7"', '"9"'));
    expect(await abortCode(chain.submit({ bytes: tampered, signature: tx.signature }))).toBe('EInvalidSignature');
    expect(await abortCode(chain.submit(await signTransaction(alice, 'f'.repeat(32), 'transferWal', { recipient: bob, amount: 7n })))).toBe(
      'EWrongChain',
    );
    expect(await abortCode(chain.submit({ bytes: new Uint8Array([1, 2, 3]), signature: tx.signature }))).toBe('EMalformedTransaction');
    const unknown = new TextEncoder().encode(
      encodeChainJson({ version: 1, chainId: id, sender: alice.toSuiAddress(), call: 'mint', args: {}, nonce: '00', timestampMs: 0 }),
    );
    expect(await abortCode(chain.submit({ bytes: unknown, signature: (await alice.signPersonalMessage(unknown)).signature }))).toBe(
      'EMalformedTransaction',
    );
    expect(await chain.balance(bob)).toBe(0n);

    const first = (await chain.submit(tx)) as TxEffects;
    const again = (await chain.submit(tx)) as TxEffects;
    const concurrent = await Promise.all([chain.submit(tx), chain.submit(tx)]);
    expect(again).toEqual(first);
    expect(concurrent).toEqual([first, first]);
    expect(await chain.balance(bob)).toBe(7n);
    expect(await chain.balance(alice.toSuiAddress())).toBe(93n);
    // A replayed registration returns the same Blob object and charges once.
    const rich = await fundedAccount(chain);
    const reg = await signTransaction(rich, id, 'registerBlob', { ...blobArgs(10) });
    const r1 = (await chain.submit(reg)) as TxEffects & { blob: { id: string } };
    const paidAfterFirst = await chain.balance(rich.toSuiAddress());
    const r2 = (await chain.submit(reg)) as TxEffects & { blob: { id: string } };
    expect(r2).toEqual(r1);
    expect(await chain.balance(rich.toSuiAddress())).toBe(paidAfterFirst);
    expect((await chain.ownedObjects(rich.toSuiAddress())).filter((o) => o.kind === 'blob').length).toBe(1);
    expect((await chain.events()).events.filter((e) => e.id.txDigest === r1.digest).length).toBe(1);
    // Bad argument shapes are input errors, not aborts.
    await expect(chain.submit(await signTransaction(alice, id, 'transferWal', { recipient: 'bob', amount: 1n }))).rejects.toThrow(
      TuskInputError,
    );
    await expect(chain.submit(await signTransaction(alice, id, 'transferWal', { recipient: bob, amount: 1 }))).rejects.toThrow(
      TuskInputError,
    );
  });

  it('balances never go negative; the faucet mints the default grant or an amount', async () => {
    ({ chain } = await openTestChain({ faucetGrant: 500n }));
    const alice = new Ed25519Keypair();
    const r = await chain.requestFaucet(alice.toSuiAddress());
    expect(r.amount).toBe(500n);
    expect(r.digest).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    await chain.requestFaucet(alice.toSuiAddress(), 1n);
    expect(await chain.balance(alice.toSuiAddress())).toBe(501n);
    expect(await abortCode(chain.transferWal(alice, SYSTEM_ADDRESS, 502n))).toBe('EInsufficientFunds');
    expect(await abortCode(chain.reserveSpace(alice, { size: 10 ** 9, epochsAhead: 50 }))).toBe('EInsufficientFunds');
    expect(await chain.balance(alice.toSuiAddress())).toBe(501n);
    await chain.transferWal(alice, SYSTEM_ADDRESS, 501n);
    expect(await chain.balance(alice.toSuiAddress())).toBe(0n);
    await expect(chain.requestFaucet('0x12')).rejects.toThrow(TuskInputError);
    await expect(chain.requestFaucet(alice.toSuiAddress(), 0n)).rejects.toThrow(TuskInputError);
    await expect(chain.requestFaucet(alice.toSuiAddress(), 1n << 63n)).rejects.toThrow(TuskInputError);
    await expectSupplyConserved(chain);
  });
});

describe('pricing (walrus-protocol.md §8 examples, n_shards = 1000)', () => {
  it('1 B = 63 units, 1 MiB = 67, 100 MiB = 512; the chain charges price × units × epochs', async () => {
    expect(encodedBlobLength(1, 1, 1000)).toBe(66_034_000);
    expect(storageUnits(encodedBlobLength(1, 1, 1000))).toBe(63n);
    expect(encodedBlobLength(1 << 20, 1, 1000)).toBe(70_038_000);
    expect(storageUnits(encodedBlobLength(1 << 20, 1, 1000))).toBe(67n);
    expect(encodedBlobLength(100 << 20, 1, 1000)).toBe(536_504_000);
    expect(storageUnits(encodedBlobLength(100 << 20, 1, 1000))).toBe(512n);
    expect(storageUnits(0)).toBe(0n);
    expect(storageUnits(1)).toBe(1n);

    ({ chain } = await openTestChain({ nShards: 1000, storagePrice: 11n, writePrice: 3n }));
    const alice = await fundedAccount(chain, 10n ** 9n);
    const b0 = await chain.balance(alice.toSuiAddress());
    const { blob } = await chain.registerBlob(alice, blobArgs(1000, { size: 1 << 20, epochsAhead: 5 }));
    expect(blob.storage.storageSize).toBe(70_038_000);
    expect(await chain.balance(alice.toSuiAddress())).toBe(b0 - 11n * 67n * 5n - 3n * 67n);
  });
});

describe('event stream', () => {
  it('pages resume from cursors without loss or duplicates; ids name the transaction', async () => {
    ({ chain } = await openTestChain());
    const alice = await fundedAccount(chain);
    const regs: string[] = [];
    for (let i = 0; i < 5; i++) regs.push((await chain.registerBlob(alice, blobArgs(10))).digest);
    await chain.advanceEpoch();
    const all = await chain.events();
    // 5 registrations, then EpochParametersSelected, EpochChangeStart and (no shards to sync) EpochChangeDone.
    expect(all.events.map((e) => e.event.type)).toEqual([
      ...Array(5).fill('BlobRegistered'),
      'EpochParametersSelected',
      'EpochChangeStart',
      'EpochChangeDone',
    ]);
    const seen: ChainEventEnvelope[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await chain.events({ cursor, limit: 2 });
      if (page.events.length === 0) {
        expect(page.nextCursor).toBe(cursor);
        break;
      }
      seen.push(...page.events);
      cursor = page.nextCursor;
    }
    expect(seen.slice(0, all.events.length)).toEqual(all.events);
    expect(seen.filter((e) => e.event.type === 'BlobRegistered').map((e) => e.id.txDigest)).toEqual(regs);
    expect(new Set(seen.map((e) => e.cursor)).size).toBe(seen.length);
    // Resuming from the middle gives exactly the rest.
    const mid = seen[2].cursor;
    expect((await chain.events({ cursor: mid })).events).toEqual(seen.slice(3));
    await expect(chain.events({ cursor: 'abc' })).rejects.toThrow(TuskInputError);
    await expect(chain.events({ limit: 0 })).rejects.toThrow(TuskInputError);
    // A failed call adds no events.
    const tail = (await chain.events()).nextCursor;
    await abortCode(chain.registerBlob(alice, { ...blobArgs(10), encodingType: 9 }));
    expect((await chain.events({ cursor: tail })).events).toEqual([]);
  });

  it('a long poll wakes on the commit that adds events, times out empty, and ends on abort or close', async () => {
    ({ chain } = await openTestChain());
    const alice = await fundedAccount(chain);
    const tail = (await chain.events()).nextCursor;
    const t0 = Date.now();
    expect((await chain.events({ cursor: tail, waitMs: 150 })).events).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);

    const t1 = Date.now();
    const poll = chain.events({ cursor: tail, waitMs: 20_000 });
    await new Promise((r) => setTimeout(r, 50));
    await chain.transferWal(alice, SYSTEM_ADDRESS, 1n); // no events: the poll keeps waiting
    const { digest } = await chain.registerBlob(alice, blobArgs(10));
    const page = await poll;
    expect(Date.now() - t1).toBeLessThan(5000);
    expect(page.events.map((e) => [e.event.type, e.id.txDigest])).toEqual([['BlobRegistered', digest]]);

    const ac = new AbortController();
    const aborted = chain.events({ cursor: page.nextCursor, waitMs: 20_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 30);
    expect((await aborted).events).toEqual([]);

    const closing = chain.events({ cursor: page.nextCursor, waitMs: 20_000 });
    await new Promise((r) => setTimeout(r, 20));
    await chain.close();
    await expect(closing).rejects.toThrow(ChainUnavailableError);
    chain = undefined;
  });
});

describe('durability', () => {
  it('every call acknowledged before kill -9 is there after reopening, and nothing is half-applied', async () => {
    const path = join(tempDir(), 'chain.sqlite');
    const recipient = new Ed25519Keypair().toSuiAddress();
    const child = spawn(process.execPath, [new URL('./local-crash-child.ts', import.meta.url).pathname, path, recipient], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let acked = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child made no progress; stderr: ${stderr}`)), 20_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = /^ack (\d+)$/.exec(line);
        if (m) acked = Number(m[1]);
        if (acked >= 25) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      void exited.then(() => reject(new Error(`child exited early; stderr: ${stderr}`)));
    });
    await exited;
    const c = await LocalChain.open({ path });
    try {
      const got = await c.balance(recipient);
      // Every acknowledged transfer survived; at most the one in flight may also have committed.
      expect(got).toBeGreaterThanOrEqual(BigInt(acked));
      expect(got).toBeLessThanOrEqual(BigInt(acked) + 1n);
      await expectSupplyConserved(c);
    } finally {
      await c.close();
    }
  });
});
