/**
 * Money is never spent twice (issue: a hostile new user's findings 1–3, 13), on a real network of
 * processes (chain + 4 nodes, 100 shards):
 * - a store interrupted after registration and run again after an epoch change reuses the live
 *   registration and pays only the missing epochs; a certified blob stored again for longer is
 *   extended, not registered again (Walrus's reuseAndExtend / reuseAndExtendNonCertified);
 * - a store whose nodes have moved into the next epoch before confirming re-collects from the new
 *   committee and certifies the same object;
 * - Storage returned by `delete` is reused (split to fit; two of the same period fused when only
 *   together they fit) instead of buying new space, and
 *   `tusk list-storage` shows it;
 * - a failed store says what it paid and that a re-run resumes; the progress line never shows
 *   more confirmed shards than there are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestNetwork, type TestNetwork } from './test-network.ts';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import type { DevNetwork } from '../../src/network/dev-network.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { BlobStoreFlow, paidRegistration, storeBlob, storageCost } from '../../src/client/store-blob.ts';
import { readBlob } from '../../src/client/read-blob.ts';
import { StorageNodeClient } from '../../src/node-api/client.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { storageUnits } from '../../src/chain/types.ts';
import type { CodecPool } from '../../src/pool/codec-pool.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { runTusk } from '../helpers/cli.ts';

const N_SHARDS = 100;
let net: DevNetwork;
let dir: string;
let chain: RemoteChain;
let wallet: Ed25519Keypair;
let pool: CodecPool;

let testNet: TestNetwork;

beforeAll(async () => {
  testNet = await startTestNetwork('tusk-reuse-', { nShards: N_SHARDS });
  ({ net, dir, chain, wallet, pool } = testNet);
}, 180_000);

afterAll(() => testNet?.stop());

const me = () => wallet.toSuiAddress();
const unitsOf = (size: number) => storageUnits(new EncodingConfig(N_SHARDS).encodedBlobLength(size));

/** Advances the epoch and waits until the chain and every node are in it. */
async function nextEpoch(): Promise<number> {
  const { epoch } = await chain.advanceEpoch();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const state = await chain.systemState();
    const nodeEpochs = await Promise.all(
      net.nodes.map((n) =>
        fetch(`${n.url}/v1/health`)
          .then((r) => r.json() as Promise<{ success?: { data: { epoch: number } }; epoch?: number }>)
          .then((h) => h.success?.data.epoch ?? h.epoch),
      ),
    );
    if (state.epochState === 'active' && nodeEpochs.every((e) => e === epoch)) return epoch;
    if (Date.now() > deadline) throw new Error(`epoch ${epoch} not reached: chain ${state.epoch}/${state.epochState}, nodes ${nodeEpochs}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a store never pays twice', () => {
  it('interrupted after registration, re-run after an epoch change: same object, pays only the missing epoch', async () => {
    const data = randomBytes(40_000, 301);
    const flow = new BlobStoreFlow(data, { chain, signer: wallet, epochs: 3, pool });
    const registered = await flow.register(); // the store is "interrupted" here: paid, not uploaded
    const epoch = await nextEpoch();
    const state = await chain.systemState();
    const before = await chain.balance(me());
    const r = await storeBlob(data, { chain, signer: wallet, epochs: 3, pool });
    await r.background;
    expect(r.reused).toBe(true);
    expect(r.blobObjectId).toBe(registered.id);
    expect(r.endEpoch).toBe(epoch + 3);
    const extension = state.storagePricePerUnitSize * unitsOf(data.length) * 1n;
    expect(r.cost).toBe(extension);
    expect(before - (await chain.balance(me()))).toBe(extension);
    const mine = (await chain.blobObjects(registered.blobId)).filter((b) => b.owner === me());
    expect(mine).toHaveLength(1);
    expect(Buffer.from(await readBlob(r.blobId, { chain, pool })).equals(Buffer.from(data))).toBe(true);
  });

  it('a certified blob stored again for longer is extended, not registered again', async () => {
    const data = randomBytes(30_000, 302);
    const first = await storeBlob(data, { chain, signer: wallet, epochs: 1, pool });
    await first.background;
    const state = await chain.systemState();
    const before = await chain.balance(me());
    const again = await storeBlob(data, { chain, signer: wallet, epochs: 4, pool });
    expect(again.reused).toBe(true);
    expect(again.blobObjectId).toBe(first.blobObjectId);
    expect(again.endEpoch).toBe(state.epoch + 4);
    expect(again.cost).toBe(state.storagePricePerUnitSize * unitsOf(data.length) * 3n);
    expect(before - (await chain.balance(me()))).toBe(again.cost);
  });

  it('nodes that moved into the next epoch before confirming: re-collected, the same object certified', async () => {
    const data = randomBytes(50_000, 303);
    let moved = false;
    // The client reads committee E; before its nodes confirm, chain and nodes move to E+1.
    const racing = new Proxy(chain, {
      get(target, prop, receiver) {
        if (prop === 'committee') {
          return async (...args: Parameters<RemoteChain['committee']>) => {
            const c = await target.committee(...args);
            if (!moved && args.length === 0) {
              moved = true;
              await nextEpoch();
            }
            return c;
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const before = await chain.balance(me());
    const state = await chain.systemState();
    const r = await storeBlob(data, { chain: racing, signer: wallet, epochs: 2, pool });
    expect(moved).toBe(true);
    expect(r.certifiedEpoch).toBe(state.epoch + 1);
    expect(r.cost).toBe(storageCost(data.length, 2, N_SHARDS, state.storagePricePerUnitSize, state.writePricePerUnitSize));
    expect(before - (await chain.balance(me()))).toBe(r.cost);
    const mine = (await chain.blobObjects((await chain.getBlob(r.blobObjectId))!.blobId)).filter((b) => b.owner === me());
    expect(mine).toHaveLength(1);
    await r.background;
  });

  it('storage returned by delete is reused (split to fit) and listed by tusk list-storage', async () => {
    const big = randomBytes(3_000_000, 304);
    const stored = await storeBlob(big, { chain, signer: wallet, epochs: 3, pool });
    await stored.background;
    const { storage } = await chain.deleteBlob(wallet, stored.blobObjectId);
    const list = await runTusk(['list-storage', '--json', '--config', net.configPath]);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).storage.map((s: { objectId: string }) => s.objectId)).toContain(storage.id);

    const small = randomBytes(10_000, 305);
    const state = await chain.systemState();
    const before = await chain.balance(me());
    const r = await storeBlob(small, { chain, signer: wallet, epochs: 2, pool });
    expect(r.storageReused).toBe(storage.id);
    expect(r.cost).toBe(state.writePricePerUnitSize * unitsOf(small.length));
    expect(before - (await chain.balance(me()))).toBe(r.cost);
    // The remainder stays the owner's for later stores.
    const left = (await chain.ownedObjects(me())).flatMap((o) => (o.kind === 'storage' ? [o.object] : []));
    expect(left.some((s) => s.storageSize === storage.storageSize - new EncodingConfig(N_SHARDS).encodedBlobLength(small.length))).toBe(
      true,
    );
    await r.background;
  });

  it('two freed Storage objects of the same period that fit only together are fused, then split to fit', async () => {
    const cfg = new EncodingConfig(N_SHARDS);
    const x1 = randomBytes(100_000, 310),
      x2 = randomBytes(100_000, 311),
      y = randomBytes(160_000, 312);
    expect(cfg.encodedBlobLength(y.length)).toBeGreaterThan(cfg.encodedBlobLength(x1.length));
    expect(cfg.encodedBlobLength(y.length)).toBeLessThanOrEqual(2 * cfg.encodedBlobLength(x1.length));
    // 5 epochs: longer than every Storage left by earlier tests, so only these two qualify.
    const [s1, s2] = await Promise.all([x1, x2].map((d) => storeBlob(d, { chain, signer: wallet, epochs: 5, pool })));
    await Promise.all([s1.background, s2.background]);
    expect(s1.endEpoch).toBe(s2.endEpoch);
    const f1 = (await chain.deleteBlob(wallet, s1.blobObjectId)).storage;
    const f2 = (await chain.deleteBlob(wallet, s2.blobObjectId)).storage;
    const state = await chain.systemState();
    const before = await chain.balance(me());
    const r = await storeBlob(y, { chain, signer: wallet, epochs: 5, pool });
    await r.background;
    expect([f1.id, f2.id]).toContain(r.storageReused);
    expect(r.cost).toBe(state.writePricePerUnitSize * unitsOf(y.length));
    expect(before - (await chain.balance(me()))).toBe(r.cost);
    expect((await chain.getBlob(r.blobObjectId))?.storage.storageSize).toBe(cfg.encodedBlobLength(y.length));
    // What the blob did not need stays the owner's, in the same period.
    const left = (await chain.ownedObjects(me()))
      .flatMap((o) => (o.kind === 'storage' ? [o.object] : []))
      .filter((s) => s.startEpoch === f1.startEpoch && s.endEpoch === f1.endEpoch);
    expect(left.reduce((t, s) => t + s.storageSize, 0)).toBe(f1.storageSize + f2.storageSize - cfg.encodedBlobLength(y.length));
    expect(Buffer.compare(await readBlob(r.blobId, { chain, pool }), y)).toBe(0);
  });

  it('concurrent stores of one wallet share one freed Storage object without aborting each other', async () => {
    const cfg = new EncodingConfig(N_SHARDS);
    // 6 epochs: longer than every Storage left by earlier tests, so only this one qualifies.
    const freed = await storeBlob(randomBytes(2_000_000, 320), { chain, signer: wallet, epochs: 6, pool });
    await freed.background;
    const { storage } = await chain.deleteBlob(wallet, freed.blobObjectId);
    const small = [321, 322, 323, 324].map((seed) => randomBytes(20_000 + seed, seed));
    const state = await chain.systemState();
    const before = await chain.balance(me());
    // Without the per-wallet pick, these split and register the same object at once (soak: EIncompatibleAmount / EResourceSize).
    const stored = await Promise.all(small.map((d) => storeBlob(d, { chain, signer: wallet, epochs: 6, pool })));
    await Promise.all(stored.map((r) => r.background));
    const writeFees = small.reduce((t, d) => t + state.writePricePerUnitSize * unitsOf(d.length), 0n);
    expect(stored.every((r) => r.storageReused !== null)).toBe(true);
    expect(stored.reduce((t, r) => t + r.cost, 0n)).toBe(writeFees);
    expect(before - (await chain.balance(me()))).toBe(writeFees);
    const left = (await chain.ownedObjects(me()))
      .flatMap((o) => (o.kind === 'storage' ? [o.object] : []))
      .filter((s) => s.startEpoch === storage.startEpoch && s.endEpoch === storage.endEpoch);
    expect(left.reduce((t, s) => t + s.storageSize, 0)).toBe(
      storage.storageSize - small.reduce((t, d) => t + cfg.encodedBlobLength(d.length), 0),
    );
  });

  it('a store that fails after paying says so and that a re-run resumes; the re-run does not pay again', async () => {
    const data = randomBytes(20_000, 306);
    // Every node refuses the uploads (a client whose fetch always fails): no quorum is possible.
    const dead = (a: string) =>
      new StorageNodeClient(a, {
        fetch: async () => {
          throw new TypeError('fetch failed: connection refused');
        },
      });
    const err = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool, nodeClient: dead, retries: 0 }).catch((e) => e);
    const paid = paidRegistration(err);
    expect(paid).not.toBeNull();
    expect(paid!.cost).toBeGreaterThan(0n);
    const before = await chain.balance(me());
    const r = await storeBlob(data, { chain, signer: wallet, epochs: 2, pool });
    expect(r.blobObjectId).toBe(paid!.blobObjectId);
    expect(r.cost).toBe(0n);
    expect(await chain.balance(me())).toBe(before);
    await r.background;
  });

  it('the CLI names the payment of a failed store, lists failed nodes, and its progress never overshoots', async () => {
    const file = join(dir, 'progress.bin');
    await writeFile(file, randomBytes(200_000, 307));
    await net.stopNode(3);
    try {
      const r = await runTusk(['store', file, '--epochs', '2', '--json', '--config', net.configPath]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      const failed = out.failedNodes ?? out.blobs?.[0]?.failedNodes;
      expect(failed).toHaveLength(1);
      expect(failed[0].nodeId).toBe(net.nodes[3].nodeId);
      expect(failed[0].error).toBeTruthy();
    } finally {
      await net.startNode(3);
    }
    const progress: string[] = [];
    const flow = storeBlob(randomBytes(100_000, 308), {
      chain,
      signer: wallet,
      epochs: 2,
      pool,
      onProgress: (e) => {
        if (e.phase === 'upload') progress.push(`${e.confirmedWeight}/${(e.sliversTotal ?? 0) / 2}`);
      },
    });
    await (
      await flow
    ).background;
    for (const p of progress) {
      const [a, b] = p.split('/').map(Number);
      expect(a).toBeLessThanOrEqual(b);
    }
  });
});
