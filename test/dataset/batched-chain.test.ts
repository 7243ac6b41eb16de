/**
 * Many blobs per transaction: the local chain's `registerBlobs` / `certifyBlobs` (atomic — one bad
 * entry rolls back all, and the abort names the entry; paid exactly as the single calls) and the
 * dataset pipeline's group-commit view (`batchedChain`): concurrent calls leave as one
 * transaction, an aborted batch falls back to single calls so each caller gets its own answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import type { LocalChain } from '../../src/chain/local/index.ts';
import type { BlobObject, RegisterBlobOptions } from '../../src/chain/types.ts';
import { storageConfirmationMessage } from '../../src/protocol/messages.ts';
import { ChainAbortError } from '../../src/errors.ts';
import { batchedChain } from '../../src/dataset/batched-chain.ts';
import { startChainServer } from '../../src/chain/remote/server.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import {
  abortCode,
  blobArgs,
  certificate,
  expectSupplyConserved,
  fundedAccount,
  openTestChain,
  setupCommittee,
  type TestNode,
} from '../chain/local-helpers.ts';

const N = 10;
let chain: LocalChain;
let nodes: TestNode[];
let alice: Ed25519Keypair;

beforeAll(async () => {
  ({ chain } = await openTestChain({ nShards: N, maxEpochsAhead: 5 }));
  nodes = await setupCommittee(chain, [400n * 10n ** 9n, 300n * 10n ** 9n, 200n * 10n ** 9n, 100n * 10n ** 9n]);
  alice = await fundedAccount(chain);
});
afterAll(async () => {
  await chain.close();
});

const msg = async (b: BlobObject) =>
  certificate(chain, nodes, storageConfirmationMessage((await chain.systemState()).epoch, b.blobId, { kind: 'permanent' }));
const live = async (b: BlobObject) => (await chain.blobObjects(b.blobId)).length;

describe('registerBlobs / certifyBlobs on the local chain', () => {
  it('registers many blobs in one transaction, paying what the single calls pay', async () => {
    const before = await chain.balance(alice.toSuiAddress());
    const single = await chain.registerBlob(alice, blobArgs(N, { size: 5000 }));
    const paidSingle = before - (await chain.balance(alice.toSuiAddress()));
    const args = [blobArgs(N, { size: 5000 }), blobArgs(N, { size: 5000 }), blobArgs(N, { size: 5000 })];
    const mid = await chain.balance(alice.toSuiAddress());
    const res = await chain.registerBlobs(alice, args);
    expect(res.blobs.map((b) => Buffer.from(b.blobId).toString('hex'))).toEqual(args.map((a) => Buffer.from(a.blobId).toString('hex')));
    expect(mid - (await chain.balance(alice.toSuiAddress()))).toBe(3n * paidSingle);
    expect(res.events.filter((e) => e.event.type === 'BlobRegistered')).toHaveLength(3);
    // Certify them (and the single one) in one transaction.
    const all = [single.blob, ...res.blobs];
    const certs = await Promise.all(all.map(async (b) => ({ ...(await msg(b)), blobObjectId: b.id })));
    const cert = await chain.certifyBlobs(alice, certs);
    expect(cert.blobs.every((b, i) => b.id === all[i].id && b.certifiedEpoch !== null)).toBe(true);
    expect(cert.events.filter((e) => e.event.type === 'BlobCertified')).toHaveLength(4);
    await expectSupplyConserved(chain);
  });

  it('is atomic: one bad entry aborts all of it, naming the entry, and nothing is paid', async () => {
    const good = blobArgs(N);
    const bad: RegisterBlobOptions = { ...blobArgs(N), rootHash: new Uint8Array(32).fill(7) }; // blob ID not derived from it
    const before = await chain.balance(alice.toSuiAddress());
    const e = await chain.registerBlobs(alice, [good, bad]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ChainAbortError);
    expect((e as ChainAbortError).code).toBe('EInvalidBlobId');
    expect((e as Error).message).toMatch(/^EInvalidBlobId: entry 1: /);
    expect(await chain.balance(alice.toSuiAddress())).toBe(before);
    expect(await chain.blobObjects(good.blobId)).toHaveLength(0);
    // certifyBlobs: a second certificate for an already certified blob rolls back the first.
    const [a, b] = (await chain.registerBlobs(alice, [blobArgs(N), blobArgs(N)])).blobs;
    await chain.certifyBlob(alice, b.id, await msg(b));
    const code = await abortCode(
      chain.certifyBlobs(alice, [
        { ...(await msg(a)), blobObjectId: a.id },
        { ...(await msg(b)), blobObjectId: b.id },
      ]),
    );
    expect(code).toBe('EAlreadyCertified');
    expect((await chain.getBlob(a.id))!.certifiedEpoch).toBeNull();
    // Shapes: empty, too long, not objects.
    await expect(chain.registerBlobs(alice, [])).rejects.toThrow(/1…256 entries/);
    await expect(
      chain.registerBlobs(
        alice,
        Array.from({ length: 257 }, () => blobArgs(N)),
      ),
    ).rejects.toThrow(/1…256 entries/);
  });
});

describe('over the chain server (RemoteChain)', () => {
  it('registerBlobs and certifyBlobs travel as signed transactions like any call', async () => {
    const server = await startChainServer({ chain, port: 0, devRoutes: false });
    try {
      const remote = new RemoteChain({ url: server.url });
      const args = [blobArgs(N), blobArgs(N)];
      const reg = await remote.registerBlobs(alice, args);
      expect(reg.blobs.map((b) => b.owner)).toEqual([alice.toSuiAddress(), alice.toSuiAddress()]);
      expect(Buffer.from(reg.blobs[1].blobId)).toEqual(Buffer.from(args[1].blobId));
      const cert = await remote.certifyBlobs(
        alice,
        await Promise.all(reg.blobs.map(async (b) => ({ ...(await msg(b)), blobObjectId: b.id }))),
      );
      expect(cert.blobs.every((b) => b.certifiedEpoch !== null)).toBe(true);
      expect((await chain.getBlob(reg.blobs[0].id))!.certifiedEpoch).not.toBeNull();
      // An abort comes back with its code and entry.
      const bad: RegisterBlobOptions = { ...blobArgs(N), rootHash: new Uint8Array(32).fill(5) };
      await expect(remote.registerBlobs(alice, [blobArgs(N), bad])).rejects.toThrow(/EInvalidBlobId: entry 1/);
    } finally {
      await server.close();
    }
  });
});

describe('batchedChain (group commit)', () => {
  it('sends the first call alone and the calls made meanwhile as one transaction', async () => {
    const sizes: [string, number][] = [];
    const view = batchedChain(chain, { onBatch: (kind, n) => sizes.push([kind, n]) });
    const args = Array.from({ length: 5 }, () => blobArgs(N));
    const regs = await Promise.all(args.map((a) => view.registerBlob(alice, a)));
    expect(sizes).toEqual([
      ['register', 1],
      ['register', 4],
    ]);
    for (const [i, r] of regs.entries()) {
      expect(Buffer.from(r.blob.blobId)).toEqual(Buffer.from(args[i].blobId));
      expect(r.events.map((e) => e.event.type)).toEqual(['BlobRegistered']);
    }
    expect(new Set(regs.slice(1).map((r) => r.digest)).size).toBe(1);
    sizes.length = 0;
    const certs = await Promise.all(regs.map(async (r) => view.certifyBlob(alice, r.blob.id, await msg(r.blob))));
    expect(certs.every((c) => c.blob.certifiedEpoch !== null)).toBe(true);
    expect(sizes.reduce((s, [, n]) => s + n, 0)).toBe(5);
    expect(sizes.length).toBeLessThan(5);
    // Reads and other calls pass through.
    expect((await view.systemState()).nShards).toBe(N);
  });

  it('an aborted batch is sent again call by call: each caller gets its own outcome', async () => {
    const sizes: number[] = [];
    const view = batchedChain(chain, { onBatch: (_k, n) => sizes.push(n) });
    const first = blobArgs(N);
    const good = blobArgs(N);
    const bad: RegisterBlobOptions = { ...blobArgs(N), rootHash: new Uint8Array(32).fill(9) };
    const [r0, r1, r2] = await Promise.allSettled([
      view.registerBlob(alice, first),
      view.registerBlob(alice, good),
      view.registerBlob(alice, bad),
    ]);
    expect(r0.status).toBe('fulfilled');
    expect(r1.status).toBe('fulfilled');
    expect(r2.status).toBe('rejected');
    expect(((r2 as PromiseRejectedResult).reason as ChainAbortError).code).toBe('EInvalidBlobId');
    expect(sizes).toEqual([1, 1]); // the batch of two aborted; the good one went alone
    expect(await live((r1 as PromiseFulfilledResult<{ blob: BlobObject }>).value.blob)).toBe(1);
  });

  it('returns a chain without batched calls unchanged', () => {
    const plain = { ...chain, registerBlobs: undefined } as unknown as typeof chain;
    expect(batchedChain(plain)).toBe(plain);
    expect(() => batchedChain(chain, { maxBatch: 0 })).toThrow(/maxBatch/);
  });
});
