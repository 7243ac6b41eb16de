/**
 * LocalChain blob calls against a committee of 4 test nodes (weights 4, 3, 2, 1 of 10 shards):
 * every entry point's success and the Move asserts' failure cases, certificates from real BLS
 * signatures (cross-checked with the official @mysten/walrus-wasm BLS functions), ownership.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import type { LocalChain } from '../../src/chain/local/index.ts';
import { encodedBlobLength, storageUnits } from '../../src/chain/local/blobs.ts';
import type { BlobObject, ChainEvent } from '../../src/chain/types.ts';
import { deriveBlobId } from '../../src/codec/blob-id.ts';
import { invalidBlobIdMessage, protocolMessage, storageConfirmationMessage } from '../../src/protocol/messages.ts';
import { blsPublicKeyUncompressed } from '../../src/crypto/bls.ts';
import { officialBlsVerifyAggregate } from '../helpers/official.ts';
import {
  abortCode,
  blobArgs,
  certificate,
  expectSupplyConserved,
  fundedAccount,
  openTestChain,
  setupCommittee,
  signersWithWeight,
  type TestNode,
} from './local-helpers.ts';

const N = 10;
let chain: LocalChain;
let nodes: TestNode[];
let alice: Ed25519Keypair;
let bob: Ed25519Keypair;
let epoch: number;

beforeAll(async () => {
  ({ chain } = await openTestChain({ nShards: N, maxEpochsAhead: 5 }));
  nodes = await setupCommittee(chain, [400n * 10n ** 9n, 300n * 10n ** 9n, 200n * 10n ** 9n, 100n * 10n ** 9n]);
  alice = await fundedAccount(chain);
  bob = await fundedAccount(chain);
  epoch = (await chain.systemState()).epoch;
});
afterAll(async () => {
  await chain.close();
});

const idBytes = (id: string) => new Uint8Array(Buffer.from(id.slice(2), 'hex'));
const permanentMsg = (b: BlobObject, e = epoch) => storageConfirmationMessage(e, b.blobId, { kind: 'permanent' });
const deletableMsg = (b: BlobObject, objectId = b.id, e = epoch) =>
  storageConfirmationMessage(e, b.blobId, { kind: 'deletable', objectId: idBytes(objectId) });

async function registered(owner = alice, options: Parameters<typeof blobArgs>[1] = {}): Promise<BlobObject> {
  return (await chain.registerBlob(owner, blobArgs(N, options))).blob;
}

async function certified(owner = alice, options: Parameters<typeof blobArgs>[1] = {}): Promise<BlobObject> {
  const blob = await registered(owner, options);
  const msg = blob.deletable ? deletableMsg(blob) : permanentMsg(blob);
  return (await chain.certifyBlob(owner, blob.id, await certificate(chain, nodes, msg))).blob;
}

function types(fx: { events: readonly { event: ChainEvent }[] }): string[] {
  return fx.events.map((e) => e.event.type);
}

describe('reserveSpace and registerBlob', () => {
  it('reserves space at storage price × units × epochs and registers with the write price', async () => {
    const s = await chain.systemState();
    const size = 200_000;
    const enc = encodedBlobLength(size, 1, N);
    const b0 = await chain.balance(alice.toSuiAddress());
    const { storage } = await chain.reserveSpace(alice, { size: enc, epochsAhead: 3 });
    expect(storage).toMatchObject({ owner: alice.toSuiAddress(), startEpoch: epoch, endEpoch: epoch + 3, storageSize: enc });
    expect(await chain.balance(alice.toSuiAddress())).toBe(b0 - s.storagePricePerUnitSize * storageUnits(enc) * 3n);
    expect((await chain.systemState()).usedCapacitySize).toBe(s.usedCapacitySize + enc);
    const args = blobArgs(N, { size, storage: storage.id });
    const fx = await chain.registerBlob(alice, args);
    expect(await chain.balance(alice.toSuiAddress())).toBe(
      b0 - s.storagePricePerUnitSize * storageUnits(enc) * 3n - s.writePricePerUnitSize * storageUnits(enc),
    );
    expect(fx.blob).toMatchObject({
      owner: alice.toSuiAddress(),
      registeredEpoch: epoch,
      size,
      encodingType: 1,
      certifiedEpoch: null,
      deletable: false,
    });
    expect(fx.blob.storage).toEqual({ id: storage.id, startEpoch: epoch, endEpoch: epoch + 3, storageSize: enc });
    expect(fx.events.map((e) => e.event)).toEqual([
      {
        type: 'BlobRegistered',
        epoch,
        blobId: args.blobId,
        size,
        encodingType: 1,
        endEpoch: epoch + 3,
        deletable: false,
        objectId: fx.blob.id,
      },
    ]);
    expect(await chain.getStorage(storage.id)).toBeNull(); // consumed by the blob
    expect((await chain.blobObjects(args.blobId)).map((b) => b.id)).toEqual([fx.blob.id]);
    await expectSupplyConserved(chain);
  });

  it('rejects bad periods, sizes, blob IDs, encodings, foreign or expired storage — and applies nothing', async () => {
    const max = (await chain.systemState()).maxEpochsAhead;
    expect(await abortCode(chain.reserveSpace(alice, { size: 1000, epochsAhead: 0 }))).toBe('EInvalidEpochsAhead');
    expect(await abortCode(chain.reserveSpace(alice, { size: 1000, epochsAhead: max + 1 }))).toBe('EInvalidEpochsAhead');
    expect(await abortCode(chain.reserveSpace(alice, { size: 0, epochsAhead: 1 }))).toBe('EInvalidResourceSize');

    const before = await chain.balance(alice.toSuiAddress());
    const owned = (await chain.ownedObjects(alice.toSuiAddress())).length;
    const good = blobArgs(N, { size: 5000 });
    // Wrong derivation: the ID of another size.
    expect(await abortCode(chain.registerBlob(alice, { ...good, blobId: deriveBlobId(1, 5001, good.rootHash) }))).toBe('EInvalidBlobId');
    expect(
      await abortCode(chain.registerBlob(alice, { ...good, storage: { size: encodedBlobLength(5000, 1, N) - 1, epochsAhead: 2 } })),
    ).toBe('EResourceSize');
    expect(await abortCode(chain.registerBlob(alice, { ...good, encodingType: 2, blobId: deriveBlobId(2, 5000, good.rootHash) }))).toBe(
      'EInvalidEncodingType',
    );
    // The inline reservation was paid and rolled back with the failure.
    expect(await chain.balance(alice.toSuiAddress())).toBe(before);
    expect((await chain.ownedObjects(alice.toSuiAddress())).length).toBe(owned);

    const { storage } = await chain.reserveSpace(bob, { size: encodedBlobLength(5000, 1, N), epochsAhead: 2 });
    expect(await abortCode(chain.registerBlob(alice, { ...good, storage: storage.id }))).toBe('ENotOwner');
    expect(await abortCode(chain.registerBlob(alice, { ...good, storage: '0x' + '77'.repeat(32) }))).toBe('EObjectNotFound');
    const poor = await fundedAccount(chain, 10n);
    expect(await abortCode(chain.registerBlob(poor, good))).toBe('EInsufficientFunds');
    expect(await chain.balance(poor.toSuiAddress())).toBe(10n);
  });

  it('capacity is enforced per epoch (EStorageExceeded)', async () => {
    const s = await chain.systemState();
    expect(await abortCode(chain.reserveSpace(alice, { size: s.totalCapacitySize - s.usedCapacitySize + 1, epochsAhead: 1 }))).toBe(
      'EStorageExceeded',
    );
  });
});

describe('certifyBlob', () => {
  it('certifies with a quorum certificate of real BLS signatures, also valid for the official BLS', async () => {
    const blob = await registered();
    const msg = permanentMsg(blob);
    const signers = await signersWithWeight(chain, 7); // 3w ≥ 2n + 1 = 21
    const cert = await certificate(chain, nodes, msg, signers);
    const keys = (await chain.committee()).members
      .filter((m) => signers.includes(m.nodeId))
      .map((m) => blsPublicKeyUncompressed(m.publicKey));
    expect(officialBlsVerifyAggregate(keys, msg, cert.signature)).toBe(true);
    const fx = await chain.certifyBlob(alice, blob.id, cert);
    expect(fx.blob.certifiedEpoch).toBe(epoch);
    expect(fx.events.map((e) => e.event)).toEqual([
      {
        type: 'BlobCertified',
        epoch,
        blobId: blob.blobId,
        endEpoch: blob.storage.endEpoch,
        deletable: false,
        objectId: blob.id,
        isExtension: false,
      },
    ]);
    expect(await abortCode(chain.certifyBlob(alice, blob.id, cert))).toBe('EAlreadyCertified');
  });

  it('rejects too little weight, bad signatures, bitmaps, epochs, intents, blob IDs, persistence and object IDs', async () => {
    const blob = await registered();
    const msg = permanentMsg(blob);
    const members = (await chain.committee()).members;
    const byWeight = (w: number) => members.find((m) => m.weight === w)!.nodeId;
    // 4 + 2 = 6 < 7.
    expect(await abortCode(chain.certifyBlob(alice, blob.id, await certificate(chain, nodes, msg, [byWeight(4), byWeight(2)])))).toBe(
      'ENotEnoughStake',
    );
    const all = await certificate(chain, nodes, msg);
    // The signature of a subset under the bitmap of everyone.
    const partial = await certificate(chain, nodes, msg, [byWeight(4), byWeight(3)]);
    expect(await abortCode(chain.certifyBlob(alice, blob.id, { ...partial, signersBitmap: all.signersBitmap }))).toBe('ESigVerification');
    expect(await abortCode(chain.certifyBlob(alice, blob.id, { ...all, signersBitmap: new Uint8Array([0x0f, 0]) }))).toBe('EInvalidBitmap');
    expect(await abortCode(chain.certifyBlob(alice, blob.id, { ...all, signersBitmap: new Uint8Array([0x1f]) }))).toBe('EInvalidBitmap');
    // A different message than the one signed.
    expect(await abortCode(chain.certifyBlob(alice, blob.id, { ...all, message: permanentMsg(blob, epoch - 1) }))).toBe('ESigVerification');
    // Properly signed, but wrong epoch / intent / blob / persistence.
    const oldEpoch = await abortCode(chain.certifyBlob(alice, blob.id, await certificate(chain, nodes, permanentMsg(blob, epoch - 1))));
    expect(oldEpoch).toBe('EIncorrectEpoch');
    expect(
      await abortCode(chain.certifyBlob(alice, blob.id, await certificate(chain, nodes, invalidBlobIdMessage(epoch, blob.blobId)))),
    ).toBe('EInvalidMsgType');
    const other = await registered();
    expect(await abortCode(chain.certifyBlob(alice, blob.id, await certificate(chain, nodes, permanentMsg(other))))).toBe('EInvalidBlobId');
    expect(await abortCode(chain.certifyBlob(alice, blob.id, await certificate(chain, nodes, deletableMsg(blob))))).toBe(
      'EInvalidBlobPersistenceType',
    );
    const bad = protocolMessage(1, epoch, new Uint8Array([...blob.blobId, 7]));
    expect(await abortCode(chain.certifyBlob(alice, blob.id, await certificate(chain, nodes, bad)))).toBe('EInvalidBlobPersistenceType');
    const wrongVersion = permanentMsg(blob).slice();
    wrongVersion[1] = 1;
    expect(await abortCode(chain.certifyBlob(alice, blob.id, await certificate(chain, nodes, wrongVersion)))).toBe(
      'EIncorrectIntentVersion',
    );
    // Someone else's blob.
    expect(await abortCode(chain.certifyBlob(bob, blob.id, all))).toBe('ENotOwner');
    expect((await chain.getBlob(blob.id))!.certifiedEpoch).toBeNull();

    const del = await registered(alice, { deletable: true });
    expect(await abortCode(chain.certifyBlob(alice, del.id, await certificate(chain, nodes, permanentMsg(del))))).toBe(
      'EInvalidBlobPersistenceType',
    );
    expect(await abortCode(chain.certifyBlob(alice, del.id, await certificate(chain, nodes, deletableMsg(del, blob.id))))).toBe(
      'EInvalidBlobObject',
    );
    expect((await chain.certifyBlob(alice, del.id, await certificate(chain, nodes, deletableMsg(del)))).blob.certifiedEpoch).toBe(epoch);
  });
});

describe('extend, delete, burn, attributes, storage resources, transfers', () => {
  it('extendBlob pays storage for the extra epochs and respects the maximum', async () => {
    const blob = await certified(alice, { epochsAhead: 2 });
    const s = await chain.systemState();
    expect(await abortCode(chain.extendBlob(alice, (await registered()).id, 1))).toBe('ENotCertified');
    expect(await abortCode(chain.extendBlob(alice, blob.id, 0))).toBe('EInvalidEpochsAhead');
    expect(await abortCode(chain.extendBlob(alice, blob.id, s.maxEpochsAhead - 1))).toBe('EInvalidEpochsAhead'); // end = epoch + 2 + max − 1
    expect(await abortCode(chain.extendBlob(bob, blob.id, 1))).toBe('ENotOwner');
    const b0 = await chain.balance(alice.toSuiAddress());
    const fx = await chain.extendBlob(alice, blob.id, s.maxEpochsAhead - 2);
    expect(fx.blob.storage.endEpoch).toBe(epoch + s.maxEpochsAhead);
    expect(await chain.balance(alice.toSuiAddress())).toBe(
      b0 - s.storagePricePerUnitSize * storageUnits(blob.storage.storageSize) * BigInt(s.maxEpochsAhead - 2),
    );
    expect(fx.events.map((e) => e.event)).toEqual([
      {
        type: 'BlobCertified',
        epoch,
        blobId: blob.blobId,
        endEpoch: epoch + s.maxEpochsAhead,
        deletable: false,
        objectId: blob.id,
        isExtension: true,
      },
    ]);
  });

  it('extendBlobWithResource fuses an adjacent Storage of the same size only', async () => {
    const blob = await certified(alice, { epochsAhead: 1 });
    const size = blob.storage.storageSize;
    const { storage: long } = await chain.reserveSpace(alice, { size, epochsAhead: 3 });
    expect(await abortCode(chain.extendBlobWithResource(alice, blob.id, long.id))).toBe('EIncompatibleEpochs'); // starts now, not at the blob's end
    expect(await abortCode(chain.splitStorageByEpoch(alice, long.id, epoch))).toBe('EInvalidEpoch');
    expect(await abortCode(chain.splitStorageByEpoch(alice, long.id, epoch + 3))).toBe('EInvalidEpoch');
    const { storage: later } = await chain.splitStorageByEpoch(alice, long.id, epoch + 1);
    expect(later).toMatchObject({ startEpoch: epoch + 1, endEpoch: epoch + 3, storageSize: size });
    expect((await chain.getStorage(long.id))!.endEpoch).toBe(epoch + 1);
    const { storage: wrongSize } = await chain.reserveSpace(alice, { size: size + 1, epochsAhead: 3 });
    const { storage: wrongSizeLater } = await chain.splitStorageByEpoch(alice, wrongSize.id, epoch + 1);
    expect(await abortCode(chain.extendBlobWithResource(alice, blob.id, wrongSizeLater.id))).toBe('EIncompatibleAmount');
    expect(await abortCode(chain.extendBlobWithResource(bob, blob.id, later.id))).toBe('ENotOwner');
    const { storage: bobs } = await chain.reserveSpace(bob, { size, epochsAhead: 3 });
    const { storage: bobsLater } = await chain.splitStorageByEpoch(bob, bobs.id, epoch + 1);
    expect(await abortCode(chain.extendBlobWithResource(alice, blob.id, bobsLater.id))).toBe('ENotOwner');
    const fx = await chain.extendBlobWithResource(alice, blob.id, later.id);
    expect(fx.blob.storage).toEqual({ ...blob.storage, endEpoch: epoch + 3 });
    expect(await chain.getStorage(later.id)).toBeNull();
    expect(fx.events.map((e) => e.event)).toEqual([
      { type: 'BlobCertified', epoch, blobId: blob.blobId, endEpoch: epoch + 3, deletable: false, objectId: blob.id, isExtension: true },
    ]);
    expect(await abortCode(chain.extendBlobWithResource(alice, (await registered()).id, wrongSizeLater.id))).toBe('ENotCertified');
  });

  it('deleteBlob returns the storage (deletable only); burnBlob destroys; both owner-only', async () => {
    const perm = await certified();
    expect(await abortCode(chain.deleteBlob(alice, perm.id))).toBe('EBlobNotDeletable');
    const del = await certified(alice, { deletable: true });
    expect(await abortCode(chain.deleteBlob(bob, del.id))).toBe('ENotOwner');
    const fx = await chain.deleteBlob(alice, del.id);
    expect(fx.storage).toEqual({ ...del.storage, owner: alice.toSuiAddress() });
    expect(fx.events.map((e) => e.event)).toEqual([
      { type: 'BlobDeleted', epoch, blobId: del.blobId, endEpoch: del.storage.endEpoch, objectId: del.id, wasCertified: true },
    ]);
    expect(await chain.getBlob(del.id)).toBeNull();
    // The returned storage registers a new blob of the same size.
    const again = await chain.registerBlob(alice, blobArgs(N, { storage: fx.storage.id, deletable: true }));
    expect(again.blob.storage.id).toBe(fx.storage.id);
    const uncertified = await registered(alice, { deletable: true });
    expect((await chain.deleteBlob(alice, uncertified.id)).events[0].event).toMatchObject({ type: 'BlobDeleted', wasCertified: false });

    expect(await abortCode(chain.burnBlob(bob, perm.id))).toBe('ENotOwner');
    const burnt = await chain.burnBlob(alice, perm.id);
    expect(burnt.events).toEqual([]);
    expect(await chain.getBlob(perm.id)).toBeNull();
    expect(await abortCode(chain.burnBlob(alice, perm.id))).toBe('EObjectNotFound');
  });

  it('attributes: insert/update/remove with Move’s failure cases', async () => {
    const blob = await registered();
    expect(await abortCode(chain.removeBlobAttribute(alice, blob.id, 'k'))).toBe('EMissingMetadata');
    await chain.setBlobAttribute(alice, blob.id, 'k', 'v1');
    await chain.setBlobAttribute(alice, blob.id, 'k', 'v2');
    await chain.setBlobAttribute(alice, blob.id, '__proto__', 'x');
    expect((await chain.getBlob(blob.id))!.attributes).toEqual({ k: 'v2', ['__proto__']: 'x' });
    expect(Object.getPrototypeOf((await chain.getBlob(blob.id))!.attributes)).toBe(Object.prototype);
    expect(await abortCode(chain.removeBlobAttribute(alice, blob.id, 'nope'))).toBe('EKeyDoesNotExist');
    expect(await abortCode(chain.setBlobAttribute(bob, blob.id, 'k', 'x'))).toBe('ENotOwner');
    await chain.removeBlobAttribute(alice, blob.id, 'k');
    expect(Object.keys((await chain.getBlob(blob.id))!.attributes)).toEqual(['__proto__']);
  });

  it('splitStorage / fuseStorage follow storage_resource.move', async () => {
    const { storage: a } = await chain.reserveSpace(alice, { size: 1000, epochsAhead: 2 });
    expect(await abortCode(chain.splitStorage(alice, a.id, 1001))).toBe('EIncompatibleAmount');
    expect(await abortCode(chain.splitStorage(bob, a.id, 10))).toBe('ENotOwner');
    const { storage: rest } = await chain.splitStorage(alice, a.id, 300);
    expect((await chain.getStorage(a.id))!.storageSize).toBe(300);
    expect(rest).toMatchObject({ owner: alice.toSuiAddress(), startEpoch: a.startEpoch, endEpoch: a.endEpoch, storageSize: 700 });
    const { storage: fused } = await chain.fuseStorage(alice, a.id, rest.id);
    expect(fused).toEqual({ ...a, storageSize: 1000 });
    expect(await chain.getStorage(rest.id)).toBeNull();
    const { storage: longer } = await chain.reserveSpace(alice, { size: 1000, epochsAhead: 3 });
    expect(await abortCode(chain.fuseStorage(alice, a.id, longer.id))).toBe('EIncompatibleEpochs');
    const { storage: smaller } = await chain.reserveSpace(alice, { size: 10, epochsAhead: 2 });
    const { storage: bobs } = await chain.reserveSpace(bob, { size: 10, epochsAhead: 2 });
    expect(await abortCode(chain.fuseStorage(alice, smaller.id, bobs.id))).toBe('ENotOwner');
  });

  it('transferObject moves Blob, Storage and StakedWal to the recipient; only the owner may', async () => {
    const blob = await registered();
    expect(await abortCode(chain.transferObject(bob, blob.id, bob.toSuiAddress()))).toBe('ENotOwner');
    await chain.transferObject(alice, blob.id, bob.toSuiAddress());
    expect((await chain.getBlob(blob.id))!.owner).toBe(bob.toSuiAddress());
    expect(await abortCode(chain.setBlobAttribute(alice, blob.id, 'k', 'v'))).toBe('ENotOwner');
    await chain.setBlobAttribute(bob, blob.id, 'k', 'v');
    const { storage } = await chain.reserveSpace(alice, { size: 10, epochsAhead: 1 });
    await chain.transferObject(alice, storage.id, bob.toSuiAddress());
    expect((await chain.ownedObjects(bob.toSuiAddress())).some((o) => o.kind === 'storage' && o.object.id === storage.id)).toBe(true);
    const { stakedWal } = await chain.stake(alice, nodes[0].nodeId, 5n);
    await chain.transferObject(alice, stakedWal.id, bob.toSuiAddress());
    expect((await chain.withdrawStake(bob, stakedWal.id)).amount).toBe(5n);
    expect(await abortCode(chain.transferObject(alice, '0x' + '55'.repeat(32), bob.toSuiAddress()))).toBe('EObjectNotFound');
    await expectSupplyConserved(chain);
  });
});

describe('invalidateBlobId', () => {
  it('needs one correct node (3w ≥ n + 1), the INVALID_BLOB_ID intent and the current epoch', async () => {
    const blobId = (await registered()).blobId;
    const members = (await chain.committee()).members;
    const byWeight = (w: number) => members.find((m) => m.weight === w)!.nodeId;
    const msg = invalidBlobIdMessage(epoch, blobId);
    expect(await abortCode(chain.invalidateBlobId(bob, await certificate(chain, nodes, msg, [byWeight(3)])))).toBe('ENotEnoughStake'); // 9 < 11
    expect(
      await abortCode(
        chain.invalidateBlobId(
          bob,
          await certificate(chain, nodes, storageConfirmationMessage(epoch, blobId, { kind: 'permanent' }), [byWeight(4)]),
        ),
      ),
    ).toBe('EInvalidMsgType');
    expect(
      await abortCode(chain.invalidateBlobId(bob, await certificate(chain, nodes, invalidBlobIdMessage(epoch + 1, blobId), [byWeight(4)]))),
    ).toBe('EIncorrectEpoch');
    const fx = await chain.invalidateBlobId(bob, await certificate(chain, nodes, msg, [byWeight(4)])); // 12 ≥ 11
    expect(fx.blobId).toEqual(blobId);
    expect(fx.events.map((e) => e.event)).toEqual([{ type: 'InvalidBlobID', epoch, blobId }]);
  });
});

describe('expiry and epoch 0', () => {
  it('storage expires at its end epoch: registration, certification and deletion abort EResourceBounds', async () => {
    const { chain: c } = await openTestChain({ nShards: N });
    try {
      const ns = await setupCommittee(c, [100n, 100n, 100n, 100n]);
      const a = await fundedAccount(c);
      const e = (await c.systemState()).epoch;
      const { storage } = await c.reserveSpace(a, { size: encodedBlobLength(1000, 1, N), epochsAhead: 1 });
      const blob = (await c.registerBlob(a, blobArgs(N, { epochsAhead: 1 }))).blob;
      const del = (await c.registerBlob(a, blobArgs(N, { epochsAhead: 1, deletable: true }))).blob;
      expect(types(await c.advanceEpoch())).toContain('EpochChangeDone'); // same committee: no sync
      const now = (await c.systemState()).epoch;
      expect(now).toBeGreaterThan(e);
      expect(await abortCode(c.registerBlob(a, blobArgs(N, { storage: storage.id })))).toBe('EResourceBounds');
      const cert = await certificate(c, ns, storageConfirmationMessage(now, blob.blobId, { kind: 'permanent' }));
      expect(await abortCode(c.certifyBlob(a, blob.id, cert))).toBe('EResourceBounds');
      expect(await abortCode(c.deleteBlob(a, del.id))).toBe('EResourceBounds');
    } finally {
      await c.close();
    }
  });

  it('epoch 0 has no committee: certification aborts ENoCommittee', async () => {
    const { chain: c } = await openTestChain({ nShards: N });
    try {
      const a = await fundedAccount(c);
      const blob = (await c.registerBlob(a, blobArgs(N))).blob;
      const code = await abortCode(
        c.certifyBlob(a, blob.id, {
          signature: new Uint8Array(96),
          signersBitmap: new Uint8Array(0),
          message: storageConfirmationMessage(0, blob.blobId, { kind: 'permanent' }),
        }),
      );
      expect(code).toBe('ENoCommittee');
    } finally {
      await c.close();
    }
  });
});
