/**
 * Tusk as a Walrus localnet (docs/localnet.md): the unmodified official `@mysten/walrus` SDK
 * against a `tusk dev` network of processes, through `tuskSuiClient` (tusk/sui) and the
 * `packageConfig` that `tusk dev` wrote into the client config. Writes (deletable, permanent, with
 * attributes) and reads of 0 B … 8 MiB both ways between the SDK and Tusk's own client; a quilt; extend,
 * delete and attribute writes; Tusk's `SuiChain` storing through the same endpoint; wrongly signed,
 * replayed, stale and unsupported transactions refused with nothing applied; the wallet's balance
 * exact after every step (the SDK's own cost computation vs the chain's debits) and the supply audit
 * of the chain file at the end.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WalrusClient, WalrusFile } from '@mysten/walrus';
import { readQuiltPatch } from '../../src/api/quilt.ts';
import { Transaction } from '@mysten/sui/transactions';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { storeBlob, readBlob } from '../../src/index.ts';
import { tuskSuiClient, localnetPackageConfig, type TuskSuiClient } from '../../src/api/sui.ts';
import { SuiChain } from '../../src/chain/sui/sui-chain.ts';
import { LocalChain } from '../../src/chain/local/local-chain.ts';
import { startTestNetwork, type TestNetwork } from './test-network.ts';

const MiB = 1 << 20;
const EPOCHS = 2;
let t: TestNetwork;
let sui: TuskSuiClient;
let walrus: WalrusClient;
let packageConfig: { systemObjectId: string; stakingPoolId: string };
/** The wallet's balance as this test expects it, kept independently of the chain. */
let expected: bigint;

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const balance = () => t.chain.balance(t.wallet.toSuiAddress());

/** Runs `fn` and checks that it cost exactly `cost` FROST. */
async function costs<T>(cost: bigint, fn: () => Promise<T>): Promise<T> {
  const r = await fn();
  expected -= cost;
  expect(await balance()).toBe(expected);
  return r;
}

beforeAll(async () => {
  t = await startTestNetwork('tusk-localnet-', { nodes: 4, nShards: 40 });
  const config = JSON.parse(await readFile(t.net.configPath, 'utf8'));
  packageConfig = config.sui.packageConfig;
  sui = tuskSuiClient({ url: config.sui.url });
  walrus = new WalrusClient({ suiClient: sui, packageConfig, storageNodeUrlScheme: 'http' });
  expected = await balance();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

describe('Tusk as a Walrus localnet', () => {
  it('tusk dev writes the SDK config, and nodes are host:port on chain as on Walrus', async () => {
    expect(packageConfig).toEqual(await localnetPackageConfig(t.net.chainUrl));
    expect(t.net.sui.packageConfig).toEqual(packageConfig);
    const { committee } = await t.chain.systemState();
    for (const m of committee.members) expect(m.networkAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const sdkCommittee = (await walrus.stakingState()).committee;
    expect(sdkCommittee[0].contents.map((e) => e.key).sort()).toEqual(committee.members.map((m) => m.nodeId).sort());
  });

  it('the SDK reads blobs Tusk stored (0 B, 1 B, 1 MiB, 8 MiB)', async () => {
    for (const size of [0, 1, MiB, 8 * MiB]) {
      const data = bytes(size);
      const stored = await storeBlob(data, { chain: t.chain, signer: t.wallet, epochs: EPOCHS, pool: t.pool });
      await stored.background;
      expected -= stored.cost;
      const back = await walrus.readBlob({ blobId: stored.blobId });
      expect(Buffer.from(back).equals(Buffer.from(data)), `${size} B`).toBe(true);
    }
    expect(await balance()).toBe(expected);
  }, 120_000);

  const written: { blobId: string; objectId: string; size: number; deletable: boolean }[] = [];

  it('the SDK writes blobs (deletable and permanent, with attributes) that Tusk reads; costs are exact', async () => {
    const cases: { size: number; deletable: boolean; attributes: Record<string, string> | undefined }[] = [
      { size: 0, deletable: true, attributes: undefined },
      { size: 1, deletable: false, attributes: { kind: 'one byte' } },
      { size: MiB, deletable: true, attributes: { 'content-type': 'application/octet-stream', n: '1' } },
      { size: 8 * MiB, deletable: false, attributes: undefined },
    ];
    for (const c of cases) {
      const data = bytes(c.size);
      const { totalCost } = await walrus.storageCost(c.size, EPOCHS);
      const r = await costs(totalCost, () =>
        walrus.writeBlob({ blob: data, deletable: c.deletable, epochs: EPOCHS, signer: t.wallet, attributes: c.attributes }),
      );
      const blob = (await t.chain.getBlob(r.blobObject.id))!;
      expect(blob.certifiedEpoch).not.toBeNull();
      expect(blob.deletable).toBe(c.deletable);
      expect(blob.owner).toBe(t.wallet.toSuiAddress());
      expect(blob.attributes).toEqual(c.attributes ?? {});
      const back = await readBlob(r.blobId, { chain: t.chain, pool: t.pool });
      expect(Buffer.from(back).equals(Buffer.from(data)), `${c.size} B`).toBe(true);
      expect(Buffer.from(await walrus.readBlob({ blobId: r.blobId })).equals(Buffer.from(data))).toBe(true);
      if (c.attributes) expect(await walrus.readBlobAttributes({ blobObjectId: r.blobObject.id })).toEqual(c.attributes);
      written.push({ blobId: r.blobId, objectId: r.blobObject.id, size: c.size, deletable: c.deletable });
    }
  }, 180_000);

  it('the SDK writes a quilt (writeFiles) whose patches Tusk reads by patch ID', async () => {
    const files: { identifier: string; contents: Uint8Array; tags: Record<string, string> }[] = [
      { identifier: 'a.txt', contents: new TextEncoder().encode('first file'), tags: { lang: 'en' } },
      { identifier: 'b.bin', contents: bytes(5000), tags: {} },
    ];
    const results = await walrus.writeFiles({
      files: files.map((f) => WalrusFile.from({ contents: f.contents, identifier: f.identifier, tags: f.tags })),
      epochs: EPOCHS,
      deletable: true,
      signer: t.wallet,
    });
    expect(results).toHaveLength(2);
    // One quilt blob holds both files; it cost what the SDK prices for its size.
    expected -= (await walrus.storageCost(Number(results[0]!.blobObject.size), EPOCHS)).totalCost;
    expect(await balance()).toBe(expected);
    for (const [i, r] of results.entries()) {
      const patch = await readQuiltPatch(null, { quiltPatchId: r.id }, { chain: t.chain, pool: t.pool });
      expect(patch.identifier).toBe(files[i]!.identifier);
      expect(Buffer.from(patch.data).equals(Buffer.from(files[i]!.contents))).toBe(true);
      expect(patch.tags).toEqual(files[i]!.tags);
    }
  }, 60_000);

  it('extends, writes attributes and deletes through the SDK', async () => {
    const target = written[2]!; // 1 MiB, deletable, with attributes
    const before = (await t.chain.getBlob(target.objectId))!;
    const { storageCost } = await walrus.storageCost(target.size, 3);
    await costs(storageCost, () => walrus.executeExtendBlobTransaction({ blobObjectId: target.objectId, epochs: 3, signer: t.wallet }));
    expect((await t.chain.getBlob(target.objectId))!.storage.endEpoch).toBe(before.storage.endEpoch + 3);

    await costs(0n, () =>
      walrus.executeWriteBlobAttributesTransaction({
        blobObjectId: target.objectId,
        attributes: { n: null, added: 'yes' },
        signer: t.wallet,
      }),
    );
    expect((await t.chain.getBlob(target.objectId))!.attributes).toEqual({ 'content-type': 'application/octet-stream', added: 'yes' });
    expect(await walrus.readBlobAttributes({ blobObjectId: target.objectId })).toEqual({
      'content-type': 'application/octet-stream',
      added: 'yes',
    });

    await costs(0n, () => walrus.executeDeleteBlobTransaction({ blobObjectId: target.objectId, signer: t.wallet }));
    expect(await t.chain.getBlob(target.objectId)).toBeNull();
    // The freed Storage went back to the wallet, as the SDK's PTB transfers it.
    const owned = await t.chain.ownedObjects(t.wallet.toSuiAddress());
    expect(owned.some((o) => o.kind === 'storage' && o.object.id === before.storage.id)).toBe(true);
  }, 60_000);

  it('Tusk\u2019s SuiChain stores and reads through the same endpoint', async () => {
    const chain = new SuiChain({
      client: sui,
      systemObjectId: packageConfig.systemObjectId,
      stakingObjectId: packageConfig.stakingPoolId,
      owner: t.wallet.toSuiAddress(),
    });
    const data = bytes(100_000);
    const stored = await storeBlob(data, { chain, signer: t.wallet, epochs: EPOCHS, pool: t.pool });
    await stored.background;
    expected -= stored.cost;
    expect(await balance()).toBe(expected);
    expect((await t.chain.getBlob(stored.blobObjectId))!.certifiedEpoch).not.toBeNull();
    expect(Buffer.from(await readBlob(stored.blobId, { chain, pool: t.pool })).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(await walrus.readBlob({ blobId: stored.blobId })).equals(Buffer.from(data))).toBe(true);
  }, 60_000);

  it('refuses wrongly signed, stale and unsupported transactions, and replays execute once', async () => {
    const address = t.wallet.toSuiAddress();
    const target = written[0]!; // 0 B, deletable
    const build = async () => {
      const tx = walrus.deleteBlobTransaction({ blobObjectId: target.objectId, owner: address });
      tx.setSender(address);
      return tx.build({ client: sui });
    };
    const txBytes = await build();
    const stranger = new Ed25519Keypair();
    const forged = (await stranger.signTransaction(txBytes)).signature;
    await expect(sui.executeTransaction({ transaction: txBytes, signatures: [forged] })).rejects.toThrow(/EInvalidSignature/);
    const tampered = new Uint8Array(txBytes);
    tampered[tampered.length - 1] ^= 1;
    const genuine = (await t.wallet.signTransaction(txBytes)).signature;
    await expect(sui.executeTransaction({ transaction: tampered, signatures: [genuine] })).rejects.toThrow(/EInvalidSignature|EMalformed/);
    expect(await t.chain.getBlob(target.objectId)).not.toBeNull();

    // Another transaction built on the same gas-coin version: stale once the first executed.
    const other = written[1]!; // 1 B, permanent, with attributes
    const staleTx = await walrus.writeBlobAttributesTransaction({ blobObjectId: other.objectId, attributes: { kind: 'changed' } });
    staleTx.setSender(address);
    const stale = await staleTx.build({ client: sui });
    const first = await sui.executeTransaction({ transaction: txBytes, signatures: [genuine] });
    expect(await t.chain.getBlob(target.objectId)).toBeNull();
    const replay = await sui.executeTransaction({ transaction: txBytes, signatures: [genuine] });
    expect(replay.Transaction!.digest).toBe(first.Transaction!.digest);
    expect(await balance()).toBe(expected);
    const staleSig = (await t.wallet.signTransaction(stale)).signature;
    await expect(sui.executeTransaction({ transaction: stale, signatures: [staleSig] })).rejects.toThrow(/EObjectVersionUnavailable/);
    expect((await t.chain.getBlob(other.objectId))!.attributes).toEqual({ kind: 'one byte' });

    // A paying command followed by an unsupported call: nothing of it is applied.
    const storagesBefore = (await t.chain.ownedObjects(address)).filter((o) => o.kind === 'storage').length;
    const tx = walrus.createStorageTransaction({ size: 1000, epochs: 1, owner: address });
    const info = await sui.info();
    tx.moveCall({ target: `${info.walrusPackage}::system::invalidate_blob_id`, arguments: [tx.pure.vector('u8', [1, 2, 3])] });
    tx.setGasBudget(10_000_000); // no dry run: the executor itself must refuse it and apply nothing
    await expect(sui.signAndExecuteTransaction({ transaction: tx, signer: t.wallet })).rejects.toThrow(
      /EUnsupportedCommand.*invalidate_blob_id/,
    );
    expect(await balance()).toBe(expected);
    expect((await t.chain.ownedObjects(address)).filter((o) => o.kind === 'storage').length).toBe(storagesBefore);
  }, 60_000);

  it('the supply audit of the chain file balances exactly', async () => {
    await t.net.stop();
    const chain = await LocalChain.open({ path: join(t.dir, 'chain', 'chain.sqlite') });
    try {
      const a = await chain.supplyAudit();
      expect(a.balances + a.stakedPrincipal + a.poolRewards + a.undistributed).toBe(a.minted);
      expect(await chain.balance(t.wallet.toSuiAddress())).toBe(expected);
    } finally {
      await chain.close();
    }
  });
});
