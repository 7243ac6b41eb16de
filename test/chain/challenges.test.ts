/**
 * Storage challenges on the local chain, end to end through the real code paths: real blobs
 * (encoded, registered, certified with BLS certificates), rounds with injected seeds, answers
 * built from the slivers with real Merkle proofs, commit-then-reveal as signed operator
 * transactions, settlement at the epoch change (withholding, jail, commission burning) and the
 * supply audit.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalChain } from '../../src/chain/local/index.ts';
import { RemoteChain } from '../../src/chain/remote/client.ts';
import { startChainServer } from '../../src/chain/remote/server.ts';
import { encodedBlobLength } from '../../src/chain/local/blobs.ts';
import type { ChallengeAssignment } from '../../src/chain/local/challenges.ts';
import type { ChainEvent } from '../../src/chain/types.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { encodeBlob, type EncodedBlob } from '../../src/codec/encode.ts';
import { answerRound, type HeldSliver } from '../../src/challenge/proof.ts';
import type { ChallengeItem } from '../../src/challenge/sampler.ts';
import { storageConfirmationMessage } from '../../src/protocol/messages.ts';
import { abortCode, certificate, expectSupplyConserved, fundedAccount, setupCommittee, type TestNode } from './local-helpers.ts';

const N = 10;
const cfg = new EncodingConfig(N);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const idBytes = (id: string) => new Uint8Array(Buffer.from(id.slice(2), 'hex'));

let chain: LocalChain;
let nodes: TestNode[];
const blobs = new Map<string, EncodedBlob>();

/** What an honest node holds of `item` (its pair's primary or secondary sliver). */
function held(item: ChallengeItem): HeldSliver | null {
  const enc = blobs.get(hex(item.blobId));
  if (!enc) return null;
  const sliver = item.axis === 'primary' ? enc.primarySlivers[item.pair] : enc.secondarySlivers[N - 1 - item.pair];
  return { cfg, data: sliver.data, metadata: enc.metadata };
}

type Behaviour = (item: ChallengeItem) => HeldSliver | null;

/** Starts a round with a fresh seed and lets every node answer with its behaviour (default honest). */
async function playRound(behaviours: Map<string, Behaviour | 'silent'> = new Map()): Promise<ChallengeAssignment[]> {
  const seed = new Uint8Array(randomBytes(32));
  const { epoch, round } = await chain.startChallengeRound(seed);
  const [info] = (await chain.challengeRounds(epoch)).filter((r) => r.round === round);
  for (const a of info.assignments) {
    const b = behaviours.get(a.nodeId) ?? held;
    if (b === 'silent') continue;
    const node = nodes.find((n) => n.nodeId === a.nodeId)!;
    const { digest, proofs } = answerRound(info.seed, idBytes(a.nodeId), a.items, b);
    await chain.commitChallenge(node.operator, a.nodeId, epoch, round, digest);
    await chain.proveChallenge(node.operator, a.nodeId, epoch, round, proofs);
  }
  return (await chain.challengeRounds(epoch)).find((r) => r.round === round)!.assignments;
}

async function advance(): Promise<ChainEvent[]> {
  const fx = await chain.advanceEpoch();
  const s = await chain.systemState();
  // Shards moved (a jailed node left or came back): every member reports its sync.
  if (s.epochState === 'changeSync')
    for (const m of s.committee.members) await chain.epochSyncDone(nodes.find((n) => n.nodeId === m.nodeId)!.operator, m.nodeId, s.epoch);
  return fx.events.map((e) => e.event);
}

beforeAll(async () => {
  chain = await LocalChain.open({ path: ':memory:', nShards: N, challenges: { symbolsPerRound: 32, commitWindowMs: 2000 } });
  nodes = await setupCommittee(chain, [100n * 10n ** 9n, 100n * 10n ** 9n, 100n * 10n ** 9n, 100n * 10n ** 9n]);
  const alice = await fundedAccount(chain);
  const epoch = (await chain.systemState()).epoch;
  for (const size of [3000, 20_000, 70_000]) {
    const enc = encodeBlob(new Uint8Array(randomBytes(size)), { nShards: N });
    const { blob } = await chain.registerBlob(alice, {
      storage: { size: encodedBlobLength(size, 1, N), epochsAhead: 10 },
      blobId: enc.blobId,
      rootHash: enc.rootHash,
      size,
      encodingType: 1,
      deletable: false,
    });
    await chain.certifyBlob(
      alice,
      blob.id,
      await certificate(chain, nodes, storageConfirmationMessage(epoch, blob.blobId, { kind: 'permanent' })),
    );
    blobs.set(hex(enc.blobId), enc);
  }
  // Blobs certified in the current epoch are not challenged yet (nodes may still be syncing them).
  expect((await chain.startChallengeRound(new Uint8Array(32))).nodes).toBe(0);
  await advance();
});
afterAll(async () => {
  await chain.close();
});

describe('storage challenges on the local chain', () => {
  it('honest nodes pass every round with real proofs, built only from the round as the chain serves it (what a restarted node does)', async () => {
    for (let r = 0; r < 3; r++) {
      const as = await playRound();
      expect(as.length).toBe(4);
      for (const a of as)
        expect({ outcome: a.outcome, absent: a.absent, invalid: a.invalid }).toEqual({ outcome: 'passed', absent: 0, invalid: 0 });
      // Items are byte-weighted over blobs and both axes; the sampler drew real positions.
      for (const a of as)
        for (const i of a.items) expect(i.position).toBeLessThan(i.axis === 'primary' ? cfg.secondarySymbols : cfg.primarySymbols);
    }
    const events = await advance();
    const perf = events.filter((e) => e.type === 'PerformanceApplied');
    expect(perf.map((e) => (e as { withholdingBps: number }).withholdingBps)).toEqual([0, 0, 0, 0]);
    expect(events.some((e) => e.type === 'NodeJailed')).toBe(false);
    await expectSupplyConserved(chain);
  });

  it('catches absent and forged symbols, a digest that does not bind the reveal, silence and a late commit', async () => {
    const [liar, forger, silent, late] = nodes.map((n) => n.nodeId);
    const forge: Behaviour = (item) => {
      const h = held(item)!;
      const data = h.data.slice();
      data[item.position * item.symbolSize] ^= 1; // one flipped bit in the challenged symbol
      return { ...h, data };
    };
    const as = await playRound(
      new Map<string, Behaviour | 'silent'>([
        [liar, (item) => (item.t % 4 === 0 ? null : held(item))],
        [forger, forge],
        [silent, 'silent'],
        [late, 'silent'],
      ]),
    );
    const by = new Map(as.map((a) => [a.nodeId, a]));
    expect(by.get(liar)).toMatchObject({ outcome: 'failed', absent: 8, invalid: 0 });
    expect(by.get(forger)!.outcome).toBe('failed');
    expect(by.get(forger)!.invalid).toBeGreaterThan(0);
    // The late node commits after the window: refused.
    const { epoch, round } = as[0];
    await new Promise((r) => setTimeout(r, 2100));
    const lateNode = nodes[3];
    expect(await abortCode(chain.commitChallenge(lateNode.operator, late, epoch, round, new Uint8Array(32)))).toBe('EChallengeCommitLate');
    // Another operator cannot answer for a node.
    expect(await abortCode(chain.commitChallenge(nodes[0].operator, late, epoch, round, new Uint8Array(32)))).toBe('ENotOwner');

    // Next round: node 0 commits the honest digest but reveals other symbols.
    const seed = new Uint8Array(randomBytes(32));
    const next = await chain.startChallengeRound(seed);
    const info = (await chain.challengeRounds(next.epoch)).find((r) => r.round === next.round)!;
    const a0 = info.assignments.find((a) => a.nodeId === liar)!;
    const honest = answerRound(seed, idBytes(liar), a0.items, held);
    const other = answerRound(seed, idBytes(liar), a0.items, forge);
    await chain.commitChallenge(nodes[0].operator, liar, next.epoch, next.round, honest.digest);
    expect((await chain.proveChallenge(nodes[0].operator, liar, next.epoch, next.round, other.proofs)).outcome).toBe('failed');

    const events = await advance();
    const closed = events.filter((e) => e.type === 'ChallengeResult');
    // The previous round's open assignments were closed when the next started; this one's at the change.
    expect(closed.length).toBeGreaterThan(0);
    const all = (await chain.challengeRounds(epoch)).flatMap((r) => r.assignments);
    expect(all.find((a) => a.round === round && a.nodeId === silent)!.outcome).toBe('missed');
    const jailed = events.filter((e) => e.type === 'NodeJailed').map((e) => (e as { nodeId: string }).nodeId);
    // Node 0: 8 absent items in one round ≥ lossItemsToJail; node 1: forged (invalid) items. Nodes
    // 2 and 3 were only silent: they lose this epoch's reward but passed 3 of 5 rounds over two
    // epochs, so a short outage is not jailed (it is not evidence of data loss).
    expect(new Set(jailed)).toEqual(new Set([liar, forger]));
    const bps = new Map(
      events
        .filter((e) => e.type === 'PerformanceApplied')
        .map((e) => [(e as { nodeId: string }).nodeId, (e as { withholdingBps: number }).withholdingBps]),
    );
    expect([bps.get(silent), bps.get(late)]).toEqual([10_000, 10_000]);
    // The jailed nodes sit out the next committee; reads/writes keep a committee of the others.
    const members = (await chain.committee()).members.map((m) => m.nodeId);
    expect(members.sort()).toEqual([silent, late].sort());
    expect((await chain.challengeStatus(liar)).jailedUntilEpoch).toBe(epoch + 2);

    // The chain server serves the same record, and RemoteChain reads it (commits and proofs are
    // ordinary signed transactions, so they already go through POST /v1/transactions).
    const server = await startChainServer({ chain, port: 0 });
    try {
      const remote = new RemoteChain({ url: server.url });
      expect(await remote.challengeStatus(liar)).toEqual(await chain.challengeStatus(liar));
      expect(await remote.challengeRounds(epoch)).toEqual(await chain.challengeRounds(epoch));
      const s = await remote.challengeStatus(silent, epoch, epoch);
      expect({ scheduled: s.scheduled, passed: s.passed, missed: s.missed, jailed: s.jailedUntilEpoch }).toEqual({
        scheduled: 2,
        passed: 0,
        missed: 2,
        jailed: null,
      });
    } finally {
      await server.close();
    }
    await expectSupplyConserved(chain);
  });
});

describe('storage challenges over many epochs of churn (real chain, real proofs)', () => {
  let alice: Awaited<ReturnType<typeof fundedAccount>>;

  async function storeBlob(size: number, deletable: boolean) {
    const epoch = (await chain.systemState()).epoch;
    const enc = encodeBlob(new Uint8Array(randomBytes(size)), { nShards: N });
    const { blob } = await chain.registerBlob(alice, {
      storage: { size: encodedBlobLength(size, 1, N), epochsAhead: 3 },
      blobId: enc.blobId,
      rootHash: enc.rootHash,
      size,
      encodingType: 1,
      deletable,
    });
    const persistence = deletable ? ({ kind: 'deletable', objectId: idBytes(blob.id) } as const) : ({ kind: 'permanent' } as const);
    await chain.certifyBlob(alice, blob.id, await certificate(chain, nodes, storageConfirmationMessage(epoch, blob.blobId, persistence)));
    blobs.set(hex(enc.blobId), enc);
    return blob;
  }

  beforeAll(async () => {
    await chain.close();
    blobs.clear();
    chain = await LocalChain.open({ path: ':memory:', nShards: N, challenges: { symbolsPerRound: 8 } });
    nodes = await setupCommittee(chain, [100n * 10n ** 9n, 100n * 10n ** 9n, 100n * 10n ** 9n, 100n * 10n ** 9n]);
    alice = await fundedAccount(chain);
    await storeBlob(5000, false);
    await advance();
  });

  it('honest nodes: 0 withholding and 0 jail through blob churn, deletions mid-round, expiries and shards moving', async () => {
    const perf: number[] = [];
    for (let e = 0; e < 8; e++) {
      await storeBlob(2000 + e * 3000, true);
      if (e === 4) {
        // More stake for node 0: shards move at the next change (changeSync, then epochSyncDone).
        await chain.stake(nodes[0].operator, nodes[0].nodeId, 300n * 10n ** 9n);
      }
      for (let r = 0; r < 2; r++) {
        const seed = new Uint8Array(randomBytes(32));
        const { epoch, round } = await chain.startChallengeRound(seed);
        const info = (await chain.challengeRounds(epoch)).find((x) => x.round === round)!;
        // A blob deleted after the round started: its items are waived, even though the honest
        // node already dropped its slivers.
        if (r === 1 && e % 2 === 0) {
          const live = (await chain.ownedObjects(alice.toSuiAddress())).filter(
            (o) => o.kind === 'blob' && o.object.deletable && o.object.certifiedEpoch! < epoch,
          );
          for (const o of live)
            if (o.kind === 'blob') {
              await chain.deleteBlob(alice, o.object.id);
              blobs.delete(hex(o.object.blobId));
            }
        }
        for (const a of info.assignments) {
          const node = nodes.find((n) => n.nodeId === a.nodeId)!;
          const { digest, proofs } = answerRound(info.seed, idBytes(a.nodeId), a.items, held);
          await chain.commitChallenge(node.operator, a.nodeId, epoch, round, digest);
          expect((await chain.proveChallenge(node.operator, a.nodeId, epoch, round, proofs)).outcome).toBe('passed');
        }
      }
      const events = await advance();
      expect(events.filter((x) => x.type === 'NodeJailed')).toEqual([]);
      for (const x of events) if (x.type === 'PerformanceApplied') perf.push(x.withholdingBps);
      await expectSupplyConserved(chain);
    }
    expect(perf.length).toBeGreaterThan(20);
    // The stake change did move shards to node 0 (4 of 10 at least, from 3).
    expect((await chain.committee()).members.find((m) => m.nodeId === nodes[0].nodeId)!.weight).toBeGreaterThan(3);
    expect(perf.every((b) => b === 0)).toBe(true);
  });

  it('a node that loses data in one round of four: 25 % of its reward withheld, jailed, its commission burnt, slashed, supply conserved', async () => {
    const victim = nodes[3];
    const start = await chain.supplyAudit();
    const stakeBefore = (await chain.nodes()).find((n) => n.nodeId === victim.nodeId)!.stake;
    for (let r = 0; r < 4; r++) await playRound(new Map([[victim.nodeId, r === 3 ? () => null : held]]));
    const events = await advance();
    const p = events.find((x) => x.type === 'PerformanceApplied' && x.nodeId === victim.nodeId) as { withholdingBps: number };
    expect(p.withholdingBps).toBe(2500);
    expect(events.some((x) => x.type === 'NodeJailed' && x.nodeId === victim.nodeId && x.reason === 'dataLoss')).toBe(true);
    const burnt = events.find((x) => x.type === 'CommissionBurned' && x.nodeId === victim.nodeId) as { amount: bigint } | undefined;
    expect(burnt?.amount ?? 0n).toBeGreaterThan(0n);
    // Data loss also slashes the pool: slashBps (default 10 %) of the stake active in the epoch.
    const slashed = events.find((x) => x.type === 'NodeSlashed' && x.nodeId === victim.nodeId) as { amount: bigint; reason: string };
    expect(slashed).toMatchObject({ reason: 'dataLoss', amount: stakeBefore / 10n });
    const end = await chain.supplyAudit();
    expect(end.burned - start.burned).toBe(burnt!.amount + slashed.amount);
    expect(end.slashed - start.slashed).toBe(slashed.amount);
    await expectSupplyConserved(chain);
    expect((await chain.committee()).members.map((m) => m.nodeId)).not.toContain(victim.nodeId);
  });

  it('parameters change by a stake-weighted vote of the committee (a quorum of shards), not by a minority', async () => {
    const members = (await chain.committee()).members;
    // The lightest member alone (node 0 holds most shards after its stake grew).
    const lightest = [...members].sort((a, b) => a.weight - b.weight)[0];
    const op = (id: string) => nodes.find((n) => n.nodeId === id)!.operator;
    await chain.voteChallengeParams(op(lightest.nodeId), lightest.nodeId, { symbolsPerRound: 16 });
    expect(
      await abortCode(
        chain.voteChallengeParams(op(lightest.nodeId), members[1].nodeId === lightest.nodeId ? members[0].nodeId : members[1].nodeId, {
          symbolsPerRound: 16,
        }),
      ),
    ).toBe('ENotOwner');
    await expect(chain.voteChallengeParams(op(lightest.nodeId), lightest.nodeId, { symbolsPerRound: -1 })).rejects.toThrow(
      /symbolsPerRound/,
    );
    await advance();
    // One member below a quorum of shards: unchanged.
    expect((await chain.challengeParams()).symbolsPerRound).toBe(8);
    for (const m of (await chain.committee()).members) await chain.voteChallengeParams(op(m.nodeId), m.nodeId, { symbolsPerRound: 16 });
    await advance();
    expect((await chain.challengeParams()).symbolsPerRound).toBe(16);
    const { epoch, round } = await chain.startChallengeRound();
    for (const a of (await chain.challengeRounds(epoch)).find((r) => r.round === round)!.assignments) expect(a.items.length).toBe(16);
  });
});
