/**
 * A full store and read through `SuiChain` with no Sui network: the fake CoreClient serves a
 * Walrus fixture generated from a real Tusk network (4 storage-node processes on loopback, 20
 * shards) — its committee, node IDs, BLS keys, addresses, epoch and prices — and "executes" the
 * PTBs SuiChain builds by decoding them and applying their walrus calls to that network's chain:
 * register_blob registers the same blob there (so the real nodes accept its slivers and sign
 * confirmations for the same Blob object ID), and certify_blob hands the certificate from the PTB
 * to Tusk's Move rules, which verify the aggregate BLS signature against the committee. What the
 * fake does not model: WAL and gas balances (no coin is debited).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { bcs } from '@mysten/sui/bcs';
import { fromBase64 } from '@mysten/sui/utils';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { startDevNetwork, type DevNetwork } from '../../src/network/dev-network.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { loadWallet } from '../../src/client/client-config.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { readBlob } from '../../src/client/read-blob.ts';
import { SuiChain } from '../../src/chain/sui/index.ts';
import * as M from '../../src/chain/sui/move-bcs.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { PINNED_GAS, STAKING_ID, SuiFixture, SYSTEM_ID, ORIG_PKG } from './sui-fixture.ts';

const N_SHARDS = 20;
let net: DevNetwork;
let dir: string;
let local: RemoteChain;
let wallet: Ed25519Keypair;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tusk-sui-store-'));
  net = await startDevNetwork({ dataDir: dir, nodes: 4, nShards: N_SHARDS });
  local = new RemoteChain({ url: net.chainUrl });
  wallet = await loadWallet(join(dir, 'wallet.key'));
}, 180_000);

afterAll(async () => {
  await net?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

type Arg = { $kind: string; Input?: number; Result?: number; NestedResult?: [number, number] };

/** Decodes a PTB and applies its walrus calls to the local chain (see the file header). */
function executorFor(fx: SuiFixture) {
  return async (bytes: Uint8Array): Promise<string[]> => {
    const ptb = bcs.TransactionData.parse(bytes).V1!.kind.ProgrammableTransaction!;
    const pure = (a: Arg) => {
      const input = ptb.inputs[a.Input!]!;
      const b = input.Pure!.bytes as unknown;
      return typeof b === 'string' ? fromBase64(b) : Uint8Array.from(b as number[]);
    };
    const objectId = (a: Arg) => ptb.inputs[a.Input!]!.Object!.ImmOrOwnedObject!.objectId;
    const calls = ptb.commands.flatMap((c) => (c.MoveCall ? [c.MoveCall] : []));
    const reserve = calls.find((c) => c.function === 'reserve_space');
    const register = calls.find((c) => c.function === 'register_blob');
    const certify = calls.find((c) => c.function === 'certify_blob');
    if (register && reserve) {
      const [, , blobId, root, size, enc, del] = register.arguments as Arg[];
      const [, storageSize, epochs] = reserve.arguments as Arg[];
      const res = await local.registerBlob(wallet, {
        storage: { size: Number(bcs.u64().parse(pure(storageSize!))), epochsAhead: bcs.u32().parse(pure(epochs!)) },
        blobId: pure(blobId!),
        rootHash: pure(root!),
        size: Number(bcs.u64().parse(pure(size!))),
        encodingType: bcs.u8().parse(pure(enc!)),
        deletable: bcs.bool().parse(pure(del!)),
      });
      const b = res.blob;
      fx.putBlob({
        id: b.id,
        blobId: M.u256FromBytes(b.blobId),
        size: BigInt(b.size),
        storageSize: BigInt(b.storage.storageSize),
        start: b.storage.startEpoch,
        end: b.storage.endEpoch,
        deletable: b.deletable,
      });
      return [b.id];
    }
    if (certify) {
      const [, blob, sig, bitmap, msg] = certify.arguments as Arg[];
      const id = objectId(blob!);
      const bytesOf = (a: Arg) => Uint8Array.from(bcs.vector(bcs.u8()).parse(pure(a)));
      const res = await local.certifyBlob(wallet, id, {
        signature: bytesOf(sig!),
        signersBitmap: bytesOf(bitmap!),
        message: bytesOf(msg!),
      });
      const b = res.blob;
      fx.putBlob({
        id,
        blobId: M.u256FromBytes(b.blobId),
        size: BigInt(b.size),
        storageSize: BigInt(b.storage.storageSize),
        start: b.storage.startEpoch,
        end: b.storage.endEpoch,
        deletable: b.deletable,
        certified: b.certifiedEpoch,
      });
      return [];
    }
    throw new Error(`fixture executor: unsupported PTB (${calls.map((c) => c.function).join(', ')})`);
  };
}

describe('store and read through SuiChain (fake Sui, real Tusk storage nodes)', () => {
  it('register → upload → confirmations → certify, then read back', async () => {
    const state = await local.systemState();
    const fx = new SuiFixture({
      nShards: state.nShards,
      epoch: state.epoch,
      storagePrice: state.storagePricePerUnitSize,
      writePrice: state.writePricePerUnitSize,
      nodes: state.committee.members.map((m) => ({
        id: m.nodeId,
        shards: m.shards,
        address: m.networkAddress,
        publicKey: m.publicKey,
        name: m.name,
      })),
      owner: wallet.toSuiAddress(),
    });
    const client = fx.client();
    client.executor = executorFor(fx);
    const chain = new SuiChain({
      client,
      systemObjectId: SYSTEM_ID,
      stakingObjectId: STAKING_ID,
      gas: PINNED_GAS,
      owner: wallet.toSuiAddress(),
    });
    // the Sui view of the committee is the real network's
    const sui = await chain.systemState();
    expect(sui.committee.members.map((m) => [m.nodeId, m.networkAddress, Buffer.from(m.publicKey).toString('hex')])).toEqual(
      state.committee.members.map((m) => [m.nodeId, m.networkAddress, Buffer.from(m.publicKey).toString('hex')]),
    );

    const data = randomBytes(200_000, 14);
    const stored = await storeBlob(data, { chain, signer: wallet, epochs: 2 });
    const summary = await stored.background;
    expect(summary.confirmedNodes).toBeGreaterThanOrEqual(3);
    // certified on the Sui side (the fake Blob object) and by Tusk's Move rules
    const blob = await chain.getBlob(stored.blobObjectId);
    expect(blob?.certifiedEpoch).toBe(state.epoch);
    expect(fx.objects.get(stored.blobObjectId)?.type).toBe(`${ORIG_PKG}::blob::Blob`);
    expect((await local.getBlob(stored.blobObjectId))?.certifiedEpoch).toBe(state.epoch);

    const back = await readBlob(stored.blobId, { chain });
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));

    // storing again finds the Blob among the wallet's Sui objects and reuses it
    const again = await storeBlob(data, { chain, signer: wallet, epochs: 2 });
    expect(again.reused).toBe(true);
    await again.background;
  });
});
