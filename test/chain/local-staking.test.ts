/**
 * LocalChain staking and epochs: D'Hondt apportionment (expected allocations of the walrus Move
 * test suite), shard transitions, price/capacity votes, node registration with proofs of
 * possession, stake lifecycle, epoch sync, rewards and the supply invariant.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import {
  dhondt,
  maxShardsPerNode,
  quorumAbove,
  quorumBelow,
  transitionAssignment,
  initialAssignment,
  type LocalChain,
} from '../../src/chain/local/index.ts';
import { FROST_PER_WAL, type ChainEvent } from '../../src/chain/types.ts';
import { ChainAbortError } from '../../src/errors.ts';
import { blsPublicKeyUncompressed, blsSign, generateBlsKeyPair } from '../../src/crypto/bls.ts';
import { proofOfPossessionMessage } from '../../src/protocol/messages.ts';
import { officialBlsVerify } from '../helpers/official.ts';
import { encodedBlobLength, storageUnits } from '../../src/chain/local/blobs.ts';
import {
  abortCode,
  blobArgs,
  expectSupplyConserved,
  fundedAccount,
  openTestChain,
  registerTestNode,
  setupCommittee,
} from './local-helpers.ts';

const WAL = FROST_PER_WAL;
const big = (xs: number[]) => xs.map(BigInt);
const prio = (n: number) => Array.from({ length: n }, (_, i) => n - i);
/** Move's pub_dhondt: priorities n…1 in input order. */
const apportion = (n: number, stake: number[] | bigint[]) =>
  dhondt(
    prio(stake.length),
    n,
    stake.map((s) => BigInt(s)),
  );

describe("D'Hondt apportionment (Move staking_inner_tests vectors)", () => {
  it('basic, even and uneven stake', () => {
    expect(apportion(4, [25000, 25000, 25000, 25000])).toEqual([1, 1, 1, 1]);
    expect(apportion(778, [25000, 25000, 25000, 25000])).toEqual([195, 195, 194, 194]);
    expect(apportion(1000, [25000, 25000, 25000, 25000])).toEqual([250, 250, 250, 250]);
    expect(apportion(4, [50000, 30000, 15000, 5000])).toEqual([2, 2, 0, 0]);
    expect(apportion(777, [50000, 30000, 15000, 5000])).toEqual([389, 234, 116, 38]);
    expect(apportion(1000, [50000, 30000, 15000, 5000])).toEqual([500, 300, 150, 50]);
    expect(apportion(777, [50000, 50000, 30000, 15000, 15000, 5000])).toEqual([236, 236, 142, 70, 70, 23]);
    expect(apportion(1000, [50000, 50000, 30000, 15000, 15000, 5000])).toEqual([303, 303, 182, 91, 91, 30]);
  });
  it('ties go to the higher priority (earlier node); n not divisible', () => {
    expect(apportion(7, [25000, 25000, 25000, 25000])).toEqual([2, 2, 2, 1]);
    expect(apportion(6, [25000, 25000, 25000, 25000])).toEqual([2, 2, 1, 1]);
    expect(apportion(7, [200, 200, 200, 100])).toEqual([2, 2, 2, 1]);
    expect(apportion(9, [200, 200, 200, 100, 100, 100])).toEqual([2, 2, 2, 1, 1, 1]);
    expect(apportion(18, [780_000, 650_000, 520_000, 390_000, 260_000])).toEqual([6, 5, 4, 2, 1]);
    // Reversed priorities flip who wins a tie.
    expect(dhondt([1, 2, 3, 4], 7, big([25000, 25000, 25000, 25000]))).toEqual([1, 2, 2, 2]);
  });
  it('edge cases: no shards, tiny and nearly equal stakes, large stakes, no stake', () => {
    expect(apportion(0, [100, 90, 80])).toEqual([0, 0, 0]);
    expect(apportion(5, [1, 0, 0])).toEqual([4, 1, 0]);
    expect(apportion(3, [1_000_000, 999_999])).toEqual([2, 1]);
    expect(apportion(500, [1_000_000_000_000, 900_000_000_000, 100_000_000_000])).toEqual([250, 225, 25]);
    expect(() => apportion(0, [0, 0, 0])).toThrow(expect.objectContaining({ code: 'ENoStake' }));
  });
  it('the per-node cap: n/10 from 20 nodes on, no effective cap below', () => {
    expect(apportion(1000, [600, 100, 200, 100])).toEqual([500, 125, 250, 125]);
    const stakes = Array.from({ length: 21 }, (_, i) => (i === 5 ? 200 : 20));
    expect(apportion(1000, stakes)).toEqual(Array.from({ length: 21 }, (_, i) => (i === 5 ? 100 : 45)));
    expect(maxShardsPerNode(20, 1000)).toBe(100);
    expect(maxShardsPerNode(19, 1000)).toBe(106); // ⌈20 000 / 190⌉
    expect(maxShardsPerNode(1, 10)).toBe(20);
    // 1000 nodes, 10 % of them holding almost all stake: exactly those 100 get shards, all 1000 are handed out.
    const bp = Array.from({ length: 1000 }, (_, i) => (i < 50 ? 125n : i < 90 ? 60n : i < 100 ? 45n : 1n));
    const total = 10_000_000_000_000_000_000n;
    const alloc = apportion(
      1000,
      bp.map((b) => (b * total) / 10_000n),
    );
    expect(alloc.filter((x) => x > 0).length).toBe(100);
    expect(alloc.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Math.max(...alloc)).toBeLessThanOrEqual(100);
  });
});

describe('shard assignment and votes', () => {
  it('initial assignment hands out shards in node-ID order', () => {
    const a = initialAssignment(
      new Map([
        ['0xb', 2],
        ['0xa', 3],
      ]),
    );
    expect(a.get('0xa')).toEqual([0, 1, 2]);
    expect(a.get('0xb')).toEqual([3, 4]);
  });
  it('transitions keep shards in place and move only the surplus', () => {
    const old = new Map([
      ['0xa', [0, 1, 2]],
      ['0xb', [3, 4]],
      ['0xc', [5]],
    ]);
    const next = transitionAssignment(
      old,
      new Map([
        ['0xa', 2],
        ['0xb', 2],
        ['0xc', 2],
      ]),
    );
    expect(next.get('0xa')).toEqual([0, 1]);
    expect(next.get('0xb')).toEqual([3, 4]);
    expect(next.get('0xc')).toEqual([5, 2]);
    // A node leaving gives all its shards to a joining one.
    const next2 = transitionAssignment(
      old,
      new Map([
        ['0xa', 3],
        ['0xb', 2],
        ['0xd', 1],
      ]),
    );
    expect(next2.get('0xd')).toEqual([5]);
    expect(next2.has('0xc')).toBe(false);
    expect(() => transitionAssignment(old, new Map([['0xa', 7]]))).toThrow(ChainAbortError);
  });
  it('quorum_below / quorum_above pick the values a shard quorum supports', () => {
    const votes = [
      { value: 10n, weight: 4 },
      { value: 30n, weight: 3 },
      { value: 20n, weight: 2 },
      { value: 40n, weight: 1 },
    ];
    // n = 10, quorum = 7: dropping the highest votes (40:1, 30:3) leaves 6 < 7 → 30.
    expect(quorumBelow(votes, 10)).toBe(30n);
    // From the top: 40 (1), 30 (4), 20 (6), 10 (10) → first quorum at 10.
    expect(quorumAbove(votes, 10)).toBe(10n);
    expect(
      quorumAbove(
        [
          { value: 5n, weight: 7 },
          { value: 9n, weight: 3 },
        ],
        10,
      ),
    ).toBe(5n);
  });
});

let chain: LocalChain | undefined;
afterEach(async () => {
  await chain?.close();
  chain = undefined;
});

describe('node registration', () => {
  it('proofOfPossessionMessage has the Move layout; the PoP also verifies with the official BLS', () => {
    const bls = generateBlsKeyPair(new Uint8Array(32).fill(7));
    const address = '0x' + '11'.repeat(32);
    const msg = proofOfPossessionMessage(5, address, bls.publicKey);
    expect(msg.length).toBe(87);
    expect([...msg.subarray(0, 7)]).toEqual([0, 0, 3, 5, 0, 0, 0]);
    expect(Buffer.from(msg.subarray(7, 39)).toString('hex')).toBe('11'.repeat(32));
    expect(msg.subarray(39)).toEqual(bls.publicKey);
    const pop = blsSign(bls.secretKey, msg);
    expect(officialBlsVerify(pop, blsPublicKeyUncompressed(bls.publicKey), msg)).toBe(true);
    expect(() => proofOfPossessionMessage(5, address, bls.publicKey.subarray(1))).toThrow(/48 bytes/);
    expect(() => proofOfPossessionMessage(5, '0x12', bls.publicKey)).toThrow(/Sui address/);
  });

  it('accepts a valid PoP and rejects PoPs for another sender or epoch, bad keys, names, commissions', async () => {
    ({ chain } = await openTestChain());
    const node = await registerTestNode(chain, 'good');
    const info = (await chain.getNode(node.nodeId))!;
    expect(info.operator).toBe(node.operator.toSuiAddress());
    expect(info.publicKey).toEqual(node.bls.publicKey);
    expect((await chain.ownedObjects(node.operator.toSuiAddress())).some((o) => o.kind === 'nodeCap' && o.nodeId === node.nodeId)).toBe(
      true,
    );

    const op = await fundedAccount(chain);
    const bls = generateBlsKeyPair();
    const base = {
      name: 'n',
      networkAddress: '127.0.0.1:1',
      publicKey: bls.publicKey,
      commissionRateBps: 0,
      storagePriceVote: 1n,
      writePriceVote: 1n,
      capacityVote: 1,
    };
    const other = new Ed25519Keypair().toSuiAddress();
    expect(
      await abortCode(
        chain.registerNode(op, { ...base, proofOfPossession: blsSign(bls.secretKey, proofOfPossessionMessage(0, other, bls.publicKey)) }),
      ),
    ).toBe('EInvalidProofOfPossession');
    expect(
      await abortCode(
        chain.registerNode(op, {
          ...base,
          proofOfPossession: blsSign(bls.secretKey, proofOfPossessionMessage(1, op.toSuiAddress(), bls.publicKey)),
        }),
      ),
    ).toBe('EInvalidProofOfPossession');
    const pop = blsSign(bls.secretKey, proofOfPossessionMessage(0, op.toSuiAddress(), bls.publicKey));
    expect(
      await abortCode(chain.registerNode(op, { ...base, proofOfPossession: pop, publicKey: blsPublicKeyUncompressed(bls.publicKey) })),
    ).toBe('EInvalidKeyLength');
    expect(await abortCode(chain.registerNode(op, { ...base, proofOfPossession: pop, commissionRateBps: 10_001 }))).toBe(
      'EIncorrectCommissionRate',
    );
    expect(await abortCode(chain.registerNode(op, { ...base, proofOfPossession: pop, name: 'x'.repeat(101) }))).toBe('EInvalidNameLength');
    expect(await abortCode(chain.registerNode(op, { ...base, proofOfPossession: pop, networkAddress: 'x'.repeat(260) }))).toBe(
      'EInvalidNetworkAddressLength',
    );
    expect((await chain.nodes()).length).toBe(1);
    // Only the operator updates the node.
    expect(await abortCode(chain.updateNode(op, node.nodeId, { storagePriceVote: 5n }))).toBe('ENotOwner');
    await chain.updateNode(node.operator, node.nodeId, { storagePriceVote: 5n, networkAddress: 'example.org:443' });
    expect((await chain.getNode(node.nodeId))!.storagePriceVote).toBe(5n);
    expect((await chain.getNode(node.nodeId))!.networkAddress).toBe('example.org:443');
  });
});

function eventsOf(effects: { events: readonly { event: ChainEvent }[] }, type: ChainEvent['type']): ChainEvent[] {
  return effects.events.map((e) => e.event).filter((e) => e.type === type);
}

describe('committees and epoch changes', () => {
  it('epoch 0 → 1 forms the committee by stake, in node-ID order, with sequential shards and voted parameters', async () => {
    ({ chain } = await openTestChain());
    expect((await chain.committee(0)).members).toEqual([]);
    const nodes = [];
    const votes = [
      [300n, 30n, 5000],
      [100n, 10n, 1000],
      [200n, 20n, 3000],
      [400n, 40n, 9000],
    ] as const;
    for (let i = 0; i < 4; i++) {
      const n = await registerTestNode(chain, `n${i}`, { storagePrice: votes[i][0], writePrice: votes[i][1], capacity: votes[i][2] });
      await chain.stake(n.operator, n.nodeId, BigInt(4 - i) * 100n * WAL); // 4:3:2:1
      nodes.push(n);
    }
    const fx = await chain.advanceEpoch();
    expect(fx.epoch).toBe(1);
    const state = await chain.systemState();
    expect(state.epoch).toBe(1);
    expect(state.epochState).toBe('active'); // first assignment: nothing to sync
    const members = state.committee.members;
    expect(members.map((m) => m.nodeId)).toEqual([...members.map((m) => m.nodeId)].sort());
    const weightOf = (id: string) => members.find((m) => m.nodeId === id)!.weight;
    expect(nodes.map((n) => weightOf(n.nodeId))).toEqual([4, 3, 2, 1]);
    expect(members.flatMap((m) => m.shards)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const start = eventsOf(fx, 'EpochChangeStart')[0] as Extract<ChainEvent, { type: 'EpochChangeStart' }>;
    expect(start.shardMoves.length).toBe(10);
    expect(start.shardMoves.every((m) => m.from === null)).toBe(true);
    expect(eventsOf(fx, 'EpochChangeDone')).toEqual([{ type: 'EpochChangeDone', epoch: 1 }]);
    // Storage price: drop the highest votes while a quorum (7 of 10) remains: 400 (1) → 9 left, 300 (4) → 5 < 7 → 300.
    expect(state.storagePricePerUnitSize).toBe(300n);
    expect(state.writePricePerUnitSize).toBe(30n);
    // Capacity votes scale by n/weight: 5000·10/4 = 12500, 1000·10/3 = 3333, 3000·10/2 = 15000, 9000·10/1 = 90000;
    // from the top 90000 (1), 15000 (3), 12500 (7) → 12500.
    expect(state.totalCapacitySize).toBe(12500);
    expect((await chain.committee(0)).members).toEqual([]);
    await expect(chain.committee(2)).rejects.toThrow(/no committee for epoch 2/);
  });

  it('stake changes move shards: changeSync until a quorum reports epochSyncDone; shards stay in place where possible', async () => {
    ({ chain } = await openTestChain());
    const nodes = await setupCommittee(chain, [400n * WAL, 300n * WAL, 200n * WAL, 100n * WAL]);
    const before = await chain.committee(1);
    // The smallest node grows to the largest stake: 400:300:200:700 → D'Hondt quotients
    // 700 400 350 300 233 200 200 175 150 140 → 2, 2, 1, 5 shards.
    await chain.stake(nodes[3].operator, nodes[3].nodeId, 600n * WAL);
    const fx = await chain.advanceEpoch();
    const after = await chain.committee(2);
    const w = (c: typeof after, id: string) => c.members.find((m) => m.nodeId === id)!;
    expect(nodes.map((n) => w(after, n.nodeId).weight)).toEqual([2, 2, 1, 5]);
    for (const n of nodes.slice(0, 3)) {
      // Shrinking nodes keep a subset of their old shards.
      for (const s of w(after, n.nodeId).shards) expect(w(before, n.nodeId).shards).toContain(s);
    }
    const start = eventsOf(fx, 'EpochChangeStart')[0] as Extract<ChainEvent, { type: 'EpochChangeStart' }>;
    expect(start.shardMoves.length).toBe(4);
    expect(start.shardMoves.every((m) => m.to === nodes[3].nodeId && m.from !== null)).toBe(true);
    expect((await chain.systemState()).epochState).toBe('changeSync');
    expect(await abortCode(chain.advanceEpoch())).toBe('EWrongEpochState');

    expect(await abortCode(chain.epochSyncDone(nodes[1].operator, nodes[0].nodeId, 2))).toBe('ENotOwner');
    expect(await abortCode(chain.epochSyncDone(nodes[0].operator, nodes[0].nodeId, 1))).toBe('EInvalidSyncEpoch');
    const a = await chain.epochSyncDone(nodes[3].operator, nodes[3].nodeId, 2); // weight 5
    expect(eventsOf(a, 'ShardsReceived')).toEqual([
      { type: 'ShardsReceived', epoch: 2, nodeId: nodes[3].nodeId, shards: w(after, nodes[3].nodeId).shards },
    ]);
    expect(await abortCode(chain.epochSyncDone(nodes[3].operator, nodes[3].nodeId, 2))).toBe('EDuplicateSyncDone');
    const b = await chain.epochSyncDone(nodes[2].operator, nodes[2].nodeId, 2); // 6 < 7
    expect(eventsOf(b, 'EpochChangeDone')).toEqual([]);
    const c = await chain.epochSyncDone(nodes[1].operator, nodes[1].nodeId, 2); // 8 ≥ 7: quorum
    expect(eventsOf(c, 'EpochChangeDone')).toEqual([{ type: 'EpochChangeDone', epoch: 2 }]);
    expect((await chain.systemState()).epochState).toBe('active');
    expect((await chain.advanceEpoch()).epoch).toBe(3);
  });

  it('the committee keeps at most maxCommitteeSize members: the largest stakes', async () => {
    ({ chain } = await openTestChain({ maxCommitteeSize: 2 }));
    const ns = [];
    for (const st of [100n, 300n, 200n]) {
      const n = await registerTestNode(chain, `s${st}`);
      await chain.stake(n.operator, n.nodeId, st * WAL);
      ns.push(n);
    }
    await chain.advanceEpoch();
    const ids = (await chain.committee()).members.map((m) => m.nodeId);
    expect(ids).toEqual([ns[1].nodeId, ns[2].nodeId].sort());
    expect((await chain.committee()).members.map((m) => m.weight).reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('a non-member cannot report sync; with no stake left the committee cannot become empty', async () => {
    ({ chain } = await openTestChain());
    const [n0] = await setupCommittee(chain, [100n * WAL]);
    const outsider = await registerTestNode(chain, 'outsider');
    expect(await abortCode(chain.epochSyncDone(outsider.operator, outsider.nodeId, 1))).toBe('ENotInCommittee');
    const sw = (await chain.ownedObjects(n0.operator.toSuiAddress())).find((o) => o.kind === 'stakedWal')!;
    if (sw.kind !== 'stakedWal') throw new Error('unreachable');
    await chain.requestWithdrawStake(n0.operator, sw.object.id);
    expect(await abortCode(chain.advanceEpoch())).toBe('ENoStake');
  });
});

describe('staking lifecycle and rewards', () => {
  it('stake activates next epoch; early withdrawal is direct; active stake needs a request; rewards are paid', async () => {
    ({ chain } = await openTestChain({ storagePrice: 1000n, writePrice: 100n }));
    const nodes = await setupCommittee(chain, [400n * WAL, 300n * WAL, 200n * WAL, 100n * WAL]);
    const alice = await fundedAccount(chain);
    const bob = await fundedAccount(chain);
    expect(await abortCode(chain.stake(alice, nodes[0].nodeId, 0n))).toBe('EZeroStake');
    expect(await abortCode(chain.stake(alice, '0x' + '99'.repeat(32), 5n))).toBe('EPoolNotFound');

    // Pending stake (epoch 1, activates at 2): request aborts, direct withdrawal returns the principal.
    const b0 = await chain.balance(alice.toSuiAddress());
    const { stakedWal: early } = await chain.stake(alice, nodes[0].nodeId, 50n * WAL);
    expect(early.activationEpoch).toBe(2);
    expect(await chain.balance(alice.toSuiAddress())).toBe(b0 - 50n * WAL);
    expect(await abortCode(chain.requestWithdrawStake(alice, early.id))).toBe('EWithdrawDirectly');
    expect(await abortCode(chain.withdrawStake(bob, early.id))).toBe('ENotOwner');
    expect((await chain.withdrawStake(alice, early.id)).amount).toBe(50n * WAL);
    expect(await chain.balance(alice.toSuiAddress())).toBe(b0);

    // A delegation that earns: stake now, active in epoch 2.
    const { stakedWal } = await chain.stake(alice, nodes[0].nodeId, 400n * WAL);
    await chain.advanceEpoch(); // → 2 (stakes double for node 0: shards move)
    await syncAll(chain, nodes);
    // Storage paid for epochs 2, 3, 4 makes epoch 2's committee earn.
    const writer = await fundedAccount(chain);
    await chain.registerBlob(writer, blobArgs(10, { size: 1_000_000, epochsAhead: 3 }));
    await expectSupplyConserved(chain);
    expect(await abortCode(chain.withdrawStake(alice, stakedWal.id))).toBe('ENotWithdrawing');
    const fx = await chain.advanceEpoch(); // → 3: rewards of epoch 2
    await syncAll(chain, nodes);
    const rewards = eventsOf(fx, 'RewardsDistributed') as Extract<ChainEvent, { type: 'RewardsDistributed' }>[];
    expect(rewards.map((r) => r.nodeId)).toEqual((await chain.committee(2)).members.map((m) => m.nodeId));
    expect(rewards.every((r) => r.amount > 0n)).toBe(true);
    const node0 = (await chain.getNode(nodes[0].nodeId))!;
    expect(node0.commission).toBeGreaterThan(0n); // 10 % commission, paid to the operator
    await expectSupplyConserved(chain);

    const { stakedWal: requested } = await chain.requestWithdrawStake(alice, stakedWal.id);
    expect(requested.withdrawableEpoch).toBe(4);
    expect(await abortCode(chain.requestWithdrawStake(alice, stakedWal.id))).toBe('ENotStaked');
    expect(await abortCode(chain.withdrawStake(alice, stakedWal.id))).toBe('EWithdrawEpochNotReached');
    await chain.advanceEpoch(); // → 4: rewards of epoch 3 too
    await syncAll(chain, nodes);
    const b1 = await chain.balance(alice.toSuiAddress());
    const { amount } = await chain.withdrawStake(alice, stakedWal.id);
    expect(amount).toBeGreaterThan(400n * WAL);
    expect(await chain.balance(alice.toSuiAddress())).toBe(b1 + amount);
    expect(await chain.getStakedWal(stakedWal.id)).toBeNull();
    await expectSupplyConserved(chain);
  });

  it('rewards are ∝ shards; withheld rewards (penalty hook) roll forward; the supply is conserved', async () => {
    ({ chain } = await openTestChain({ storagePrice: 1_000_000n, writePrice: 0n }));
    const nodes = await setupCommittee(chain, [400n * WAL, 300n * WAL, 200n * WAL, 100n * WAL]);
    const writer = await fundedAccount(chain);
    const st = await chain.systemState();
    const units = storageUnits(encodedBlobLength(1_500_000, 1, 10));
    const epoch1 = st.storagePricePerUnitSize * units + st.writePricePerUnitSize * units; // storage + write price
    const epoch2 = st.storagePricePerUnitSize * units;
    const w0 = await chain.balance(writer.toSuiAddress());
    await chain.registerBlob(writer, blobArgs(10, { size: 1_500_000, epochsAhead: 2 }));
    expect(await chain.balance(writer.toSuiAddress())).toBe(w0 - epoch1 - epoch2);
    await chain.setRewardWithholding(nodes[1].nodeId, 1, 10_000); // node 1 loses all of epoch 1's reward
    await expect(chain.setRewardWithholding(nodes[1].nodeId, 0, 1)).rejects.toThrow(/current epoch/);
    await expect(chain.setRewardWithholding(nodes[1].nodeId, 1, 10_001)).rejects.toThrow(/bps/);
    expect((await chain.supplyAudit()).undistributed).toBe(epoch1 + epoch2);
    const fx = await chain.advanceEpoch();
    const r = new Map(
      (eventsOf(fx, 'RewardsDistributed') as Extract<ChainEvent, { type: 'RewardsDistributed' }>[]).map((e) => [e.nodeId, e.amount]),
    );
    expect(r.get(nodes[0].nodeId)).toBe((epoch1 * 4n) / 10n);
    expect(r.get(nodes[2].nodeId)).toBe((epoch1 * 2n) / 10n);
    expect(r.get(nodes[3].nodeId)).toBe((epoch1 * 1n) / 10n);
    expect(r.get(nodes[1].nodeId)).toBe(0n);
    // Node 1's 3/10 stays in the system, for epoch 2's distribution.
    const distributed = (epoch1 * 4n) / 10n + (epoch1 * 2n) / 10n + (epoch1 * 1n) / 10n;
    expect((await chain.supplyAudit()).undistributed).toBe(epoch2 + epoch1 - distributed);
    await expectSupplyConserved(chain);
  });
});

async function syncAll(chain: LocalChain, nodes: { operator: Ed25519Keypair; nodeId: string }[]): Promise<void> {
  const s = await chain.systemState();
  if (s.epochState !== 'changeSync') return;
  for (const n of nodes) {
    if (s.committee.members.some((m) => m.nodeId === n.nodeId)) await chain.epochSyncDone(n.operator, n.nodeId, s.epoch);
    if ((await chain.systemState()).epochState === 'active') return;
  }
}
