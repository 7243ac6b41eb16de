/**
 * The storage node's challenge responder, in process: the LocalChain and five real nodes (SQLite
 * stores, HTTP on loopback, one codec pool), real blobs stored by the client, rounds started on
 * the chain. Honest nodes answer from their stores and pass (including one that was down when the
 * round started and answers once restarted); a node with the drop fault really lost slivers
 * (deleted, and refused when written back) and fails with absent items; a lying node fails with
 * invalid items; a late node misses the commit window. The epoch change then jails the offenders
 * and withholds nothing from the honest nodes. The fault grammar is checked here too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChallengeRoundInfo } from '../../src/chain/types.ts';
import { storeBlob } from '../../src/client/store-blob.ts';
import { encodeBlob } from '../../src/codec/encode.ts';
import { droppedByFault, formatNodeFaults, parseNodeFaults } from '../../src/node/faults.ts';
import { startLocalNetwork, type LocalNetwork } from './local-network.ts';
import { randomBytes } from '../helpers/blobs.ts';
import { ChainUnavailableError } from '../../src/errors.ts';

const nShards = 10;
let net: LocalNetwork;
const LATE = 1;
const LIE = 2;
const DROP = 3;
const RESTARTED = 4;

beforeAll(async () => {
  net = await startLocalNetwork({
    nShards,
    nodes: 5,
    challenges: { symbolsPerRound: 32, commitWindowMs: 3000, proofWindowMs: 15_000 },
    nodeOptions: { challengePollMs: 300 },
    perNode: (i) =>
      i === LATE ? { faults: { lateMs: 4000 } } : i === LIE ? { faults: { lie: true } } : i === DROP ? { faults: { drop: 0.5 } } : {},
  });
}, 60_000);

afterAll(() => net?.close());

/** Waits until every assignment of round `round` has an outcome or `until` holds; returns the round. */
async function waitRound(round: number, until: (r: ChallengeRoundInfo) => boolean, ms = 20_000): Promise<ChallengeRoundInfo> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = (await net.chain.challengeRounds()).find((x) => x.round === round)!;
    if (until(r)) return r;
    if (Date.now() > deadline)
      throw new Error(`round ${round} did not settle: ${JSON.stringify(r.assignments.map((a) => [a.nodeId, a.committed, a.outcome]))}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

describe('challenge responder', () => {
  it('honest nodes pass, faulty ones fail or miss, and the epoch change jails the offenders', async () => {
    const { chain, nodes, user, pool } = net;
    const blobs = [randomBytes(3000, 1), randomBytes(20_000, 2), randomBytes(70_000, 3)];
    for (const data of blobs) {
      const stored = await storeBlob(data, { chain, signer: user, epochs: 5, pool, retries: 0, nodeTimeoutMs: 5000 });
      await stored.background;
    }
    // Blobs are challengeable from the epoch after their certification.
    await chain.advanceEpoch();
    for (const n of nodes) await n.sync();
    expect((await chain.systemState()).epochState).toBe('active');

    // The drop fault deletes its half of the certified slivers and refuses them back.
    // (Its 2 s timer may have swept already under load, so dropNow() may find nothing left: the
    // check is that the selected slivers are gone, below.)
    expect(nodes[DROP].dropNow()).not.toBeNull();
    const mine = (await chain.committee()).members.find((m) => m.nodeId === nodes[DROP].nodeId)!;
    // Every blob's selected slivers of the node's shards (3 blobs × 2 shards × 2 axes, half selected).
    const gone = blobs
      .map((data) => encodeBlob(data, { nShards }).blobId)
      .flatMap((blobId) =>
        mine.shards.flatMap((s) =>
          (['primary', 'secondary'] as const).map((axis) => ({ blobId, pair: nodes[DROP].service.pairOfShard(blobId, s), axis })),
        ),
      )
      .filter(({ blobId, pair, axis }) => droppedByFault(nodes[DROP].nodeId, 0.5, blobId, pair, axis));
    expect(gone.length).toBeGreaterThan(0);
    for (const { blobId, pair, axis } of gone) {
      expect(nodes[DROP].service.store.hasSliver(blobId, pair, axis)).toBe(false);
      expect(nodes[DROP].service.store.putSliver(blobId, pair, axis, new Uint8Array([0, 0, 0, 0, 0]))).toBe('stored');
      expect(nodes[DROP].service.store.hasSliver(blobId, pair, axis)).toBe(false);
    }

    // Round 0: the nodes learn of it from their followers and answer on their own.
    const { round: r0 } = await chain.startChallengeRound();
    const settled = await waitRound(r0, (r) => r.assignments.every((a) => a.outcome !== null || a.nodeId === nodes[LATE].nodeId));
    const byNode = (r: ChallengeRoundInfo, i: number) => r.assignments.find((a) => a.nodeId === nodes[i].nodeId)!;
    for (const i of [0, RESTARTED]) expect(byNode(settled, i)).toMatchObject({ outcome: 'passed', absent: 0, invalid: 0 });
    expect(byNode(settled, DROP).outcome).toBe('failed');
    expect(byNode(settled, DROP).absent).toBeGreaterThan(0);
    expect(byNode(settled, LIE).outcome).toBe('failed');
    expect(byNode(settled, LIE).invalid).toBeGreaterThan(0);
    // The late node sleeps through the commit window, then is refused.
    await new Promise((res) => setTimeout(res, 4500));
    expect(
      byNode(
        (await chain.challengeRounds()).find((x) => x.round === r0)!,
        LATE,
      ).committed,
    ).toBe(false);

    // Round 1 starts while a node is down; restarted inside the window, it still answers.
    await nodes[RESTARTED].close();
    const { round: r1 } = await chain.startChallengeRound();
    expect(
      byNode(
        (await chain.challengeRounds()).find((x) => x.round === r0)!,
        LATE,
      ).outcome,
    ).toBe('missed');
    nodes[RESTARTED] = await net.start(RESTARTED);
    const second = await waitRound(r1, (r) => [0, RESTARTED, DROP, LIE].every((i) => byNode(r, i).outcome !== null));
    expect(byNode(second, RESTARTED).outcome).toBe('passed');
    expect(byNode(second, 0).outcome).toBe('passed');

    // Metrics in the node's health.
    const health = (await (await fetch(`${nodes[0].url}/v1/health`)).json()) as { success: { data: { challenges: unknown } } };
    expect(health.success.data.challenges).toMatchObject({ passed: 2, failed: 0, missed: 0 });
    expect(nodes[DROP].challenges()).toMatchObject({ failed: 2 });

    // Settlement: the offenders are jailed, the honest nodes keep their whole reward.
    const fx = await chain.advanceEpoch();
    const events = fx.events.map((e) => e.event);
    const perf = (i: number) =>
      events.find((e) => e.type === 'PerformanceApplied' && e.nodeId === nodes[i].nodeId) as { withholdingBps: number };
    expect(perf(0).withholdingBps).toBe(0);
    expect(perf(RESTARTED).withholdingBps).toBe(0);
    expect(perf(DROP).withholdingBps).toBe(10_000);
    const jailed = events.filter((e) => e.type === 'NodeJailed').map((e) => (e as { nodeId: string; reason: string }).nodeId);
    expect(jailed).toEqual(expect.arrayContaining([nodes[DROP].nodeId, nodes[LIE].nodeId, nodes[LATE].nodeId]));
    expect(jailed).not.toContain(nodes[0].nodeId);
    expect(jailed).not.toContain(nodes[RESTARTED].nodeId);
    const next = await chain.committee();
    expect(next.members.map((m) => m.nodeId).sort()).toEqual([nodes[0].nodeId, nodes[RESTARTED].nodeId].sort());
  }, 120_000);
});

describe('a node that crashes between commit and proof', () => {
  let net2: LocalNetwork;
  afterAll(() => net2?.close());

  it('reveals what it committed after a restart, even for a blob deleted in between (the item is waived)', async () => {
    net2 = await startLocalNetwork({
      nShards,
      nodes: 4,
      challenges: { symbolsPerRound: 32, commitWindowMs: 5000, proofWindowMs: 60_000 },
      nodeOptions: { challengePollMs: 300 },
    });
    const { chain, nodes, user, pool } = net2;
    await (
      await storeBlob(randomBytes(4000, 11), { chain, signer: user, epochs: 5, pool })
    ).background;
    // The big deletable blob carries nearly all the weight: the node's items fall on it.
    const big = await storeBlob(randomBytes(150_000, 12), { chain, signer: user, epochs: 5, pool, deletable: true });
    await big.background;
    await chain.advanceEpoch();
    for (const n of nodes) await n.sync();

    // Node 1's proofs never reach the chain (as if it died right after committing).
    const C = 1;
    await nodes[C].close();
    const failing = new Proxy(chain, {
      get(target, prop, receiver) {
        if (prop === 'proveChallenge') return async () => Promise.reject(new ChainUnavailableError('injected: chain unreachable'));
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    nodes[C] = await net2.start(C, { chain: failing, onError: () => {} });
    const { round } = await chain.startChallengeRound();
    const mine = async () =>
      (await chain.challengeRounds()).find((r) => r.round === round)!.assignments.find((a) => a.nodeId === nodes[C].nodeId)!;
    const deadline = Date.now() + 10_000;
    while (!(await mine()).committed) {
      if (Date.now() > deadline) throw new Error('node 1 did not commit');
      await new Promise((r) => setTimeout(r, 100));
    }
    await nodes[C].close();
    const bigId = encodeBlob(randomBytes(150_000, 12), { nShards }).blobId;
    expect((await mine()).items.some((it) => Buffer.from(it.blobId).equals(Buffer.from(bigId)))).toBe(true);

    // The blob is deleted while the node is down: its slivers are gone when it comes back.
    await chain.deleteBlob(user, big.blobObjectId);
    nodes[C] = await net2.start(C);
    await nodes[C].sync();
    const deadline2 = Date.now() + 15_000;
    while ((await mine()).outcome === null) {
      if (Date.now() > deadline2) throw new Error('node 1 did not prove after its restart');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(nodes[C].service.store.hasMetadata(bigId)).toBe(false);
    expect(await mine()).toMatchObject({ outcome: 'passed', absent: 0, invalid: 0 });
  }, 60_000);
});

describe('fault spec', () => {
  it('parses and formats each fault', () => {
    expect(parseNodeFaults('drop=0.3,late=5s')).toEqual({ drop: 0.3, lateMs: 5000 });
    expect(parseNodeFaults('drop=25%,lie,offline=20s@30s/2m')).toEqual({
      drop: 0.25,
      lie: true,
      offline: { durationMs: 20_000, startMs: 30_000, periodMs: 120_000 },
    });
    const f = parseNodeFaults('drop=0.5,late=1500ms,lie,offline=10s');
    expect(parseNodeFaults(formatNodeFaults(f))).toEqual(f);
  });

  it('refuses bad specs with a clear error', () => {
    expect(() => parseNodeFaults('drop=1.5')).toThrow(/fraction must be in \(0, 1\]/);
    expect(() => parseNodeFaults('drop=0')).toThrow(/fraction/);
    expect(() => parseNodeFaults('late=soon')).toThrow(/not a duration/);
    expect(() => parseNodeFaults('slow=1s')).toThrow(/unknown fault "slow"/);
    expect(() => parseNodeFaults('lie=yes')).toThrow(/takes no value/);
    expect(() => parseNodeFaults('drop=0.1,drop=0.2')).toThrow(/given twice/);
    expect(() => parseNodeFaults('offline=5s/3s')).toThrow(/period must be longer/);
    expect(() => parseNodeFaults('')).toThrow(/empty fault spec/);
  });

  it('the drop selection is stable and close to the fraction', () => {
    let hits = 0;
    const blob = new Uint8Array(32).fill(7);
    for (let pair = 0; pair < 2000; pair++) if (droppedByFault('0xabc', 0.3, blob, pair, 'primary')) hits++;
    expect(hits / 2000).toBeGreaterThan(0.25);
    expect(hits / 2000).toBeLessThan(0.35);
    expect(droppedByFault('0xabc', 0.3, blob, 5, 'secondary')).toBe(droppedByFault('0xabc', 0.3, blob, 5, 'secondary'));
  });
});
