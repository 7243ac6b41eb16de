/**
 * The localnet's object rendering and PTB executor in process (a LocalChain served with the
 * `/v1/sui/…` routes, `tuskSuiClient` as the client): the official SDK parses every object and
 * prices like the chain; WAL coin arithmetic (split, merge, transfer, destroy_zero) is exact; and
 * every refusal (leftover values, non-zero destroy, the gas coin, other signature schemes, unknown
 * objects, a stale object version) applies nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChainUnavailableError } from '../../src/errors.ts';
import { WalrusClient } from '@mysten/walrus';
import { Transaction } from '@mysten/sui/transactions';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { Secp256k1Keypair } from '@mysten/sui/keypairs/secp256k1';
import type { Ed25519Keypair as Kp } from '@mysten/sui/keypairs/ed25519';
import { startChainServer, type ChainServer } from '../../src/chain/remote/server.ts';
import type { LocalChain } from '../../src/chain/local/local-chain.ts';
import { registerLocalnetRoutes, tuskSuiClient, walCoinId, type LocalnetService, type TuskSuiClient } from '../../src/api/sui.ts';
import { storageUnits } from '../../src/chain/types.ts';
import { encodedBlobLength } from '../../src/chain/local/blobs.ts';
import { computeBlobMetadata } from '../../src/index.ts';
import { EVENTS } from '../../src/chain/localnet/execute.ts';
import { fundedAccount, openTestChain, setupCommittee } from './local-helpers.ts';

let chain: LocalChain;
let server: ChainServer;
let svc: LocalnetService;
let sui: TuskSuiClient;
let walrus: WalrusClient;
let alice: Kp;

beforeAll(async () => {
  ({ chain } = await openTestChain({ nShards: 10 }));
  await setupCommittee(chain, [10n ** 12n, 2n * 10n ** 12n]);
  server = await startChainServer({
    chain,
    routes: async (app) => {
      svc = await registerLocalnetRoutes(app, chain);
    },
  });
  sui = tuskSuiClient({ url: server.url });
  const info = await sui.info();
  walrus = new WalrusClient({
    suiClient: sui,
    packageConfig: { systemObjectId: info.systemObjectId, stakingPoolId: info.stakingObjectId },
    storageNodeUrlScheme: 'http',
  });
  alice = await fundedAccount(chain, 1_000_000_000n);
});
afterAll(async () => {
  await server?.close();
  await chain?.close();
});

const walCoin = () => walCoinId(svc.ids, alice.toSuiAddress());
const run = (tx: Transaction, signer: Kp = alice) => sui.signAndExecuteTransaction({ transaction: tx, signer });

describe('localnet objects', () => {
  it('the official SDK parses System, Staking, their inner fields and the pools, and prices as the chain', async () => {
    const state = await chain.systemState();
    const sys = await walrus.systemState();
    expect(sys.committee.epoch).toBe(state.epoch);
    expect(sys.committee.n_shards).toBe(10);
    expect(sys.committee.members.map((m) => m.node_id)).toEqual(state.committee.members.map((m) => m.nodeId));
    expect(BigInt(sys.storage_price_per_unit_size)).toBe(state.storagePricePerUnitSize);
    const staking = await walrus.stakingState();
    expect(staking.epoch).toBe(state.epoch);
    expect(staking.epoch_state.$kind).toBe('EpochChangeDone');
    for (const size of [0, 1, 65_536, 1 << 20, 1_800_000]) {
      const units = storageUnits(encodedBlobLength(size, 1, 10));
      const cost = await walrus.storageCost(size, 3);
      expect(cost.storageCost).toBe(state.storagePricePerUnitSize * units * 3n);
      expect(cost.writeCost).toBe(state.writePricePerUnitSize * units);
    }
    const [pool] = (await sui.getObjects({ objectIds: [state.committee.members[0]!.nodeId], include: { content: true } })).objects;
    expect(pool).not.toBeInstanceOf(Error);
  });

  it('unknown objects and absent dynamic fields are errors, not made-up objects', async () => {
    const { objects } = await sui.getObjects({ objectIds: ['0x' + 'ab'.repeat(32)] });
    expect(objects[0]).toBeInstanceOf(Error);
    await expect(walrus.readBlobAttributes({ blobObjectId: '0x' + 'cd'.repeat(32) })).rejects.toThrow();
  });

  it('the WAL coin and the gas coin follow the account', async () => {
    const { balance } = await sui.getBalance({ owner: alice.toSuiAddress(), coinType: svc.ids.walType });
    expect(BigInt(balance.balance)).toBe(await chain.balance(alice.toSuiAddress()));
    const gas = await sui.listCoins({ owner: alice.toSuiAddress() });
    expect(gas.objects).toHaveLength(1);
    expect((await sui.listCoins({ owner: new Ed25519Keypair().toSuiAddress(), coinType: svc.ids.walType })).objects).toEqual([]);
  });
});

describe('localnet execution', () => {
  it('splits, transfers and merges WAL exactly', async () => {
    const bob = new Ed25519Keypair().toSuiAddress();
    const before = await chain.balance(alice.toSuiAddress());
    const tx = new Transaction();
    const [a, b, c] = tx.splitCoins(tx.object(walCoin()), [100, 200, 0]);
    tx.transferObjects([a!], bob);
    tx.mergeCoins(tx.object(walCoin()), [b!]);
    tx.moveCall({ target: '0x2::coin::destroy_zero', typeArguments: [svc.ids.walType], arguments: [c!] });
    const r = await sui.signAndExecuteTransaction({ transaction: tx, signer: alice, include: { balanceChanges: true } });
    expect(r.$kind).toBe('Transaction');
    expect(r.Transaction!.balanceChanges).toEqual([
      { coinType: svc.ids.walType, address: alice.toSuiAddress(), amount: '-100' },
      { coinType: svc.ids.walType, address: bob, amount: '100' },
    ]);
    expect(await chain.balance(alice.toSuiAddress())).toBe(before - 100n);
    expect(await chain.balance(bob)).toBe(100n);
    const audit = await chain.supplyAudit();
    expect(audit.balances + audit.stakedPrincipal + audit.poolRewards + audit.undistributed).toBe(audit.minted);
  });

  it('refuses leftovers, non-zero destroys, the gas coin and overdrafts, in the dry run and in execution, applying nothing', async () => {
    const before = await chain.balance(alice.toSuiAddress());
    const bob = new Ed25519Keypair().toSuiAddress();
    /** Refused by the dry run before signing (no budget set), and by execution itself (budget set). */
    const refused = async (make: () => Transaction, re: RegExp) => {
      await expect(run(make())).rejects.toThrow(new RegExp(`Transaction resolution failed.*${re.source}`));
      const tx = make();
      tx.setGasBudget(10_000_000);
      await expect(run(tx)).rejects.toThrow(re);
    };
    await refused(() => {
      const tx = new Transaction();
      const [x] = tx.splitCoins(tx.object(walCoin()), [5, 6]);
      tx.transferObjects([x!], bob);
      return tx;
    }, /EUnusedValueWithoutDrop/);
    await refused(() => {
      const tx = new Transaction();
      const [z] = tx.splitCoins(tx.object(walCoin()), [7]);
      tx.moveCall({ target: '0x2::coin::destroy_zero', typeArguments: [svc.ids.walType], arguments: [z!] });
      return tx;
    }, /ENonZero/);
    await refused(() => {
      const tx = new Transaction();
      const [g] = tx.splitCoins(tx.gas, [1]);
      tx.transferObjects([g!], bob);
      return tx;
    }, /EUnsupportedCommand.*gas coin/);
    await refused(() => {
      const tx = new Transaction();
      const [w] = tx.splitCoins(tx.object(walCoin()), [before + 1n]);
      tx.transferObjects([w!], bob);
      return tx;
    }, /EInsufficientCoinBalance/);
    expect(await chain.balance(alice.toSuiAddress())).toBe(before);
    expect(await chain.balance(bob)).toBe(0n);
  });

  it('refuses signature schemes other than Ed25519 and transactions on stale objects', async () => {
    const k1 = new Secp256k1Keypair();
    await chain.requestFaucet(k1.toSuiAddress(), 1000n);
    const tx = new Transaction();
    const [a] = tx.splitCoins(tx.object(walCoinId(svc.ids, k1.toSuiAddress())), [1]);
    tx.transferObjects([a!], alice.toSuiAddress());
    tx.setSender(k1.toSuiAddress());
    const bytes = await tx.build({ client: sui });
    const { signature } = await k1.signTransaction(bytes);
    await expect(sui.executeTransaction({ transaction: bytes, signatures: [signature] })).rejects.toThrow(/EInvalidSignature.*Ed25519/);
    expect(await chain.balance(k1.toSuiAddress())).toBe(1000n);

    // Two transfers built on the same versions: the second is stale once the first ran.
    const build = async (amount: number) => {
      const t = new Transaction();
      const [c] = t.splitCoins(t.object(walCoin()), [amount]);
      t.transferObjects([c!], alice.toSuiAddress());
      t.setSender(alice.toSuiAddress());
      return t.build({ client: sui });
    };
    const first = await build(1);
    const second = await build(2);
    await sui.executeTransaction({ transaction: first, signatures: [(await alice.signTransaction(first)).signature] });
    await expect(
      sui.executeTransaction({ transaction: second, signatures: [(await alice.signTransaction(second)).signature] }),
    ).rejects.toThrow(/EObjectVersionUnavailable/);
  });

  it('reports created objects and Walrus events for a register', async () => {
    const tx = walrus.createStorageTransaction({ size: 1000, epochs: 2, owner: alice.toSuiAddress() });
    const r = await sui.signAndExecuteTransaction({ transaction: tx, signer: alice, include: { effects: true } });
    const created = r.Transaction!.effects!.changedObjects.filter((c) => c.idOperation === 'Created');
    expect(created).toHaveLength(1);
    expect(await chain.getStorage(created[0]!.objectId)).not.toBeNull();
    const again = await sui.getTransaction({ digest: r.Transaction!.digest, include: { effects: true } });
    expect(again.Transaction!.effects!.changedObjects).toEqual(r.Transaction!.effects!.changedObjects);

    const data = new TextEncoder().encode('registered through the SDK');
    const meta = computeBlobMetadata(data, { nShards: 10 });
    const reg = walrus.registerBlobTransaction({
      size: data.length,
      epochs: 2,
      blobId: meta.blobIdString,
      rootHash: meta.rootHash,
      deletable: true,
      owner: alice.toSuiAddress(),
    });
    const rr = await sui.signAndExecuteTransaction({ transaction: reg, signer: alice, include: { effects: true, events: true } });
    const blobId = rr.Transaction!.effects!.changedObjects.find((c) => c.idOperation === 'Created')!.objectId;
    expect(rr.Transaction!.objectTypes![blobId]).toBe(`${svc.ids.walrusPackage}::blob::Blob`);
    const [ev] = rr.Transaction!.events!;
    expect(ev!.eventType).toBe(`${svc.ids.walrusPackage}::events::BlobRegistered`);
    const parsed = EVENTS.BlobRegistered.parse(ev!.bcs);
    expect(parsed.object_id).toBe(blobId);
    expect(BigInt(parsed.size)).toBe(BigInt(data.length));
    expect((await chain.getBlob(blobId))!.blobId).toEqual(meta.blobId);
  });
});

describe('localnet execution, fuzzed', () => {
  const RUNS = Number(process.env.TUSK_FUZZ_RUNS) || (process.env.TUSK_SLOW ? 100_000 : 150);

  it('random and mutated transaction bytes are refused as aborts (never a server error), applying nothing', async () => {
    const address = alice.toSuiAddress();
    const tx = new Transaction();
    const [c] = tx.splitCoins(tx.object(walCoin()), [1]);
    tx.transferObjects([c!], new Ed25519Keypair().toSuiAddress());
    tx.setSender(address);
    tx.setGasBudget(10_000_000);
    const valid = await tx.build({ client: sui });
    const before = await chain.balance(address);
    const audit = await chain.supplyAudit();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => valid.map((b, j) => (j === i ? b ^ x : b))),
          fc.nat(valid.length - 1).map((n) => valid.slice(0, n)),
        ),
        async (bytes) => {
          const { signature } = await alice.signTransaction(bytes);
          try {
            await sui.executeTransaction({ transaction: bytes, signatures: [signature] });
          } catch (e) {
            expect(e).not.toBeInstanceOf(ChainUnavailableError); // a 500 would be a bug
            return;
          }
          // A mutation can still be a valid transaction (e.g. another amount): it must then be exact.
        },
      ),
      { numRuns: RUNS },
    );
    const after = await chain.supplyAudit();
    expect(after.minted).toBe(audit.minted);
    expect(after.balances + after.stakedPrincipal + after.poolRewards + after.undistributed).toBe(after.minted);
    expect(await chain.balance(address)).toBeLessThanOrEqual(before);
  });

  it('malformed route bodies are input errors', async () => {
    for (const [path, body] of [
      ['/v1/sui/objects', { objectIds: 'x' }],
      ['/v1/sui/objects', { objectIds: ['0xzz'] }],
      ['/v1/sui/transactions', { bytes: 'x', signatures: [] }],
      ['/v1/sui/dynamic-field', { parentId: '0x1' }],
      ['/v1/sui/simulate', {}],
    ] as const) {
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, path).toBe(400);
      expect((await res.json()).error.kind).toBe('input');
    }
    expect((await fetch(`${server.url}/v1/sui/transactions/notadigest`)).status).toBe(400);
    expect((await fetch(`${server.url}/v1/sui/transactions/${'1'.repeat(44)}`)).status).toBe(404);
  });
});
