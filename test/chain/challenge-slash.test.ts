/**
 * Stake slashing on the local chain, through the real code paths: real blobs and BLS
 * certificates, challenge rounds answered with real Merkle proofs (or not), settlement at the
 * epoch change, and withdrawals valued at the pools' exchange rates. Checks that a slash reaches
 * every staker of the offending node pro rata and no honest pool, that the supply stays exact
 * after every epoch and every withdrawal, that persistent unavailability (an offence again soon
 * after a jail term) is slashed while a first outage is not, that slashBps is set at genesis
 * and changed by the committee's vote, that a pool slashed to nothing pays its old positions 0
 * without diluting new stake, and (seeded runs) that random stakes, withdrawals and data loss keep
 * all of this true epoch after epoch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ed25519Keypair } from '@mysten/sui/keypairs/ed25519';
import { LocalChain } from '../../src/chain/local/index.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { startChainServer } from '../../src/chain/remote/server.ts';
import { toShares, toWal } from '../../src/chain/local/tables.ts';
import type { ChainEvent, ObjectId } from '../../src/chain/types.ts';
import { advanceAndSync, HeldBlobs, type Behaviour } from './challenge-helpers.ts';
import { expectSupplyConserved, fundedAccount, setupCommittee, type TestNode } from './local-helpers.ts';
import { mulberry32 } from '../../src/util/mulberry32.ts';

const N = 10;
const WAL = 10n ** 9n;

let chain: LocalChain;
let nodes: TestNode[];
const blobs = new HeldBlobs(N);

const playEpoch = (behaviour: Map<ObjectId, Behaviour> = new Map()) => blobs.playRounds(chain, nodes, behaviour);

/** Every pool's exchange rate (WAL, shares) at `epoch`. */
function rates(epoch: number): Map<ObjectId, { wal: bigint; shares: bigint }> {
  return chain.readStore((s) => new Map(s.pools().map((p) => [p.nodeId, s.exchangeRate(p.nodeId, epoch)])));
}

const below = (a: { wal: bigint; shares: bigint }, b: { wal: bigint; shares: bigint }) =>
  (a.shares === 0n ? 1n : a.wal) * (b.shares === 0n ? 1n : b.shares) < (b.shares === 0n ? 1n : b.wal) * (a.shares === 0n ? 1n : a.shares);

/** Ends the epoch (members report their sync when shards moved); checks supply and honest pools' rates. */
async function advance(honest: readonly ObjectId[]): Promise<ChainEvent[]> {
  const before = rates((await chain.systemState()).epoch);
  const events = await advanceAndSync(chain, nodes);
  const s = await chain.systemState();
  await expectSupplyConserved(chain);
  const after = rates(s.epoch);
  // An honest pool's exchange rate never falls: no slash ever reaches it.
  for (const id of honest) expect(below(after.get(id)!, before.get(id)!)).toBe(false);
  return events;
}

/** The StakedWal object of `owner` with `nodeId`. */
async function stakedWalOf(owner: Ed25519Keypair, nodeId: ObjectId) {
  const objs = await chain.ownedObjects(owner.toSuiAddress());
  const o = objs.find((x) => x.kind === 'stakedWal' && x.object.nodeId === nodeId);
  if (!o || o.kind !== 'stakedWal') throw new Error('no StakedWal');
  return o.object;
}

let alice: Ed25519Keypair, bob: Ed25519Keypair, carol: Ed25519Keypair;

beforeAll(async () => {
  chain = await LocalChain.open({ path: ':memory:', nShards: N, challenges: { symbolsPerRound: 8, slashBps: 2000 } });
  expect((await chain.challengeParams()).slashBps).toBe(2000); // set at genesis
  nodes = await setupCommittee(chain, [100n * WAL, 100n * WAL, 100n * WAL, 100n * WAL]);
  [alice, bob, carol] = await Promise.all([fundedAccount(chain), fundedAccount(chain), fundedAccount(chain)]);
  // Delegators: Alice and Bob with the node that will lose data, Carol with an honest one.
  await chain.stake(alice, nodes[3].nodeId, 50n * WAL);
  await chain.stake(bob, nodes[3].nodeId, 150n * WAL);
  await chain.stake(carol, nodes[0].nodeId, 100n * WAL);
  await blobs.store(chain, nodes, [3000, 20_000, 70_000]);
  await advance(nodes.map((n) => n.nodeId));
}, 60_000);

afterAll(async () => {
  await chain.close();
});

describe('stake slashing', () => {
  it('proven data loss slashes every staker of that node pro rata, no honest pool; withdrawals pay the reduced value', async () => {
    const faulty = nodes[3].nodeId;
    const honest = nodes.slice(0, 3).map((n) => n.nodeId);
    await playEpoch();
    let events = await advance(nodes.map((n) => n.nodeId));
    expect(events.filter((e) => e.type === 'NodeSlashed' || e.type === 'NodeJailed')).toEqual([]);

    // Bob and Carol ask to leave during the offending epoch: Bob still bears the slash.
    const bobStake = await stakedWalOf(bob, faulty);
    const carolStake = await stakedWalOf(carol, nodes[0].nodeId);
    await chain.requestWithdrawStake(bob, bobStake.id);
    await chain.requestWithdrawStake(carol, carolStake.id);
    await playEpoch(new Map([[faulty, 'lost']]));
    const poolBefore = chain.readStore((s) => s.getPool(faulty)!);
    const offending = (await chain.systemState()).epoch;
    const auditBefore = await chain.supplyAudit();
    events = await advance(honest);
    const slashes = events.filter((e) => e.type === 'NodeSlashed');
    expect(slashes).toEqual([
      { type: 'NodeSlashed', epoch: offending, nodeId: faulty, reason: 'dataLoss', amount: (poolBefore.walBalance * 2000n) / 10_000n },
    ]);
    const amount = (slashes[0] as { amount: bigint }).amount;
    const auditAfter = await chain.supplyAudit();
    expect(auditAfter.slashed - auditBefore.slashed).toBe(amount);
    expect(auditAfter.burned - auditBefore.burned).toBeGreaterThanOrEqual(amount);
    expect(events.some((e) => e.type === 'NodeJailed' && e.nodeId === faulty)).toBe(true);

    // Withdrawals at epoch e: Bob (requested), Alice (one step: the jailed node is out of the committee).
    const e = (await chain.systemState()).epoch;
    const rateA = chain.readStore((s) => s.exchangeRate(faulty, bobStake.activationEpoch));
    const rateW = chain.readStore((s) => s.exchangeRate(faulty, e));
    // What the positions are worth now, as the chain and its server report it: what they pay.
    const bobValue = await chain.stakedWalValue(bobStake.id);
    const aliceValue = await chain.stakedWalValue((await stakedWalOf(alice, faulty)).id);
    const server = await startChainServer({ chain, port: 0 });
    try {
      expect(await new RemoteChain({ url: server.url }).stakedWalValue(bobStake.id)).toEqual(bobValue);
      expect(await new RemoteChain({ url: server.url }).stakedWalValue(carolStake.nodeId)).toBeNull();
    } finally {
      await server.close();
    }
    expect(bobValue).toMatchObject({ state: 'withdrawing', principal: 150n * WAL, valuedAtEpoch: e });
    expect(aliceValue).toMatchObject({ state: 'active', principal: 50n * WAL, valuedAtEpoch: e });
    const bobPaid = (await chain.withdrawStake(bob, bobStake.id)).amount;
    expect(bobPaid).toBe(bobValue!.value);
    await expectSupplyConserved(chain);
    const aliceStake = await stakedWalOf(alice, faulty);
    const alicePaid = (await chain.withdrawStake(alice, aliceStake.id)).amount;
    expect(alicePaid).toBe(aliceValue!.value);
    await expectSupplyConserved(chain);
    expect(bobPaid).toBe(toWal(rateW, toShares(rateA, 150n * WAL)));
    expect(alicePaid).toBe(toWal(rateW, toShares(rateA, 50n * WAL)));
    // Pro rata: the same fraction of each position (within rounding), about 80 % of the principal.
    expect(bobPaid - 3n * alicePaid).toBeGreaterThanOrEqual(-4n);
    expect(bobPaid - 3n * alicePaid).toBeLessThanOrEqual(4n);
    expect(bobPaid).toBeLessThan(150n * WAL);
    expect(Number(bobPaid) / Number(150n * WAL)).toBeGreaterThan(0.79);
    expect(Number(bobPaid) / Number(150n * WAL)).toBeLessThan(0.81);
    // The honest pool's staker is paid in full, with rewards.
    const carolPaid = (await chain.withdrawStake(carol, carolStake.id)).amount;
    expect(carolPaid).toBeGreaterThanOrEqual(100n * WAL);
    await expectSupplyConserved(chain);
  });

  it('a first outage jails without slashing; unavailability again right after the jail term is slashed (persistent failure)', async () => {
    const flaky = nodes[2].nodeId;
    const others = [nodes[0].nodeId, nodes[1].nodeId];
    // Node 3 is jailed this epoch; node 2 goes silent: 2 of 4 rounds passed over two epochs.
    await playEpoch(new Map([[flaky, 'silent']]));
    let events = await advance(others);
    expect(events.some((e) => e.type === 'NodeJailed' && e.nodeId === flaky && e.reason === 'unavailable')).toBe(true);
    expect(events.filter((e) => e.type === 'NodeSlashed')).toEqual([]);
    // Node 2 sits out; node 3 is back and honest.
    await playEpoch();
    events = await advance(others);
    expect(events.filter((e) => e.type === 'NodeSlashed' || e.type === 'NodeJailed')).toEqual([]);
    expect((await chain.committee()).members.map((m) => m.nodeId)).toContain(flaky);
    // Back, and silent again: slashed.
    const stakeBefore = chain.readStore((s) => s.getPool(flaky)!.walBalance);
    await playEpoch(new Map([[flaky, 'silent']]));
    events = await advance(others);
    expect(events.filter((e) => e.type === 'NodeSlashed')).toEqual([
      expect.objectContaining({ nodeId: flaky, reason: 'persistentFailure', amount: (stakeBefore * 2000n) / 10_000n }),
    ]);
  });

  it('the committee changes slashBps by a stake-weighted vote; 0 turns slashing off', async () => {
    for (const m of (await chain.committee()).members)
      await chain.voteChallengeParams(nodes.find((n) => n.nodeId === m.nodeId)!.operator, m.nodeId, { slashBps: 0 });
    await chain.advanceEpoch();
    expect((await chain.challengeParams()).slashBps).toBe(0);
    await expect(chain.voteChallengeParams(nodes[0].operator, nodes[0].nodeId, { slashBps: 10_001 })).rejects.toThrow(/slashBps/);
  });
});

describe('a pool slashed to nothing', () => {
  it('pays its old positions 0, even once new stake refills it; the new stake is not diluted; supply exact', async () => {
    await chain.close();
    chain = await LocalChain.open({ path: ':memory:', nShards: N, challenges: { symbolsPerRound: 8, slashBps: 10_000 } });
    nodes = await setupCommittee(chain, [100n * WAL, 100n * WAL, 100n * WAL, 100n * WAL]);
    const dave = await fundedAccount(chain);
    const erin = await fundedAccount(chain);
    const wiped = nodes[3].nodeId;
    await chain.stake(dave, wiped, 40n * WAL);
    blobs.blobs.clear();
    await blobs.store(chain, nodes, [5000, 30_000]);
    await advance(nodes.map((n) => n.nodeId));
    await playEpoch(new Map([[wiped, 'lost']]));
    const all = chain.readStore((st) => st.getPool(wiped)!.walBalance); // 140 WAL and an epoch's rewards
    expect(all).toBeGreaterThan(140n * WAL);
    const events = await advance(nodes.slice(0, 3).map((n) => n.nodeId));
    expect(events.find((e) => e.type === 'NodeSlashed')).toMatchObject({ nodeId: wiped, amount: all });
    expect(chain.readStore((st) => st.getPool(wiped)!.walBalance)).toBe(0n);
    // Dave leaves (one step: the node is out of the committee): nothing left.
    expect((await chain.withdrawStake(dave, (await stakedWalOf(dave, wiped)).id)).amount).toBe(0n);
    await expectSupplyConserved(chain);
    // Erin stakes with the emptied pool; it is back in the committee when her stake is active.
    const { stakedWal } = await chain.stake(erin, wiped, 100n * WAL);
    await playEpoch();
    await advance(nodes.slice(0, 3).map((n) => n.nodeId));
    // The refilled pool holds exactly Erin's stake (Dave's worthless shares took nothing out).
    expect(chain.readStore((st) => st.getPool(wiped)!.walBalance)).toBe(100n * WAL);
    expect((await chain.committee()).members.map((m) => m.nodeId)).toContain(wiped);
    await chain.requestWithdrawStake(erin, stakedWal.id);
    await playEpoch();
    await advance(nodes.map((n) => n.nodeId));
    const erinPaid = (await chain.withdrawStake(erin, stakedWal.id)).amount;
    expect(erinPaid).toBeGreaterThanOrEqual(100n * WAL);
    await expectSupplyConserved(chain);
    // The operator's old position is still worth nothing (the refilled pool was Erin's; with her
    // stake gone the node is out of the committee, so it leaves in one step).
    expect((await chain.committee()).members.map((m) => m.nodeId)).not.toContain(wiped);
    const opStake = await stakedWalOf(nodes[3].operator, wiped);
    expect((await chain.withdrawStake(nodes[3].operator, opStake.id)).amount).toBe(0n);
    await expectSupplyConserved(chain);
    await advance(nodes.slice(0, 3).map((n) => n.nodeId));
    expect((await chain.supplyAudit()).slashed).toBe(all);
  });
});

describe('seeded runs over the real chain: random stakes, withdrawals and data loss', () => {
  it('every epoch: supply exact, only the offending pools lose exactly slashBps, every payout is its shares at the rate', async () => {
    let slashes = 0,
      belowPrincipal = 0;
    for (let run = 0; run < 4; run++) {
      const rand = mulberry32(500 + run);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
      const slashBps = 500 + Math.floor(rand() * 4500);
      await chain.close();
      chain = await LocalChain.open({ path: ':memory:', nShards: N, challenges: { symbolsPerRound: 4, lossItemsToJail: 4, slashBps } });
      nodes = await setupCommittee(
        chain,
        Array.from({ length: 4 }, () => BigInt(50 + Math.floor(rand() * 100)) * WAL),
      );
      const stakers = await Promise.all(Array.from({ length: 5 }, () => fundedAccount(chain)));
      // Every pool has a delegator from the start.
      for (const [i, k] of stakers.entries())
        await chain.stake(k, nodes[i % nodes.length].nodeId, BigInt(1 + Math.floor(rand() * 80)) * WAL);
      blobs.blobs.clear();
      await blobs.store(chain, nodes, [2000, 9000], 20);
      await advanceAndSync(chain, nodes);
      for (let e = 0; e < 5; e++) {
        const epoch = (await chain.systemState()).epoch;
        const members = (await chain.committee()).members.map((m) => m.nodeId);
        // Now and then one member loses its data this epoch.
        const lost = rand() < 0.5 ? pick(members) : undefined;
        // Stakers come and go: request a withdrawal, withdraw, or stake more.
        for (const k of stakers) {
          const r = rand();
          const mine = (await chain.ownedObjects(k.toSuiAddress())).flatMap((o) => (o.kind === 'stakedWal' ? [o.object] : []));
          const s = mine.length ? pick(mine) : undefined;
          if (r < 0.3 && s) {
            const canTake =
              s.withdrawableEpoch !== null ? s.withdrawableEpoch <= epoch : !members.includes(s.nodeId) || s.activationEpoch > epoch;
            if (canTake) {
              const rateW = chain.readStore((st) => st.exchangeRate(s.nodeId, s.withdrawableEpoch ?? epoch));
              const rateA = chain.readStore((st) => st.exchangeRate(s.nodeId, s.activationEpoch));
              const paid = (await chain.withdrawStake(k, s.id)).amount;
              if (s.activationEpoch > epoch) expect(paid).toBe(s.principal);
              else if (below(rateW, rateA)) {
                expect(paid).toBeLessThanOrEqual(toWal(rateW, toShares(rateA, s.principal)));
                expect(paid).toBeLessThan(s.principal);
                belowPrincipal++;
              } else expect(paid).toBeGreaterThanOrEqual(s.principal);
            } else if (s.withdrawableEpoch === null && s.activationEpoch <= epoch) await chain.requestWithdrawStake(k, s.id);
          } else if (r < 0.45) await chain.stake(k, pick(nodes).nodeId, BigInt(1 + Math.floor(rand() * 40)) * WAL);
          await expectSupplyConserved(chain);
        }
        await blobs.playRounds(chain, nodes, new Map(lost ? [[lost, 'lost' as const]] : []), 1);
        const pools = new Map(chain.readStore((st) => st.pools()).map((p) => [p.nodeId, p]));
        const before = rates(epoch);
        const events = await advanceAndSync(chain, nodes);
        await expectSupplyConserved(chain);
        const slashed = new Map(events.flatMap((x) => (x.type === 'NodeSlashed' ? [[x.nodeId, x.amount] as const] : [])));
        // Only a node that lost data is slashed (a node passing every round never is), by exactly slashBps.
        slashes += slashed.size;
        for (const [id, amount] of slashed) {
          expect(id).toBe(lost);
          expect(amount).toBe((pools.get(id)!.walBalance * BigInt(slashBps)) / 10_000n);
        }
        const after = rates(epoch + 1);
        for (const id of members)
          if (!slashed.has(id)) expect(below(after.get(id)!, before.get(id)!), `run ${run} epoch ${epoch}`).toBe(false);
      }
      // Everyone leaves: requests now, withdrawals after the change; each pays the value the chain reported.
      const positions = async () =>
        (
          await Promise.all(
            stakers.map(async (k) =>
              (await chain.ownedObjects(k.toSuiAddress())).flatMap((o) => (o.kind === 'stakedWal' ? [{ k, s: o.object }] : [])),
            ),
          )
        ).flat();
      let epoch = (await chain.systemState()).epoch;
      let members = (await chain.committee()).members.map((m) => m.nodeId);
      for (const { k, s } of await positions())
        if (s.withdrawableEpoch === null && s.activationEpoch <= epoch && members.includes(s.nodeId))
          await chain.requestWithdrawStake(k, s.id);
      await advanceAndSync(chain, nodes);
      epoch = (await chain.systemState()).epoch;
      members = (await chain.committee()).members.map((m) => m.nodeId);
      for (const { k, s } of await positions()) {
        const canTake =
          s.withdrawableEpoch !== null ? s.withdrawableEpoch <= epoch : !members.includes(s.nodeId) || s.activationEpoch > epoch;
        if (!canTake) continue;
        const v = (await chain.stakedWalValue(s.id))!;
        const paid = (await chain.withdrawStake(k, s.id)).amount;
        expect(paid).toBe(v.value);
        if (paid < s.principal) belowPrincipal++;
        await expectSupplyConserved(chain);
      }
    }
    // The runs did slash, and stakers did withdraw from slashed pools.
    expect(slashes).toBeGreaterThan(2);
    expect(belowPrincipal).toBeGreaterThan(0);
  }, 240_000);
});
